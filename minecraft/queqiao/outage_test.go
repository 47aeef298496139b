package queqiao

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.b.String()), "\n")
}

// A server that stays down for two minutes (of fake time) costs a handful of
// log lines, not one per redial.
func TestDownServerLogsFewLines(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens here: every dial is refused at once

	synctest.Test(t, func(t *testing.T) {
		var logs lockedLog
		c, err := New(Options{Name: "survival", URL: "ws://" + dead,
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); _ = c.Run(t.Context()) }()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		lines := logs.lines()
		if len(lines) > 8 {
			t.Fatalf("%d log lines in 2 minutes down:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		if c.State().Up() || !strings.Contains(c.State().Get().LastError, "refused") {
			t.Fatalf("state %+v", c.State().Get())
		}
		t.Logf("%d log line(s) in 2 minutes: %s", len(lines), strings.Join(lines, " | "))
	})
}

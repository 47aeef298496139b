package queqiao

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcqq/bridge/internal/testutil"
)

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
		var logs testutil.LogBuffer
		c, err := New(Options{Name: "survival", URL: "ws://" + dead,
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); _ = c.Run(t.Context()) }()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		lines := logs.Lines()
		if len(lines) > 8 {
			t.Fatalf("%d log lines in 2 minutes down:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		if c.State().Up() || !strings.Contains(c.State().Get().LastError, "refused") {
			t.Fatalf("state %+v", c.State().Get())
		}
		t.Logf("%d log line(s) in 2 minutes: %s", len(lines), strings.Join(lines, " | "))
	})
}

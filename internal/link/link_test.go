package link

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/mcqq/bridge/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A peer down for two minutes costs a handful of log lines, not one per
// attempt, and the attempts back off exponentially up to a minute.
func TestSuperviseLogsStateChangesNotAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs testutil.LogBuffer
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		var st State
		var mu sync.Mutex
		var attempts []time.Time
		down := true
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			Supervise(ctx, log, &st, func(ctx context.Context, up func()) error {
				mu.Lock()
				attempts = append(attempts, time.Now())
				isDown := down
				mu.Unlock()
				if isDown {
					return errors.New("connection refused")
				}
				up()
				<-ctx.Done()
				return nil
			})
		}()

		start := time.Now()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if st.Up() {
			t.Fatal("state up while the peer is down")
		}
		if got := st.Get().LastError; got != "connection refused" {
			t.Fatalf("LastError = %q", got)
		}
		mu.Lock()
		n := len(attempts)
		gaps := make([]time.Duration, 0, n)
		for i := 1; i < n; i++ {
			gaps = append(gaps, attempts[i].Sub(attempts[i-1]))
		}
		down = false
		mu.Unlock()
		// 1+2+4+8+16+32+60 s with jitter in [d/2, d): between 5 and 11 tries in 2 min.
		if n < 5 || n > 11 {
			t.Fatalf("%d attempts in 2 minutes (gaps %v)", n, gaps)
		}
		for i, g := range gaps {
			if g > MaxBackoff {
				t.Fatalf("gap %d = %v, above the 60 s cap", i, g)
			}
		}
		if lines := logs.Lines(); len(lines) > 2 {
			t.Fatalf("%d log lines while down:\n%s", len(lines), strings.Join(lines, "\n"))
		}

		// The peer comes back: one line says so, with the attempt count.
		time.Sleep(MaxBackoff)
		synctest.Wait()
		if !st.Up() {
			t.Fatal("not up after the peer came back")
		}
		lines := logs.Lines()
		last := lines[len(lines)-1]
		if !strings.Contains(last, "connected") {
			t.Fatalf("last line %q, want the connection noted", last)
		}
		if total := len(lines); total > 8 {
			t.Fatalf("%d log lines over %v", total, time.Since(start))
		}
		cancel()
		<-done
		if st.Up() {
			t.Fatal("state still up after Supervise returned")
		}
	})
}

// After a connection that stayed up for a while drops, the next attempt comes
// after about a second, not after the backoff reached before.
func TestSuperviseResetsBackoffAfterStableConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var st State
		var mu sync.Mutex
		var attempts []time.Time
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go Supervise(ctx, slog.New(slog.DiscardHandler), &st, func(ctx context.Context, up func()) error {
			mu.Lock()
			attempts = append(attempts, time.Now())
			n := len(attempts)
			mu.Unlock()
			switch {
			case n <= 5: // fail five times: backoff grows to 16-32 s
				return errors.New("refused")
			case n == 6: // then stay up for an hour and drop
				up()
				select {
				case <-time.After(time.Hour):
				case <-ctx.Done():
				}
				return errors.New("reset by peer")
			}
			up()
			<-ctx.Done()
			return nil
		})
		time.Sleep(3 * time.Hour)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(attempts) < 7 {
			t.Fatalf("%d attempts", len(attempts))
		}
		if gap := attempts[6].Sub(attempts[5]) - time.Hour; gap > MinBackoff {
			t.Fatalf("redial %v after a stable hour, want ≤ %v", gap, MinBackoff)
		}
	})
}

func TestStateWaitUpAndChanged(t *testing.T) {
	var st State
	ch := st.Changed()
	done := make(chan error, 1)
	go func() { done <- st.WaitUp(t.Context()) }()
	st.Set(true, nil)
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Changed not closed")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st.Set(false, errors.New("gone"))
	snap := st.Get()
	if snap.Up || snap.LastError != "gone" || snap.Since.IsZero() {
		t.Fatalf("snapshot %+v", snap)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := st.WaitUp(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitUp on a down link with a done ctx = %v", err)
	}
}

// The wait before a redial is "equal jitter": at least half the backoff and
// always below it, so the 60 s cap is never reached or passed.
func TestJitterStaysBelowTheBackoff(t *testing.T) {
	for _, d := range []time.Duration{1, 2, 3, 4, 5, MinBackoff, MaxBackoff} {
		for range 200 {
			if got := jitter(d); got < d/2 || got >= d {
				t.Fatalf("jitter(%v) = %v, want in [%v, %v)", d, got, d/2, d)
			}
		}
	}
}

// A connection that stays down is reported again every five minutes: one
// line saying how long, the last error and the hint, not one per attempt.
// Once it is back, the reminders stop.
func TestSuperviseRemindsWhileDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs testutil.LogBuffer
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		var st State
		st.SetHint(func(err error) string {
			if strings.Contains(err.Error(), "refused") {
				return "is the bot's WebSocket server enabled on port 3001?"
			}
			return ""
		})
		var mu sync.Mutex
		down := true
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			Supervise(ctx, log, &st, func(ctx context.Context, up func()) error {
				mu.Lock()
				isDown := down
				mu.Unlock()
				if isDown {
					return errors.New("dial tcp 127.0.0.1:3001: connection refused")
				}
				up()
				<-ctx.Done()
				return nil
			})
		}()

		time.Sleep(32 * time.Minute)
		synctest.Wait()
		lines := logs.Lines()
		if len(lines) != 7 {
			t.Fatalf("%d lines in 32 minutes down, want the first failure and 6 reminders:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		if !strings.Contains(lines[0], "cannot connect") || !strings.Contains(lines[0], "port 3001?") {
			t.Errorf("first line without the hint: %s", lines[0])
		}
		for i, l := range lines[1:] {
			want := fmt.Sprintf("for=%dm0s", 5*(i+1))
			if !strings.Contains(l, "still not connected") || !strings.Contains(l, want) ||
				!strings.Contains(l, "connection refused") || !strings.Contains(l, "port 3001?") {
				t.Errorf("reminder %d = %s, want %s with the error and the hint", i+1, l, want)
			}
		}
		if snap := st.Get(); snap.Hint != "is the bot's WebSocket server enabled on port 3001?" {
			t.Errorf("snapshot hint %q", snap.Hint)
		}

		mu.Lock()
		down = false
		mu.Unlock()
		time.Sleep(time.Hour)
		synctest.Wait()
		if !st.Up() || st.Get().Hint != "" {
			t.Fatalf("state %+v after the peer came back", st.Get())
		}
		lines = logs.Lines()
		if len(lines) != 8 || !strings.Contains(lines[7], "msg=connected") {
			t.Fatalf("after coming back:\n%s", strings.Join(lines, "\n"))
		}
		cancel()
		<-done
	})
}

// Explain gives the installed hint for an error without recording it, and
// nothing before one is installed.
func TestExplain(t *testing.T) {
	var st State
	refused := errors.New("dial tcp 127.0.0.1:3001: connection refused")
	if got := st.Explain(refused); got != "" {
		t.Errorf("Explain without a hint = %q", got)
	}
	st.SetHint(func(err error) string {
		if strings.Contains(err.Error(), "refused") {
			return "nothing listens there"
		}
		return ""
	})
	if got := st.Explain(refused); got != "nothing listens there" {
		t.Errorf("Explain = %q", got)
	}
	if snap := st.Get(); snap.LastError != "" || snap.Hint != "" {
		t.Errorf("Explain recorded the error: %+v", snap)
	}
}

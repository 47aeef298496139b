package inbox

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func drain(q *Inbox[int]) []int {
	var out []int
	for {
		v, ok := q.Pop()
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

func TestEventsComeOutInOrder(t *testing.T) {
	q := New[int](Options{})
	for i := range 5000 {
		q.Push(i, 100)
		if i%3 == 0 { // interleaved pops exercise the compaction path
			if v, ok := q.Pop(); !ok || v != i/3 {
				t.Fatalf("pop %d: got %d %v", i/3, v, ok)
			}
		}
	}
	got := drain(q)
	want := 5000 - 1667
	if len(got) != want || got[0] != 1667 || got[len(got)-1] != 4999 {
		t.Fatalf("got %d events from %d to %d", len(got), got[0], got[len(got)-1])
	}
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1]+1 {
			t.Fatalf("out of order at %d: %d after %d", i, got[i], got[i-1])
		}
	}
}

// A relay that is behind costs the oldest events, counted and logged, but
// never blocks the reader.
func TestOverflowDropsTheOldestAndSaysSo(t *testing.T) {
	for _, tc := range []struct {
		name     string
		o        Options
		size     int
		wantKept []int
	}{
		{"by count", Options{MaxCount: 3}, 10, []int{7, 8, 9}},
		{"by bytes", Options{MaxBytes: 250}, 100, []int{8, 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			dropped := 0
			tc.o.Name = "qq"
			tc.o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			tc.o.OnDrop = func(n int) { dropped += n }
			q := New[int](tc.o)
			for i := range 10 {
				q.Push(i, tc.size)
			}
			if got := drain(q); !equal(got, tc.wantKept) {
				t.Errorf("kept %v, want %v", got, tc.wantKept)
			}
			if want := 10 - len(tc.wantKept); dropped != want {
				t.Errorf("OnDrop told of %d, want %d", dropped, want)
			}
			if !strings.Contains(logs.String(), "dropped the oldest incoming events") {
				t.Errorf("no log line: %q", logs.String())
			}
		})
	}
}

// Overflow is logged at most every 10 s; what the limit held back is in
// the next line, or logged at Close.
func TestOverflowLogIsLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		q := New[int](Options{MaxCount: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		burst := func() {
			for i := range 100 {
				q.Push(i, 1)
			}
		}
		burst() // 99 drops
		if n := strings.Count(logs.String(), "\n"); n != 1 {
			t.Fatalf("%d log lines for a burst, want 1:\n%s", n, logs.String())
		}
		time.Sleep(11 * time.Second)
		q.Push(100, 1)
		if !strings.Contains(logs.String(), "count=99") { // 98 held back + this one
			t.Fatalf("second line should carry the held-back drops:\n%s", logs.String())
		}
		burst()
		q.Close()
		if n := strings.Count(logs.String(), "\n"); n != 3 || !strings.Contains(logs.String(), "count=100") {
			t.Fatalf("drops held back by the limit not logged at Close:\n%s", logs.String())
		}
	})
}

// After Close the queued events can still be taken; new ones are counted.
func TestCloseKeepsWhatWasQueuedAndCountsTheRest(t *testing.T) {
	q := New[int](Options{})
	q.Push(1, 1)
	q.Push(2, 1)
	q.Close()
	q.Push(3, 1)
	q.Push(4, 1)
	if got := drain(q); !equal(got, []int{1, 2}) {
		t.Errorf("after Close popped %v", got)
	}
	if n := q.Refused(); n != 2 {
		t.Errorf("Refused = %d, want 2", n)
	}
	select {
	case <-q.Ready():
	default:
		t.Error("Close did not wake the consumer")
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

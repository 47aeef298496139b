package testutil

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder stands in for a test to see what a helper reports; Fatalf does
// not end the goroutine, so helpers return after it.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
	cleanups []func()
}

func (r *recorder) Helper()                      {}
func (r *recorder) Cleanup(f func())             { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Error(args ...any)            { r.fail(fmt.Sprint(args...)) }
func (r *recorder) Errorf(f string, args ...any) { r.fail(fmt.Sprintf(f, args...)) }
func (r *recorder) Fatalf(f string, args ...any) { r.fail(fmt.Sprintf(f, args...)) }

func (r *recorder) fail(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, msg)
}

func (r *recorder) runCleanups() {
	for _, f := range slices.Backward(r.cleanups) {
		f()
	}
}

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	rec := &recorder{TB: t}
	start := time.Now()
	WaitFor(rec, "20ms to pass", func() bool { return time.Since(start) > 20*time.Millisecond }, time.Second)
	if len(rec.failures) != 0 {
		t.Errorf("failures: %q", rec.failures)
	}
}

func TestWaitForFailsAtTheDeadline(t *testing.T) {
	rec := &recorder{TB: t}
	start := time.Now()
	WaitFor(rec, "never", func() bool { return false }, 50*time.Millisecond)
	if took := time.Since(start); took < 50*time.Millisecond || took > 2*time.Second {
		t.Errorf("gave up after %s, want just over 50ms", took)
	}
	if want := []string{"timed out after 50ms waiting for never"}; !slices.Equal(rec.failures, want) {
		t.Errorf("failures = %q, want %q", rec.failures, want)
	}
}

// A goroutine that was already running is not a leak; one started during
// the test and still running at the end is.
func TestVerifyNoLeaks(t *testing.T) {
	older := make(chan struct{})
	olderDone := make(chan struct{})
	go func() { defer close(olderDone); <-older }()
	defer func() { close(older); <-olderDone }()

	clean := &recorder{TB: t}
	VerifyNoLeaks(clean)
	clean.runCleanups()
	if len(clean.failures) != 0 {
		t.Errorf("no leak, yet: %q", clean.failures)
	}

	leaky := &recorder{TB: t}
	VerifyNoLeaks(leaky)
	release := make(chan struct{})
	leakDone := make(chan struct{})
	go func() { defer close(leakDone); <-release }()
	leaky.runCleanups()
	close(release)
	<-leakDone
	if len(leaky.failures) != 1 {
		t.Errorf("a goroutine outlived the test, yet failures = %q", leaky.failures)
	}
}

func TestLogBufferTakesConcurrentWriters(t *testing.T) {
	var logs LogBuffer
	var want []string
	var wg sync.WaitGroup
	for i := range 8 {
		line := fmt.Sprintf("writer=%d msg=%s", i, strings.Repeat("x", 200))
		want = append(want, line, line)
		wg.Go(func() {
			for range 2 {
				_, _ = logs.Write([]byte(line + "\n"))
			}
		})
	}
	wg.Wait()
	if got := logs.Lines(); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("lines = %q\nwant (in any order) %q", got, want)
	}
	if got := (&LogBuffer{}).String(); got != "" {
		t.Errorf("empty buffer holds %q", got)
	}
}

func TestRunInBackground(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context, release <-chan struct{}) error
		want []string
	}{
		{"returns nil when cancelled", func(ctx context.Context, _ <-chan struct{}) error {
			<-ctx.Done()
			return nil
		}, nil},
		{"returns an error", func(ctx context.Context, _ <-chan struct{}) error {
			<-ctx.Done()
			return errors.New("boom")
		}, []string{"Run returned boom after its context ended, want nil"}},
		{"ignores its context", func(_ context.Context, release <-chan struct{}) error {
			<-release
			return nil
		}, []string{"Run did not return within 50ms after its context ended"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			release := make(chan struct{})
			returned := make(chan struct{})
			RunInBackground(rec, func(ctx context.Context) error {
				defer close(returned)
				return tc.run(ctx, release)
			}, 50*time.Millisecond)
			select {
			case <-returned:
				t.Fatal("Run ended before the test did")
			case <-time.After(20 * time.Millisecond):
			}
			rec.runCleanups()
			close(release)
			<-returned
			if !slices.Equal(rec.failures, tc.want) {
				t.Errorf("failures = %q, want %q", rec.failures, tc.want)
			}
		})
	}
}

// A fast decoder's result passes only when encoding/json reads the input to
// the same value, and input encoding/json refuses fails.
func TestReadsAsEncodingJSON(t *testing.T) {
	type frame struct {
		Echo string `json:"echo"`
		Code int    `json:"code"`
	}
	for _, tc := range []struct {
		input string
		fast  frame
		fails string
	}{
		{`{"echo":"q1","code":200}`, frame{"q1", 200}, ""},
		{`{"ECHO":"q1","code":200}`, frame{"q1", 200}, ""}, // encoding/json ignores the key's case
		{`{"echo":"q1","code":200}`, frame{"q1", 500}, "scanner {Echo:q1 Code:500}"},
		{`{"echo":"q1","code":"200"}`, frame{"q1", 200}, "encoding/json refuses"},
	} {
		rec := &recorder{TB: t}
		ReadsAsEncodingJSON(rec, []byte(tc.input), tc.fast)
		failed := strings.Join(rec.failures, "\n")
		if tc.fails == "" && failed != "" || !strings.Contains(failed, tc.fails) {
			t.Errorf("%s read as %+v: failures %q, want one saying %q", tc.input, tc.fast, failed, tc.fails)
		}
	}
}

func TestCount(t *testing.T) {
	if n := Count([]string{"get_login_info", "send_group_msg", "get_login_info"}, "get_login_info"); n != 2 {
		t.Errorf("Count = %d, want 2", n)
	}
	if n := Count([]int{1, 2}, 3); n != 0 {
		t.Errorf("Count = %d, want 0", n)
	}
}

// Next returns what comes in time and fails the test when nothing does.
func TestNext(t *testing.T) {
	rec := &recorder{TB: t}
	if v := Next(rec, func(context.Context) (int, error) { return 7, nil }, time.Second); v != 7 || len(rec.failures) != 0 {
		t.Errorf("Next = %d, failures %q; want 7 and none", v, rec.failures)
	}
	never := func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
	Next(rec, never, 20*time.Millisecond)
	if len(rec.failures) != 1 || !strings.Contains(rec.failures[0], "nothing arrived within 20ms") {
		t.Errorf("failures %q; want one saying nothing arrived", rec.failures)
	}
}

// Package testutil holds the few helpers the packages' tests share: polling
// for a condition with a deadline, a per-test goroutine leak check, a log
// buffer safe for concurrent writers, running a component until the test
// ends, seeding a fuzz target with the package's fixtures, holding a fast
// decoder to encoding/json, counting, and taking the next item of an inbox.
package testutil

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// WaitFor polls cond every few milliseconds until it holds, and fails the
// test when timeout passes first. what names the awaited condition in the
// failure.
func WaitFor(t testing.TB, what string, cond func() bool, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// VerifyNoLeaks fails the test if a goroutine started after this call is
// still running once the test and the cleanups registered after this call
// have finished. It is for packages that check leaks per test rather than
// in TestMain; call it first.
func VerifyNoLeaks(t testing.TB) {
	t.Helper()
	before := goleak.IgnoreCurrent() // the goroutines running now
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
}

// LogBuffer collects log output for assertions; safe for concurrent use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines is everything written so far, one line each, without the final
// newline.
func (b *LogBuffer) Lines() []string {
	return strings.Split(strings.TrimSpace(b.String()), "\n")
}

// RunInBackground runs run (a component's Run) until the test ends. Then it
// cancels run's context and fails the test unless run returns nil within
// limit.
func RunInBackground(t testing.TB, run func(context.Context) error, limit time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after its context ended, want nil", err)
			}
		case <-time.After(limit):
			t.Errorf("Run did not return within %s after its context ended", limit)
		}
	})
}

// SeedFiles adds every file of the package's testdata directory matching
// pattern ("*.json") to f's seed corpus; none matching fails f, as a fuzz
// target without its fixtures would start from nothing.
func SeedFiles(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata/%s to seed from: %v", pattern, err)
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// ReadsAsEncodingJSON fails t unless encoding/json reads input into a T
// equal to fast, what a hand-written decoder made of it: the fuzz targets
// of the fast decoders hold them to encoding/json with it.
func ReadsAsEncodingJSON[T any](t testing.TB, input []byte, fast T) {
	t.Helper()
	var slow T
	if err := json.Unmarshal(input, &slow); err != nil {
		t.Fatalf("the scanner took input encoding/json refuses (%v): %s", err, input)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("input %s\n scanner %+v\nencoding/json %+v", input, fast, slow)
	}
}

// Count is how many of items equal item.
func Count[T comparable](items []T, item T) int {
	n := 0
	for _, it := range items {
		if it == item {
			n++
		}
	}
	return n
}

// Next waits up to timeout for what next (an inbox's Next) gives, and fails
// t when nothing comes.
func Next[T any](t testing.TB, next func(context.Context) (T, error), timeout time.Duration) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	v, err := next(ctx)
	if err != nil {
		t.Fatalf("nothing arrived within %s: %v", timeout, err)
	}
	return v
}

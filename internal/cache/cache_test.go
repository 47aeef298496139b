package cache

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestGetPut(t *testing.T) {
	c := New[string, int](10, time.Minute)
	if _, ok := c.Get("a"); ok {
		t.Fatal("empty cache returned a value")
	}
	c.Put("a", 1)
	c.Put("a", 2)
	if v, ok := c.Get("a"); !ok || v != 2 {
		t.Fatalf("Get(a) = %v, %v; want 2, true", v, ok)
	}
	if c.Len() != 1 {
		t.Fatalf("Len = %d after overwriting one key, want 1", c.Len())
	}
	c.Delete("a")
	if _, ok := c.Get("a"); ok {
		t.Fatal("deleted key still present")
	}
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[int, string](3, time.Hour)
	c.Put(1, "one")
	c.Put(2, "two")
	c.Put(3, "three")
	c.Get(1)          // 1 is now the most recently used; 2 the least
	c.Put(4, "four")  // evicts 2
	c.Put(3, "three") // refreshing 3 makes 1 the least recently used
	c.Put(5, "five")  // evicts 1
	for k, want := range map[int]bool{1: false, 2: false, 3: true, 4: true, 5: true} {
		if _, ok := c.Get(k); ok != want {
			t.Errorf("key %d present = %v, want %v", k, ok, want)
		}
	}
	if c.Len() != 3 {
		t.Errorf("Len = %d, want 3", c.Len())
	}
}

func TestEntriesExpire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string, int](10, time.Minute)
		c.Put("a", 1)
		time.Sleep(59 * time.Second) // fake clock inside the bubble
		if _, ok := c.Get("a"); !ok {
			t.Fatal("entry expired before its ttl")
		}
		c.Put("b", 2)
		time.Sleep(time.Second)
		if _, ok := c.Get("a"); ok {
			t.Fatal("entry still returned after its ttl")
		}
		if v, ok := c.Get("b"); !ok || v != 2 {
			t.Fatal("younger entry expired together with the older one")
		}
		if c.Len() != 1 {
			t.Fatalf("expired entry not dropped on Get: Len = %d", c.Len())
		}
	})
}

func TestZeroTTLNeverExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string, int](0, 0)
		c.Put("a", 1)
		time.Sleep(1000 * time.Hour)
		if _, ok := c.Get("a"); !ok {
			t.Fatal("entry with ttl 0 expired")
		}
	})
}

func TestFetchCachesSuccessOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string, int](10, time.Minute)
		ctx := t.Context()
		var calls int
		failing := func(context.Context) (int, error) { calls++; return 0, errors.New("boom") }
		if _, err := c.Fetch(ctx, "k", failing); err == nil || err.Error() != "boom" {
			t.Fatalf("Fetch error = %v, want boom", err)
		}
		ok := func(context.Context) (int, error) { calls++; return 7, nil }
		for range 3 {
			v, err := c.Fetch(ctx, "k", ok)
			if err != nil || v != 7 {
				t.Fatalf("Fetch = %v, %v; want 7, nil", v, err)
			}
		}
		if calls != 2 {
			t.Fatalf("load called %d times, want 2 (the error must not be cached, the value must)", calls)
		}
		time.Sleep(time.Minute)
		if _, err := c.Fetch(ctx, "k", ok); err != nil || calls != 3 {
			t.Fatalf("expired value not reloaded: calls = %d, err = %v", calls, err)
		}
	})
}

// With RememberFailures a failed load answers at once for its ttl, so a
// peer that never answers costs one timeout a minute, not one per message;
// a caller that gave up is not taken for a failure.
func TestFetchRemembersFailuresForAWhile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string, int](10, time.Hour).RememberFailures(time.Minute, nil)
		var calls int
		failing := func(context.Context) (int, error) { calls++; return 0, errors.New("no answer") }
		for range 5 {
			if _, err := c.Fetch(t.Context(), "k", failing); err == nil || err.Error() != "no answer" {
				t.Fatalf("Fetch error = %v, want the remembered one", err)
			}
		}
		if calls != 1 {
			t.Fatalf("load called %d times within the minute, want 1", calls)
		}
		if _, ok := c.Get("k"); ok {
			t.Fatal("Get returned a remembered failure as a value")
		}
		time.Sleep(time.Minute)
		ok := func(context.Context) (int, error) { calls++; return 7, nil }
		if v, err := c.Fetch(t.Context(), "k", ok); err != nil || v != 7 {
			t.Fatalf("after the minute Fetch = %v, %v; want a fresh load", v, err)
		}

		gaveUp, cancel := context.WithCancel(t.Context())
		cancel()
		c.Fetch(gaveUp, "g", func(ctx context.Context) (int, error) { return 0, ctx.Err() })
		if v, err := c.Fetch(t.Context(), "g", ok); err != nil || v != 7 {
			t.Fatalf("a caller's cancellation was remembered as a failure: %v, %v", v, err)
		}

		// A caller whose time ran out while the peer said nothing: that is
		// the failure worth remembering.
		budget, stop := context.WithTimeout(t.Context(), time.Second)
		defer stop()
		silent := func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
		c.Fetch(budget, "slow", silent)
		if _, err := c.Fetch(t.Context(), "slow", ok); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a look-up that ran out of time was not remembered: %v", err)
		}
	})
}

// Failures the worth filter rejects are not remembered.
func TestFetchRemembersOnlyFailuresWorthIt(t *testing.T) {
	transient := errors.New("not connected")
	c := New[string, int](10, time.Hour).RememberFailures(time.Minute, func(err error) bool { return !errors.Is(err, transient) })
	c.Fetch(t.Context(), "k", func(context.Context) (int, error) { return 0, transient })
	if v, err := c.Fetch(t.Context(), "k", func(context.Context) (int, error) { return 7, nil }); err != nil || v != 7 {
		t.Fatalf("a failure the filter rejects was remembered: %v, %v", v, err)
	}
}

func TestFetchSharesOneLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string, string](10, time.Minute)
		release := make(chan struct{})
		var calls atomic.Int32
		load := func(context.Context) (string, error) {
			calls.Add(1)
			<-release
			return "value", nil
		}
		const callers = 8
		results := make([]string, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				v, err := c.Fetch(t.Context(), "k", load)
				if err != nil {
					t.Errorf("caller %d: %v", i, err)
				}
				results[i] = v
			})
		}
		synctest.Wait() // every caller is now either loading or waiting for the load
		close(release)
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Fatalf("load ran %d times for concurrent callers, want 1", n)
		}
		for i, v := range results {
			if v != "value" {
				t.Errorf("caller %d got %q", i, v)
			}
		}
	})
}

func TestFetchDifferentKeysLoadIndependently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[int, string](10, time.Minute)
		block := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			c.Fetch(t.Context(), 1, func(context.Context) (string, error) { <-block; return "slow", nil })
		})
		synctest.Wait()
		// Key 2 must not wait for the stuck load of key 1.
		v, err := c.Fetch(t.Context(), 2, func(context.Context) (string, error) { return "fast", nil })
		if err != nil || v != "fast" {
			t.Fatalf("Fetch(2) = %q, %v", v, err)
		}
		close(block)
		wg.Wait()
	})
}

func TestFetchWaiterGivesUpWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string, int](10, time.Minute)
		release := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			c.Fetch(t.Context(), "k", func(context.Context) (int, error) { <-release; return 1, nil })
		})
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := c.Fetch(ctx, "k", func(context.Context) (int, error) {
			t.Error("waiter started a second load")
			return 0, nil
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("waiter error = %v, want deadline exceeded", err)
		}
		close(release)
		wg.Wait()
		if v, ok := c.Get("k"); !ok || v != 1 {
			t.Fatal("the leader's value was not cached after a waiter gave up")
		}
	})
}

func TestFetchWaitersRetryWhenLeaderGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string, int](10, time.Minute)
		leaderCtx, cancelLeader := context.WithCancel(t.Context())
		var calls atomic.Int32
		load := func(ctx context.Context) (int, error) {
			if calls.Add(1) == 1 {
				<-ctx.Done() // the first load only ends when its caller gives up
				return 0, ctx.Err()
			}
			return 42, nil
		}
		var wg sync.WaitGroup
		var leaderErr error
		wg.Go(func() { _, leaderErr = c.Fetch(leaderCtx, "k", load) })
		synctest.Wait()
		var waiterVal int
		var waiterErr error
		wg.Go(func() { waiterVal, waiterErr = c.Fetch(t.Context(), "k", load) })
		synctest.Wait()
		cancelLeader()
		wg.Wait()
		if !errors.Is(leaderErr, context.Canceled) {
			t.Errorf("leader error = %v, want canceled", leaderErr)
		}
		if waiterErr != nil || waiterVal != 42 {
			t.Errorf("waiter got %v, %v; want 42 after retrying with its own context", waiterVal, waiterErr)
		}
	})
}

func TestFetchLoadFailureIsShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string, int](10, time.Minute)
		release := make(chan struct{})
		boom := errors.New("bot says no")
		var calls atomic.Int32
		load := func(context.Context) (int, error) { calls.Add(1); <-release; return 0, boom }
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { _, errs[i] = c.Fetch(t.Context(), "k", load) })
		}
		synctest.Wait()
		close(release)
		wg.Wait()
		for i, err := range errs {
			if !errors.Is(err, boom) {
				t.Errorf("caller %d error = %v, want %v", i, err, boom)
			}
		}
		if calls.Load() != 1 {
			t.Errorf("a failed load with live callers was retried: %d loads", calls.Load())
		}
	})
}

func TestFetchLoadPanicReleasesWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string, int](10, time.Minute)
		release := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			defer func() {
				if recover() == nil {
					t.Error("the panic of load did not reach its caller")
				}
			}()
			c.Fetch(t.Context(), "k", func(context.Context) (int, error) { <-release; panic("bad load") })
		})
		synctest.Wait()
		var waiterErr error
		wg.Go(func() { _, waiterErr = c.Fetch(t.Context(), "k", nil) })
		synctest.Wait()
		close(release)
		wg.Wait()
		if !errors.Is(waiterErr, errLoadPanicked) {
			t.Fatalf("waiter error = %v, want %v", waiterErr, errLoadPanicked)
		}
		// The key is usable again afterwards.
		if v, err := c.Fetch(t.Context(), "k", func(context.Context) (int, error) { return 3, nil }); err != nil || v != 3 {
			t.Fatalf("Fetch after a panicked load = %v, %v", v, err)
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	// Exercised under -race: mixed operations on overlapping keys.
	c := New[string, int](16, time.Minute)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := strconv.Itoa((g + i) % 40)
				switch i % 4 {
				case 0:
					c.Put(k, i)
				case 1:
					c.Get(k)
				case 2:
					c.Fetch(context.Background(), k, func(context.Context) (int, error) { return i, nil })
				case 3:
					c.Delete(k)
				}
			}
		})
	}
	wg.Wait()
	if n := c.Len(); n > 16 {
		t.Fatalf("Len = %d exceeds the size bound 16", n)
	}
}

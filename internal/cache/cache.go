// Package cache is a small in-memory cache with a time-to-live and a size
// bound, for look-ups the bridge repeats a lot (group members, group names,
// quoted messages). Concurrent Fetch calls for the same missing key share one
// load, so a burst of messages mentioning the same user costs one request.
// A cache may also remember failed loads for a while, so a peer that never
// answers costs one timeout, not one per message.
package cache

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// Cache maps keys to values that expire ttl after they were stored; beyond
// size entries the least recently used one is evicted. Safe for concurrent use.
type Cache[K comparable, V any] struct {
	size    int
	ttl     time.Duration
	failTTL time.Duration    // how long a failed load is remembered; 0: not at all
	worth   func(error) bool // which failures are remembered

	mu    sync.Mutex
	order *list.List          // of *entry[K, V]; front = most recently used
	items map[K]*list.Element // key → element of order
	loads map[K]*flight[V]    // loads in progress
}

type entry[K comparable, V any] struct {
	key     K
	val     V
	err     error     // a remembered failure; val is then the zero value
	expires time.Time // zero: never
}

// flight is one load in progress; waiters block on done.
type flight[V any] struct {
	done chan struct{}
	val  V
	err  error
	// leaderGaveUp is set when the load failed because the context of the
	// caller running it was cancelled; other waiters then retry with their
	// own.
	leaderGaveUp bool
}

// errLoadPanicked is what waiters get when the shared load panicked (the
// panic itself goes on in the goroutine that ran the load).
var errLoadPanicked = errors.New("cache: load panicked")

// New returns an empty cache holding at most size entries (size ≤ 0: no
// bound) for ttl each (ttl ≤ 0: entries never expire).
func New[K comparable, V any](size int, ttl time.Duration) *Cache[K, V] {
	return &Cache[K, V]{
		size:  size,
		ttl:   ttl,
		order: list.New(),
		items: make(map[K]*list.Element),
		loads: make(map[K]*flight[V]),
	}
}

// RememberFailures makes Fetch remember a failed load for ttl when worth
// says so (nil: every failure): until then Fetch returns the same error at
// once instead of loading again. A load whose caller gave up (its context
// was cancelled) is never remembered; one that ran out of time is, as that
// is what a peer that never answers looks like. Call it before the cache is
// used.
func (c *Cache[K, V]) RememberFailures(ttl time.Duration, worth func(error) bool) *Cache[K, V] {
	c.failTTL, c.worth = ttl, worth
	return c
}

// Get returns the value stored for k if it has not expired.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.getLocked(k, time.Now()); e != nil && e.err == nil {
		return e.val, true // under mu, held by the defer
	}
	var zero V
	return zero, false
}

// Put stores v for k, replacing any previous value and restarting its ttl.
func (c *Cache[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, v, nil, time.Now())
}

// Delete removes k, e.g. when the bot reports that the value changed.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.removeLocked(el)
	}
}

// Len is the number of stored entries, expired ones not yet dropped included.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// Fetch returns the fresh value for k, or calls load and caches its result
// when it succeeds (failures only with RememberFailures). Callers asking for the same key
// while a load is running wait for that load instead of starting another.
// A waiter whose ctx ends stops waiting with ctx's error; if the caller that
// runs the load gives up (its ctx is cancelled), the others retry with their own ctx.
func (c *Cache[K, V]) Fetch(ctx context.Context, k K, load func(ctx context.Context) (V, error)) (V, error) {
	for {
		c.mu.Lock()
		if e := c.getLocked(k, time.Now()); e != nil {
			v, err := e.val, e.err // read under mu: Put updates entries in place
			c.mu.Unlock()
			return v, err
		}
		if f, ok := c.loads[k]; ok {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				var zero V
				return zero, context.Cause(ctx)
			}
			if f.err != nil && f.leaderGaveUp && ctx.Err() == nil {
				continue
			}
			return f.val, f.err
		}
		f := &flight[V]{done: make(chan struct{})}
		c.loads[k] = f
		c.mu.Unlock()
		return c.runLoad(ctx, k, f, load)
	}
}

// runLoad calls load for the waiters of f and publishes the result, even
// when load panics, so no waiter is left blocked.
func (c *Cache[K, V]) runLoad(ctx context.Context, k K, f *flight[V], load func(ctx context.Context) (V, error)) (v V, err error) {
	returned := false
	defer func() {
		if !returned {
			err = errLoadPanicked
		}
		c.mu.Lock()
		delete(c.loads, k)
		f.leaderGaveUp = err != nil && errors.Is(ctx.Err(), context.Canceled)
		switch {
		case err == nil:
			c.putLocked(k, v, nil, time.Now())
		case c.failTTL > 0 && !f.leaderGaveUp && !errors.Is(err, errLoadPanicked) && (c.worth == nil || c.worth(err)):
			var zero V
			c.putLocked(k, zero, err, time.Now())
		}
		c.mu.Unlock()
		f.val, f.err = v, err
		close(f.done)
	}()
	v, err = load(ctx)
	returned = true
	return v, err
}

// getLocked returns the fresh entry for k, a value or a remembered failure,
// or nil.
func (c *Cache[K, V]) getLocked(k K, now time.Time) *entry[K, V] {
	el, ok := c.items[k]
	if !ok {
		return nil
	}
	e := el.Value.(*entry[K, V])
	if !e.expires.IsZero() && !now.Before(e.expires) {
		c.removeLocked(el)
		return nil
	}
	c.order.MoveToFront(el)
	return e
}

// putLocked stores a value, or with err != nil a failure (for failTTL).
func (c *Cache[K, V]) putLocked(k K, v V, err error, now time.Time) {
	ttl := c.ttl
	if err != nil {
		ttl = c.failTTL
	}
	var expires time.Time
	if ttl > 0 {
		expires = now.Add(ttl)
	}
	if el, ok := c.items[k]; ok {
		e := el.Value.(*entry[K, V])
		e.val, e.err, e.expires = v, err, expires
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&entry[K, V]{key: k, val: v, err: err, expires: expires})
	for c.size > 0 && c.order.Len() > c.size {
		c.removeLocked(c.order.Back())
	}
}

func (c *Cache[K, V]) removeLocked(el *list.Element) {
	c.order.Remove(el)
	delete(c.items, el.Value.(*entry[K, V]).key)
}

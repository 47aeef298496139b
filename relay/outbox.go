package relay

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/minecraft"
)

// outbox is the bounded queue in front of one destination (a QQ group, a
// server). Messages wait here while the destination is down and are
// delivered in order once it is back. It holds at most size messages and
// maxBytes bytes waiting (besides those in flight); beyond either, or when a
// message has waited longer than the TTL, the oldest waiting ones are
// dropped, counted and logged.
//
// The head messages handed to the sender for one delivery are in flight:
// neither overflow nor expiry touches them, so what the sender reports
// delivered is exactly what leaves the queue.
//
// With a database (see durable.go), what waits while the destination is down
// is also written there before push returns, and comes back at the next
// start; what waits for a live destination lives in memory alone.
//
// push and Len are safe from any goroutine; run is the one sender.
type outbox[T any] struct {
	name     string
	size     int
	maxBytes int64
	ttl      time.Duration
	log      *slog.Logger
	m        *relayMetrics
	st       *link.State // the destination's connection
	keep     *keeper     // nil: memory only

	// pushMu orders pushes and the saving of what waits (saveUnsaved), so
	// the database holds a destination's messages in queue order.
	pushMu sync.Mutex

	mu       sync.Mutex
	items    []queued[T] // in flight first, then waiting
	inFlight int
	bytes    int64         // of the waiting items
	wake     chan struct{} // one pending wake-up for the sender
	dropped  int           // not yet reported in the log
	lastLog  time.Time
	gone     []int64 // database ids of messages that left, not yet deleted there
	nextSeq  uint64
}

type queued[T any] struct {
	v        T
	at       time.Time // when the message entered the bridge
	size     int64     // its share of the byte bound
	attempts int       // failed deliveries so far (not counting lost connections)
	saved    int64     // its id in the database; 0 while in memory alone
	seq      uint64    // which push made it, to find it again after a save; 0 for one restored (already saved)
}

// limits are an outbox's bounds.
type limits struct {
	size     int           // messages waiting
	maxBytes int64         // bytes waiting
	ttl      time.Duration // how long one may wait
}

// newOutbox makes the queue in front of a destination whose connection
// state is st; keep, if not nil, is the database.
func newOutbox[T any](name string, l limits, st *link.State, keep *keeper, log *slog.Logger, m *relayMetrics) *outbox[T] {
	// Series exist from the start, so dashboards show 0 rather than nothing.
	m.queued(name, 0)
	m.dropped(name, 0)
	if l.maxBytes <= 0 {
		l.maxBytes = math.MaxInt64
	}
	return &outbox[T]{name: name, size: l.size, maxBytes: l.maxBytes, ttl: l.ttl, log: log, m: m,
		st: st, keep: keep, wake: make(chan struct{}, 1)}
}

// push appends a message of the given size, dropping the oldest waiting
// ones while the queue is over a bound. While the destination is down the
// message is written to the database first.
func (o *outbox[T]) push(v T, at time.Time, size int) {
	o.pushMu.Lock()
	defer o.pushMu.Unlock()
	var saved int64
	// Those before it first, so the database keeps the order: it is
	// written only when they all are.
	if o.keep != nil && !o.st.Up() && o.saveUnsaved() {
		saved = o.keep.save(o.name, v, at)
	}
	o.mu.Lock()
	o.nextSeq++
	o.items = append(o.items, queued[T]{v: v, at: at, size: int64(size), saved: saved, seq: o.nextSeq})
	o.bytes += int64(size)
	// The newest message always stays, even when it alone is over a bound.
	n, over := 0, o.bytes-o.maxBytes
	for waiting := len(o.items) - o.inFlight; waiting-n > 1 && (waiting-n > o.size || over > 0); n++ {
		over -= o.items[o.inFlight+n].size
	}
	if n > 0 {
		o.dropWaitingLocked(n, "queue full")
	}
	o.m.queued(o.name, len(o.items))
	o.mu.Unlock()
	o.forgetGone()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// sizeOf is the size of items[from:to].
func (o *outbox[T]) sizeOf(from, to int) int64 {
	var b int64
	for _, q := range o.items[from:to] {
		b += q.size
	}
	return b
}

// dropWaitingLocked drops the n oldest waiting messages (those after the
// ones in flight), counts them and logs them, at most once every 10 s per
// queue so an overflowing queue does not flood the log.
func (o *outbox[T]) dropWaitingLocked(n int, why string) {
	o.bytes -= o.sizeOf(o.inFlight, o.inFlight+n)
	o.noteGoneLocked(o.items[o.inFlight : o.inFlight+n])
	o.items = slices.Delete(o.items, o.inFlight, o.inFlight+n)
	o.m.queued(o.name, len(o.items))
	o.m.dropped(o.name, n)
	o.dropped += n
	if time.Since(o.lastLog) >= 10*time.Second {
		o.log.Warn("dropped oldest queued messages", "queue", o.name, "count", o.dropped, "reason", why)
		o.dropped = 0
		o.lastLog = time.Now()
	}
}

// expireLocked drops waiting messages older than the TTL.
func (o *outbox[T]) expireLocked(now time.Time) {
	n := 0
	for o.inFlight+n < len(o.items) && now.Sub(o.items[o.inFlight+n].at) > o.ttl {
		n++
	}
	if n > 0 {
		o.dropWaitingLocked(n, "expired")
	}
}

// pending expires old messages and returns how many are left.
func (o *outbox[T]) pending() int {
	defer o.forgetGone()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expireLocked(time.Now())
	return len(o.items)
}

// take hands up to max head messages to the sender, in flight until settled.
func (o *outbox[T]) take(max int) []queued[T] {
	defer o.forgetGone()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expireLocked(time.Now())
	o.inFlight = min(len(o.items), max)
	o.bytes -= o.sizeOf(0, o.inFlight)
	return slices.Clone(o.items[:o.inFlight])
}

// outcome is what became of one message in flight.
type outcome int

const (
	kept      outcome = iota // not delivered; it stays at the head
	delivered                // the peer took it
	refused                  // dropped: sending it again cannot help
)

// settle ends a delivery: the messages in flight that were delivered or
// refused leave the queue (refused ones counted as dropped), the others wait
// again at the head in their order, with attempts as counted by the sender.
func (o *outbox[T]) settle(batch []queued[T], outcomes []outcome) {
	defer o.forgetGone()
	o.mu.Lock()
	defer o.mu.Unlock()
	keep := o.items[:0]
	removed := 0
	for i, q := range o.items[:o.inFlight] {
		switch outcomes[i] {
		case delivered:
			o.noteGoneLocked(o.items[i : i+1])
		case refused:
			o.noteGoneLocked(o.items[i : i+1])
			removed++
		default:
			q.attempts = batch[i].attempts
			keep = append(keep, q)
			o.bytes += q.size // waiting again
		}
	}
	oldLen := len(o.items)
	o.items = append(keep, o.items[o.inFlight:]...)
	clear(o.items[len(o.items):oldLen]) // let the removed messages be collected
	o.inFlight = 0
	o.m.queued(o.name, len(o.items))
	if removed > 0 {
		o.m.dropped(o.name, removed)
	}
	o.flushDropLogLocked()
}

// flushDropLogLocked reports drops not yet logged (held back by the 10 s
// log limit), once the queue moves again.
func (o *outbox[T]) flushDropLogLocked() {
	if o.dropped > 0 {
		o.log.Warn("dropped oldest queued messages", "queue", o.name, "count", o.dropped, "reason", "queue full or expired")
		o.dropped = 0
		o.lastLog = time.Now()
	}
}

// queueName is the destination's name ("mc:survival", "qq:712345678").
func (o *outbox[T]) queueName() string { return o.name }

// Len is the number of queued messages, in flight included.
func (o *outbox[T]) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.items)
}

// sender delivers a batch taken from the head of the queue. waitTurn, if
// set, is called before each delivery (rate limiting) and may let more
// messages accumulate.
type sender[T any] struct {
	batch    int // how many head messages one delivery may take
	waitTurn func(ctx context.Context) error
	// deliver reports each message's error, in order: nil when delivered.
	// It may report fewer than it was given; the rest were not attempted
	// and stay at the head.
	deliver func(ctx context.Context, batch []queued[T]) []error
}

// permanent marks a delivery error that retrying cannot fix (the peer
// refused the message itself); the message is dropped.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

const maxAttempts = 3

// run delivers messages until ctx ends, then keeps going until the queue is
// empty or drainCtx ends.
func (o *outbox[T]) run(ctx, drainCtx context.Context, s sender[T]) {
	st := o.st
	for {
		if o.pending() == 0 {
			if ctx.Err() != nil {
				return
			}
			select {
			case <-o.wake:
			case <-ctx.Done(): // drain: re-check emptiness above
			}
			continue
		}
		changed := st.Changed() // taken before the check so an "up" in between is not missed
		if !st.Up() {
			if ctx.Err() != nil {
				return // no point waiting for a peer that is down while shutting down
			}
			select {
			case <-changed:
			case <-ctx.Done():
			}
			continue
		}
		// While draining for shutdown the rate limit no longer applies: the
		// backlog goes out merged, rather than not at all.
		if s.waitTurn != nil && ctx.Err() == nil {
			if err := s.waitTurn(ctx); err != nil {
				continue // ctx ended while waiting: drain without the limit
			}
		}
		batch := o.take(s.batch)
		if len(batch) == 0 {
			continue // expired while waiting for its turn
		}
		before := st.Changed()
		errs := s.deliver(drainCtx, batch)
		outcomes, pause := o.judge(batch, errs, st)
		o.settle(batch, outcomes)
		if drainCtx.Err() != nil {
			return
		}
		switch pause {
		case pauseUntilUp:
			// The connection went away mid-delivery; the state may lag the
			// client by a moment: wait for it rather than spin.
			select {
			case <-before:
			case <-time.After(time.Second):
			case <-drainCtx.Done():
			}
		case pauseRetry:
			select {
			case <-time.After(time.Second):
			case <-drainCtx.Done():
			}
		}
	}
}

type pause int

const (
	noPause      pause = iota
	pauseUntilUp       // the connection was lost
	pauseRetry         // a transient failure: try again shortly
)

// judge turns a delivery's errors into outcomes: delivered, refused by the
// peer (dropped at once), lost with the connection (kept for after the
// reconnect), or failed otherwise (kept and tried again, dropped after
// maxAttempts). It counts attempts in batch and logs the drops.
func (o *outbox[T]) judge(batch []queued[T], errs []error, st *link.State) ([]outcome, pause) {
	outcomes := make([]outcome, len(batch))
	p := noPause
	for i, err := range errs {
		var perm permanent
		switch {
		case err == nil:
			outcomes[i] = delivered
		case errors.As(err, &perm):
			o.log.Warn("message refused by the peer, dropped", "queue", o.name, "err", err)
			outcomes[i] = refused
		case errors.Is(err, link.ErrNotConnected) || !st.Up():
			p = max(p, pauseUntilUp)
		case errors.Is(err, minecraft.ErrQueuedBehind), errors.Is(err, context.Canceled):
			// Not the message's own failure (the server had not got to it;
			// shutdown ended the delivery): it stays queued, no attempt
			// counted.
			p = max(p, pauseRetry)
		default:
			batch[i].attempts++
			if batch[i].attempts >= maxAttempts {
				o.log.Warn("message not delivered after retries, dropped", "queue", o.name,
					"attempts", batch[i].attempts, "err", err)
				outcomes[i] = refused
			} else {
				o.log.Debug("delivery failed, retrying", "queue", o.name, "err", err)
				p = max(p, pauseRetry)
			}
		}
	}
	return outcomes, p
}

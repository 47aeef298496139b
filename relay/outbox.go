package relay

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/mcqq/bridge/internal/link"
)

// outbox is the bounded queue in front of one destination (a QQ group, a
// server). Messages wait here while the destination is down and are
// delivered in order once it is back (SPEC §4). When full, or when a message
// has waited longer than the TTL, the oldest waiting ones are dropped and
// counted. The head messages handed to the sender for one delivery are in
// flight: neither overflow nor expiry touches them, so what the sender
// reports delivered is exactly what leaves the queue.
type outbox[T any] struct {
	name string
	size int
	ttl  time.Duration
	log  *slog.Logger
	m    *relayMetrics

	mu       sync.Mutex
	items    []queued[T] // in flight first, then waiting
	inFlight int
	wake     chan struct{} // one pending wake-up for the sender
	dropped  int           // not yet reported in the log
	lastLog  time.Time
}

type queued[T any] struct {
	v  T
	at time.Time // when the message entered the bridge
}

func newOutbox[T any](name string, size int, ttl time.Duration, log *slog.Logger, m *relayMetrics) *outbox[T] {
	// Series exist from the start, so dashboards show 0 rather than nothing.
	m.queued(name, 0)
	m.dropped(name, 0)
	return &outbox[T]{name: name, size: size, ttl: ttl, log: log, m: m, wake: make(chan struct{}, 1)}
}

// push appends a message, dropping the oldest waiting one when the queue is
// full.
func (o *outbox[T]) push(v T, at time.Time) {
	o.mu.Lock()
	if waiting := len(o.items) - o.inFlight; waiting >= o.size {
		o.dropWaitingLocked(waiting-o.size+1, "queue full")
	}
	o.items = append(o.items, queued[T]{v, at})
	o.m.queued(o.name, len(o.items))
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// dropWaitingLocked drops the n oldest waiting messages (those after the
// ones in flight), counts them and logs them, at most once every 10 s per
// queue so an overflowing queue does not flood the log.
func (o *outbox[T]) dropWaitingLocked(n int, why string) {
	o.items = append(o.items[:o.inFlight], o.items[o.inFlight+n:]...)
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
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expireLocked(time.Now())
	return len(o.items)
}

// take hands up to max head messages to the sender, in flight until done.
func (o *outbox[T]) take(max int) []queued[T] {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expireLocked(time.Now())
	o.inFlight = min(len(o.items), max)
	return slices.Clone(o.items[:o.inFlight])
}

// done ends a delivery: the first delivered messages in flight left the
// bridge, the refused ones after them are dropped and counted, and the rest
// wait again at the head.
func (o *outbox[T]) done(delivered, refused int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := min(delivered+refused, o.inFlight)
	o.items = o.items[n:]
	o.inFlight = 0
	o.m.queued(o.name, len(o.items))
	if refused > 0 {
		o.m.dropped(o.name, refused)
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

// Len is the number of queued messages, in flight included.
func (o *outbox[T]) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.items)
}

// sender delivers a batch taken from the head of the queue and says how many
// of the batch it consumed. waitTurn, if set, is called before each delivery
// (rate limiting) and may let more messages accumulate.
type sender[T any] struct {
	batch    int // how many head messages one delivery may take
	waitTurn func(ctx context.Context) error
	deliver  func(ctx context.Context, batch []queued[T]) (consumed int, err error)
}

// permanent marks a delivery error that retrying cannot fix (the peer
// refused the message itself); the message is dropped.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

const maxAttempts = 3

// run delivers messages until ctx ends, then keeps going until the queue is
// empty or drainCtx ends.
func (o *outbox[T]) run(ctx, drainCtx context.Context, st *link.State, s sender[T]) {
	attempts := 0
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
				o.reportUndelivered()
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
		n, err := s.deliver(drainCtx, batch)
		if n > 0 {
			attempts = 0
		}
		refused := 0   // head messages dropped: sending them again cannot help
		retry := false // pause before the next attempt
		var upAgain <-chan struct{}
		var perm permanent
		switch {
		case err == nil:
		case drainCtx.Err() != nil:
			o.done(n, 0)
			o.reportUndelivered()
			return
		case errors.As(err, &perm):
			o.log.Warn("message refused by the peer, dropped", "queue", o.name, "err", err)
			refused = 1
		case errors.Is(err, link.ErrNotConnected) || !st.Up():
			// The connection went away mid-delivery: the message stays at the
			// head and goes out after the reconnect (the loop waits for it).
			// The state may lag the client by a moment; wait for it rather
			// than spin.
			retry, upAgain = true, before
		default:
			attempts++
			if attempts >= maxAttempts {
				o.log.Warn("message not delivered after retries, dropped", "queue", o.name,
					"attempts", attempts, "err", err)
				refused = 1
			} else {
				o.log.Debug("delivery failed, retrying", "queue", o.name, "err", err)
				retry = true
			}
		}
		o.done(n, refused)
		if refused > 0 {
			attempts = 0
		}
		if retry {
			select {
			case <-upAgain: // nil unless waiting for the state to catch up
			case <-time.After(time.Second):
			case <-drainCtx.Done():
			}
		}
	}
}

func (o *outbox[T]) reportUndelivered() {
	if n := o.Len(); n > 0 {
		o.log.Warn("shutting down with undelivered messages", "queue", o.name, "count", n)
	}
}

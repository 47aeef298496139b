// Package inbox is the queue between a connection's reader and the relay.
//
// A reader that waited for the relay would leave the answers to the relay's
// own requests unread behind the events it has not taken yet, and the two
// would wait for each other until a timeout. So Push never blocks: the queue
// takes every event at once and the relay takes them when it is ready. It is
// bounded by count and by bytes; past either bound the oldest events are
// dropped, counted and logged (at most one line every 10 s), never silently.
package inbox

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// dropLogEvery limits how often overflow is logged.
const dropLogEvery = 10 * time.Second

// Inbox is a bounded FIFO of events. Push, Pop, Ready, Len and Close are safe
// to call from any goroutine; Push never blocks.
type Inbox[T any] struct {
	name     string
	maxCount int
	maxBytes int64
	log      *slog.Logger
	onDrop   func(n int)

	mu       sync.Mutex
	items    []item[T] // items[head:] are queued
	head     int
	bytes    int64
	closed   bool
	received int       // every Push, refused ones included
	refused  int       // pushed after Close
	dropped  int       // dropped for overflow, not yet logged
	lastLog  time.Time // last overflow log line
	ready    chan struct{}
}

type item[T any] struct {
	v    T
	size int64
}

// Options bound an Inbox and say where its drops are reported.
type Options struct {
	// Name labels log lines, e.g. "qq" or "mc:survival".
	Name string
	// MaxCount and MaxBytes bound what waits; ≤ 0 means 10,000 events and
	// 16 MiB.
	MaxCount int
	MaxBytes int64
	Logger   *slog.Logger
	// OnDrop, if set, is told of every drop (metrics); it must not block.
	OnDrop func(n int)
}

// New returns an empty inbox.
func New[T any](o Options) *Inbox[T] {
	if o.MaxCount <= 0 {
		o.MaxCount = 10_000
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 16 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Inbox[T]{name: o.Name, maxCount: o.MaxCount, maxBytes: o.MaxBytes, log: o.Logger,
		onDrop: o.OnDrop, ready: make(chan struct{}, 1)}
}

// Push appends v, whose cost is size bytes (its frame's length), dropping
// the oldest events when a bound is passed. After Close it only counts v and
// reports false.
func (q *Inbox[T]) Push(v T, size int) (queued bool) {
	q.mu.Lock()
	q.received++
	if q.closed {
		q.refused++
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, item[T]{v, int64(size)})
	q.bytes += int64(size)
	n := 0
	for q.lenLocked() > 1 && (q.lenLocked() > q.maxCount || q.bytes > q.maxBytes) {
		q.popLocked()
		n++
	}
	if n > 0 {
		q.dropLocked(n)
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

func (q *Inbox[T]) lenLocked() int { return len(q.items) - q.head }

func (q *Inbox[T]) dropLocked(n int) {
	q.dropped += n
	if q.onDrop != nil {
		q.onDrop(n)
	}
	if now := time.Now(); now.Sub(q.lastLog) >= dropLogEvery {
		q.log.Warn("relay is behind: dropped the oldest incoming events", "queue", q.name, "count", q.dropped)
		q.dropped, q.lastLog = 0, now
	}
}

// Pop takes the oldest event; ok is false when the inbox is empty.
func (q *Inbox[T]) Pop() (v T, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.lenLocked() == 0 {
		return v, false
	}
	return q.popLocked(), true
}

func (q *Inbox[T]) popLocked() T {
	it := q.items[q.head]
	var zero item[T]
	q.items[q.head] = zero // let the event be collected
	q.head++
	q.bytes -= it.size
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head >= 1024 && q.head*2 >= len(q.items) {
		// Slide the live tail down so the backing array does not grow
		// without bound under a steady stream.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return it.v
}

// Ready has a value whenever events may be waiting; after a receive, Pop
// until it reports empty.
func (q *Inbox[T]) Ready() <-chan struct{} { return q.ready }

// Len is the number of waiting events.
func (q *Inbox[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.lenLocked()
}

// Close stops taking events: what is queued can still be popped, later
// pushes are only counted (see Refused). Overflow drops not logged yet
// because of the log limit are logged now.
func (q *Inbox[T]) Close() {
	q.mu.Lock()
	q.closed = true
	if q.dropped > 0 {
		q.log.Warn("relay is behind: dropped the oldest incoming events", "queue", q.name, "count", q.dropped)
		q.dropped = 0
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Received is how many events were pushed, ever.
func (q *Inbox[T]) Received() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.received
}

// Refused is how many events arrived after Close; the relay reports them
// once when it stops.
func (q *Inbox[T]) Refused() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.refused
}

// Next waits for the oldest event, or for ctx to end.
func (q *Inbox[T]) Next(ctx context.Context) (T, error) {
	for {
		if v, ok := q.Pop(); ok {
			return v, nil
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
}

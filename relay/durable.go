package relay

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/mcqq/bridge/store"
)

// Durable is where messages waiting for a destination that is down are
// kept, so that they survive a restart or a crash (store.Queue). A
// destination is an outbox name ("mc:survival", "qq:712345678",
// "qq:private"); entries come back in the order they were appended.
type Durable interface {
	Append(ctx context.Context, dest string, payload []byte, enqueued time.Time) (int64, error)
	List(ctx context.Context, dest string, limit int) ([]store.Entry, error)
	Delete(ctx context.Context, ids ...int64) error
	Destinations(ctx context.Context) ([]string, error)
}

// durableTimeout bounds each database call; the database is a local file,
// so this is only reached when something is badly wrong with it.
const durableTimeout = 5 * time.Second

// keeper writes an outbox's messages to the database and forgets them once
// they are gone. A failing database costs durability, never a message:
// what cannot be written stays in memory, and the failure is logged at most
// once a minute. Safe for concurrent use.
type keeper struct {
	q   Durable
	log *slog.Logger

	mu      sync.Mutex
	lastErr time.Time
}

// save writes one message and returns its id, 0 when it could not.
func (k *keeper) save(dest string, v any, at time.Time) int64 {
	payload, err := json.Marshal(v)
	if err != nil {
		k.logErr("cannot encode a queued message; it is kept in memory only", dest, err)
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), durableTimeout)
	defer cancel()
	id, err := k.q.Append(ctx, dest, payload, at)
	if err != nil {
		k.logErr("cannot write a queued message to the database; it is kept in memory only", dest, err)
		return 0
	}
	return id
}

// forget deletes messages that left the queue; false when it could not.
func (k *keeper) forget(dest string, ids []int64) bool {
	ctx, cancel := context.WithTimeout(context.Background(), durableTimeout)
	defer cancel()
	if err := k.q.Delete(ctx, ids...); err != nil {
		k.logErr("cannot remove delivered messages from the database; trying again later", dest, err)
		return false
	}
	return true
}

// logErr logs a database failure, at most once a minute.
func (k *keeper) logErr(msg, dest string, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if time.Since(k.lastErr) < time.Minute {
		return
	}
	k.lastErr = time.Now()
	k.log.Error(msg, "queue", dest, "err", err.Error())
}

// noteGoneLocked records the database ids of messages leaving the queue.
func (o *outbox[T]) noteGoneLocked(items []queued[T]) {
	for _, q := range items {
		if q.saved != 0 {
			o.gone = append(o.gone, q.saved)
		}
	}
}

// forgetGone deletes from the database what left the queue; called after
// mu is released, so the queue never waits for the disk.
func (o *outbox[T]) forgetGone() {
	if o.keep == nil {
		return
	}
	o.mu.Lock()
	gone := o.gone
	o.gone = nil
	o.mu.Unlock()
	if len(gone) > 0 && !o.keep.forget(o.name, gone) {
		o.mu.Lock()
		o.gone = append(o.gone, gone...) // tried again with the next ones
		o.mu.Unlock()
	}
}

// saveWaiting writes every queued message that is in memory alone to the
// database: when the destination goes down (watchDown) and once Run's
// senders have stopped.
func (o *outbox[T]) saveWaiting() {
	if o.keep == nil {
		return
	}
	o.pushMu.Lock()
	defer o.pushMu.Unlock()
	o.saveUnsaved()
}

// saveUnsaved writes the messages in memory alone, in queue order, and
// reports whether it wrote them all. It stops at the first it cannot
// write, so the database never holds a message ahead of one queued before
// it, and a failing database costs one attempt, not one per message. The
// caller holds pushMu. The sender may deliver some meanwhile: they are
// found by seq afterwards, and one already gone has its new row deleted.
func (o *outbox[T]) saveUnsaved() (all bool) {
	o.mu.Lock()
	var todo []queued[T]
	for _, q := range o.items {
		if q.saved == 0 {
			todo = append(todo, q)
		}
	}
	o.mu.Unlock()
	if len(todo) == 0 {
		return true
	}
	all = true
	ids := make(map[uint64]int64, len(todo))
	for _, q := range todo {
		id := o.keep.save(o.name, q.v, q.at)
		if id == 0 {
			all = false
			break
		}
		ids[q.seq] = id
	}
	o.mu.Lock()
	for i := range o.items {
		if id, ok := ids[o.items[i].seq]; ok && o.items[i].saved == 0 {
			o.items[i].saved = id
			delete(ids, o.items[i].seq)
		}
	}
	for _, id := range ids { // delivered or dropped while being saved
		o.gone = append(o.gone, id)
	}
	o.mu.Unlock()
	o.forgetGone()
	return all
}

// watchDown writes what waits to the database each time the destination
// goes down, until done is closed: a crash while it is down then loses
// nothing, even before the sender notices.
func (o *outbox[T]) watchDown(done <-chan struct{}) {
	if o.keep == nil {
		return
	}
	for {
		changed := o.st.Changed()
		if !o.st.Up() {
			o.saveWaiting()
		}
		select {
		case <-changed:
		case <-done:
			return
		}
	}
}

// restore puts back what the database kept for this destination, ahead of
// anything new, with the time each message first arrived (QUEUE_TTL counts
// from then). An entry that cannot be read is logged and removed.
func (o *outbox[T]) restore(ctx context.Context) {
	if o.keep == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, durableTimeout)
	defer cancel()
	entries, err := o.keep.q.List(ctx, o.name, 0)
	if err != nil {
		o.log.Error("cannot read the messages queued before the restart", "queue", o.name, "err", err.Error())
		return
	}
	if len(entries) == 0 {
		return
	}
	restored := make([]queued[T], 0, len(entries))
	var bad []int64
	for _, e := range entries {
		var v T
		if err := json.Unmarshal(e.Payload, &v); err != nil {
			o.log.Warn("a queued message in the database cannot be read; removed", "queue", o.name, "id", e.ID, "err", err.Error())
			bad = append(bad, e.ID)
			continue
		}
		restored = append(restored, queued[T]{v: v, at: e.Enqueued, size: int64(len(e.Payload)), saved: e.ID})
	}
	if len(bad) > 0 {
		o.keep.forget(o.name, bad)
	}
	o.mu.Lock()
	o.items = append(restored, o.items...) // restored ones are saved, so they need no seq
	for _, q := range restored {
		o.bytes += q.size
	}
	o.m.queued(o.name, len(o.items))
	o.mu.Unlock()
	o.log.Info("messages queued before the restart will be delivered", "queue", o.name, "count", len(restored))
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// dropUnknownDestinations removes what the database holds for destinations
// that are no longer configured (a server renamed, a group unbound): they
// cannot be delivered. Each is logged with its count.
func dropUnknownDestinations(ctx context.Context, q Durable, known map[string]bool, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, durableTimeout)
	defer cancel()
	dests, err := q.Destinations(ctx)
	if err != nil {
		log.Error("cannot list the messages queued before the restart", "err", err.Error())
		return
	}
	for _, d := range dests {
		if known[d] {
			continue
		}
		entries, err := q.List(ctx, d, 0)
		if err != nil {
			log.Error("cannot read the messages queued for a destination no longer configured", "queue", d, "err", err.Error())
			continue
		}
		ids := make([]int64, len(entries))
		for i, e := range entries {
			ids[i] = e.ID
		}
		if err := q.Delete(ctx, ids...); err == nil {
			log.Warn("dropped messages queued for a destination no longer configured", "queue", d, "count", len(ids))
		}
	}
}

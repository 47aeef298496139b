package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// The table is pruned after pruneEvery new ids, at most once per
// pruneInterval: often enough to keep it near its bounds, rarely enough that
// the cost of a pruning is spread thin even under a flood of messages.
const (
	pruneEvery    = 1024
	pruneInterval = time.Minute
)

// rowsPerInsert is how many ids one INSERT statement writes.
const rowsPerInsert = 100

// maxUnwritten bounds the ids waiting to be written while the database
// fails.
const maxUnwritten = 100_000

// HandledIDs tells whether a QQ message is handled for the first time. It
// answers from memory and writes the ids to the database in the background
// (Run), in batches, so the relay never waits for a disk write per message;
// the ids it loads at start make a replay after a restart count as one too.
// Ids are kept for Options.HandledFor and at most Options.HandledPerChat per
// chat, so a replay older than that counts as new again. Safe for
// concurrent use.
type HandledIDs struct {
	db *DB

	mu     sync.Mutex
	chats  map[string]*chatIDs
	todo   []handledRow  // recorded, not written yet
	wake   chan struct{} // one pending wake-up for Run
	writes int           // ids written since the last pruning (Run only)
	pruned time.Time     // when Run last pruned
}

// chatIDs are one chat's handled ids: when each was handled, and their
// order for the per-chat bound.
type chatIDs struct {
	at    map[string]int64 // id → handled at, Unix ms
	order []string         // oldest first
}

type handledRow struct {
	chat, id string
	at       int64
}

// LoadHandled reads the handled ids the database keeps (after dropping
// those past the bounds) into memory.
func (db *DB) LoadHandled(ctx context.Context) (*HandledIDs, error) {
	if err := db.pruneHandled(ctx, nil); err != nil {
		return nil, err
	}
	rows, err := db.sql.QueryContext(ctx,
		`SELECT chat, message_id, handled_at FROM handled_messages ORDER BY handled_at`)
	if err != nil {
		return nil, fmt.Errorf("reading handled message ids: %w", err)
	}
	defer rows.Close()
	h := &HandledIDs{db: db, chats: map[string]*chatIDs{}, wake: make(chan struct{}, 1)}
	for rows.Next() {
		var r handledRow
		if err := rows.Scan(&r.chat, &r.id, &r.at); err != nil {
			return nil, fmt.Errorf("reading handled message ids: %w", err)
		}
		h.chat(r.chat).add(r.id, r.at, db.o.HandledPerChat)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading handled message ids: %w", err)
	}
	return h, nil
}

func (h *HandledIDs) chat(name string) *chatIDs {
	c := h.chats[name]
	if c == nil {
		c = &chatIDs{at: map[string]int64{}}
		h.chats[name] = c
	}
	return c
}

// add records id, forgetting the oldest ids beyond limit.
func (c *chatIDs) add(id string, at int64, limit int) {
	if _, again := c.at[id]; again { // handled again after it expired
		c.order = slices.DeleteFunc(c.order, func(o string) bool { return o == id })
	}
	c.at[id] = at
	c.order = append(c.order, id)
	for len(c.order) > limit {
		delete(c.at, c.order[0])
		c.order = c.order[1:]
	}
}

// FirstTime records that message id of chat ("group:<number>" or
// "private:<number>") is being handled and reports whether this is the
// first time: of any number of concurrent calls with the same chat and id,
// exactly one gets true.
func (h *HandledIDs) FirstTime(chat, id string) bool {
	now := h.db.nowMillis()
	h.mu.Lock()
	c := h.chat(chat)
	if at, seen := c.at[id]; seen && now-at < h.db.o.HandledFor.Milliseconds() {
		h.mu.Unlock()
		return false
	}
	c.add(id, now, h.db.o.HandledPerChat)
	h.todo = append(h.todo, handledRow{chat, id, now})
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return true
}

// Run writes the recorded ids to the database until ctx ends, then writes
// what is left and returns. A failed write is passed to report and its ids
// are tried again with the next batch.
func (h *HandledIDs) Run(ctx context.Context, report func(error)) {
	for {
		select {
		case <-h.wake:
			h.write(ctx, report)
		case <-ctx.Done():
			h.write(context.WithoutCancel(ctx), report)
			return
		}
	}
}

func (h *HandledIDs) write(ctx context.Context, report func(error)) {
	h.mu.Lock()
	batch := h.todo
	h.todo = nil
	h.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	err := h.db.inTx(ctx, func(tx *sql.Tx) error {
		for rest := batch; len(rest) > 0; {
			n := min(len(rest), rowsPerInsert)
			q := strings.Builder{}
			q.WriteString(`INSERT INTO handled_messages (chat, message_id, handled_at) VALUES `)
			args := make([]any, 0, 3*n)
			for i, r := range rest[:n] {
				if i > 0 {
					q.WriteByte(',')
				}
				q.WriteString("(?,?,?)")
				args = append(args, r.chat, r.id, r.at)
			}
			q.WriteString(` ON CONFLICT (chat, message_id) DO UPDATE SET handled_at = excluded.handled_at`)
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return err
			}
			rest = rest[n:]
		}
		return nil
	})
	if err != nil {
		h.mu.Lock()
		h.todo = append(batch, h.todo...)
		if over := len(h.todo) - maxUnwritten; over > 0 {
			// A database failing for long: the oldest ids are given up on
			// (memory still has them until they age out).
			h.todo = h.todo[over:]
		}
		h.mu.Unlock()
		report(fmt.Errorf("recording %d handled message ids: %w", len(batch), err))
		return
	}
	h.writes += len(batch) // only Run writes
	if now := h.db.o.Now(); h.writes >= pruneEvery && now.Sub(h.pruned) >= pruneInterval {
		h.writes, h.pruned = 0, now
		chats := map[string]bool{}
		for _, r := range batch {
			chats[r.chat] = true
		}
		if err := h.db.pruneHandled(ctx, chats); err != nil {
			report(err)
		}
	}
}

// pruneHandled forgets ids older than HandledFor everywhere and, for each
// chat in chats (every chat when nil), all but the newest HandledPerChat.
func (db *DB) pruneHandled(ctx context.Context, chats map[string]bool) error {
	cutoff := db.nowMillis() - db.o.HandledFor.Milliseconds()
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM handled_messages WHERE handled_at < ?`, cutoff); err != nil {
		return fmt.Errorf("forgetting old handled messages: %w", err)
	}
	if chats == nil {
		rows, err := db.sql.QueryContext(ctx, `SELECT DISTINCT chat FROM handled_messages`)
		if err != nil {
			return fmt.Errorf("forgetting old handled messages: %w", err)
		}
		chats = map[string]bool{}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return fmt.Errorf("forgetting old handled messages: %w", err)
			}
			chats[c] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("forgetting old handled messages: %w", err)
		}
	}
	for chat := range chats {
		_, err := db.sql.ExecContext(ctx, `
			DELETE FROM handled_messages WHERE chat = ?1 AND handled_at < (
				SELECT handled_at FROM handled_messages WHERE chat = ?1
				ORDER BY handled_at DESC LIMIT 1 OFFSET ?2)`, chat, db.o.HandledPerChat-1)
		if err != nil {
			return fmt.Errorf("forgetting handled messages of %s: %w", chat, err)
		}
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Queue holds the messages waiting for destinations that are down, so that
// they survive a restart or a crash. A destination is a name such as
// "mc:survival", "qq:712345678" or "qq:private"; entries of one destination
// come back in the order they were appended. Payloads are opaque to the
// store. Safe for concurrent use.
type Queue struct{ db *DB }

// Entry is one queued message.
type Entry struct {
	ID       int64 // increases with every Append, never reused
	Enqueued time.Time
	Payload  []byte
}

// Queue returns the durable queue.
func (db *DB) Queue() *Queue { return &Queue{db: db} }

// Append adds payload at the end of dest's queue and returns its id.
func (q *Queue) Append(ctx context.Context, dest string, payload []byte, enqueued time.Time) (int64, error) {
	if payload == nil {
		payload = []byte{} // the column is NOT NULL
	}
	res, err := q.db.sql.ExecContext(ctx,
		`INSERT INTO queued_messages (destination, enqueued_at, payload) VALUES (?, ?, ?)`,
		dest, enqueued.UnixMilli(), payload)
	if err != nil {
		return 0, fmt.Errorf("queueing a message for %s: %w", dest, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("queueing a message for %s: %w", dest, err)
	}
	return id, nil
}

// List returns dest's entries, oldest first; at most limit of them when
// limit > 0.
func (q *Queue) List(ctx context.Context, dest string, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := q.db.sql.QueryContext(ctx,
		`SELECT id, enqueued_at, payload FROM queued_messages WHERE destination = ? ORDER BY id LIMIT ?`,
		dest, limit)
	if err != nil {
		return nil, fmt.Errorf("reading the queue of %s: %w", dest, err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var ms int64
		if err := rows.Scan(&e.ID, &ms, &e.Payload); err != nil {
			return nil, fmt.Errorf("reading the queue of %s: %w", dest, err)
		}
		e.Enqueued = time.UnixMilli(ms)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the queue of %s: %w", dest, err)
	}
	return out, nil
}

// Delete removes the entries with the given ids (delivered, or dropped as
// overflow), in one transaction. Ids that are gone already are ignored.
func (q *Queue) Delete(ctx context.Context, ids ...int64) error {
	switch len(ids) {
	case 0:
		return nil
	case 1:
		if _, err := q.db.sql.ExecContext(ctx, `DELETE FROM queued_messages WHERE id = ?`, ids[0]); err != nil {
			return fmt.Errorf("removing queued message %d: %w", ids[0], err)
		}
		return nil
	}
	err := q.db.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `DELETE FROM queued_messages WHERE id = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range ids {
			if _, err := stmt.ExecContext(ctx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("removing %d queued messages: %w", len(ids), err)
	}
	return nil
}

// Count returns how many entries dest has and their payloads' total size.
func (q *Queue) Count(ctx context.Context, dest string) (entries int, bytes int64, err error) {
	err = q.db.sql.QueryRowContext(ctx,
		`SELECT count(*), coalesce(sum(length(payload)), 0) FROM queued_messages WHERE destination = ?`,
		dest).Scan(&entries, &bytes)
	if err != nil {
		return 0, 0, fmt.Errorf("counting the queue of %s: %w", dest, err)
	}
	return entries, bytes, nil
}

// Destinations lists the destinations that have entries, in name order: at
// start-up, what was left waiting last time (including destinations no
// longer configured).
func (q *Queue) Destinations(ctx context.Context) ([]string, error) {
	rows, err := q.db.sql.QueryContext(ctx, `SELECT DISTINCT destination FROM queued_messages ORDER BY destination`)
	if err != nil {
		return nil, fmt.Errorf("listing queued destinations: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("listing queued destinations: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing queued destinations: %w", err)
	}
	return out, nil
}

// inTx runs f in a transaction (immediate: it holds the write lock from
// the start) and commits when f succeeds.
func (db *DB) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

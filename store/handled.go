package store

import (
	"context"
	"fmt"
)

// pruneEvery is how many new handled ids are recorded between two prunings:
// often enough to keep the table near its bounds, rarely enough that the
// cost of a pruning is spread thin.
const pruneEvery = 256

// MarkHandled records that message id of chat ("group:<number>" or
// "private:<number>") is being handled, and reports whether this is the
// first time: exactly one of any number of concurrent calls with the same
// chat and id gets true. Ids are kept for Options.HandledFor and at most
// Options.HandledPerChat per chat, so a replay older than that counts as
// new again.
func (db *DB) MarkHandled(ctx context.Context, chat, id string) (first bool, err error) {
	res, err := db.sql.ExecContext(ctx,
		`INSERT INTO handled_messages (chat, message_id, handled_at) VALUES (?, ?, ?)
		 ON CONFLICT DO NOTHING`, chat, id, db.nowMillis())
	if err != nil {
		return false, fmt.Errorf("recording handled message %s/%s: %w", chat, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("recording handled message %s/%s: %w", chat, id, err)
	}
	if n == 0 {
		return false, nil
	}
	if db.marks.Add(1)%pruneEvery == 0 {
		if err := db.pruneHandled(ctx, chat); err != nil {
			return true, err
		}
	}
	return true, nil
}

// pruneHandled forgets ids older than HandledFor everywhere and, for chat
// (unless empty), all but the newest HandledPerChat.
func (db *DB) pruneHandled(ctx context.Context, chat string) error {
	cutoff := db.nowMillis() - db.o.HandledFor.Milliseconds()
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM handled_messages WHERE handled_at < ?`, cutoff); err != nil {
		return fmt.Errorf("forgetting old handled messages: %w", err)
	}
	if chat == "" {
		return nil
	}
	_, err := db.sql.ExecContext(ctx, `
		DELETE FROM handled_messages WHERE chat = ?1 AND handled_at < (
			SELECT handled_at FROM handled_messages WHERE chat = ?1
			ORDER BY handled_at DESC LIMIT 1 OFFSET ?2)`, chat, db.o.HandledPerChat-1)
	if err != nil {
		return fmt.Errorf("forgetting handled messages of %s: %w", chat, err)
	}
	return nil
}

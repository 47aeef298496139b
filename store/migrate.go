package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one step of the schema. The schema version kept in the
// file (PRAGMA user_version) is the number of steps applied, so steps are
// only ever appended: never edit or reorder one that has shipped.
type migration struct {
	name string
	sql  string
}

// migrations is the schema, oldest step first. A feature that needs tables
// appends a step.
var migrations = []migration{
	{
		name: "handled message ids and the durable outbox queue",
		sql: `
CREATE TABLE handled_messages (
	chat         TEXT    NOT NULL, -- "group:<number>" or "private:<number>"
	message_id   TEXT    NOT NULL,
	handled_at   INTEGER NOT NULL, -- Unix milliseconds
	PRIMARY KEY (chat, message_id)
) WITHOUT ROWID;
CREATE INDEX handled_messages_by_age ON handled_messages (chat, handled_at);

CREATE TABLE queued_messages (
	id           INTEGER PRIMARY KEY AUTOINCREMENT, -- delivery order; never reused
	destination  TEXT    NOT NULL, -- "mc:<server>", "qq:<group>", "qq:private"
	enqueued_at  INTEGER NOT NULL, -- Unix milliseconds
	payload      BLOB    NOT NULL
);
CREATE INDEX queued_messages_by_destination ON queued_messages (destination, id);
`,
	},
	{
		name: "accounts: bindings, pending whitelist changes, pending verifications",
		sql: `
CREATE TABLE bindings (
	qq           INTEGER NOT NULL, -- the member's QQ number
	player       TEXT    NOT NULL COLLATE NOCASE, -- as the member typed it; compared case-insensitively
	group_id     INTEGER NOT NULL, -- the group /bind was typed in
	bound_at     INTEGER NOT NULL, -- Unix milliseconds
	whitelisted  TEXT    NOT NULL DEFAULT '' -- the servers "whitelist add" was queued for, one per line
);
CREATE UNIQUE INDEX bindings_by_player ON bindings (player);
CREATE INDEX bindings_by_qq ON bindings (qq, bound_at);
CREATE INDEX bindings_by_time ON bindings (bound_at);

CREATE TABLE whitelist_changes (
	id           INTEGER PRIMARY KEY AUTOINCREMENT, -- order of application; never reused
	server       TEXT    NOT NULL, -- MC_<n>_NAME
	action       TEXT    NOT NULL CHECK (action IN ('add', 'remove')),
	player       TEXT    NOT NULL,
	queued_at    INTEGER NOT NULL  -- Unix milliseconds
);
CREATE INDEX whitelist_changes_by_server ON whitelist_changes (server, id);

CREATE TABLE verifications (
	code         TEXT    PRIMARY KEY, -- the six digits the player says in game chat
	qq           INTEGER NOT NULL,
	player       TEXT    NOT NULL COLLATE NOCASE,
	group_id     INTEGER NOT NULL,
	message_id   TEXT    NOT NULL, -- the /bind message, which the outcome quotes
	expires_at   INTEGER NOT NULL  -- Unix milliseconds
) WITHOUT ROWID;
CREATE INDEX verifications_by_qq ON verifications (qq);
`,
	},
}

// migrate applies the steps the database lacks, each in its own
// transaction together with the new version number, so a crash leaves the
// database at a whole step. The version is read again inside each
// transaction (which holds the write lock), so two bridges starting on one
// file at once cannot both apply a step.
func migrate(ctx context.Context, db *sql.DB, steps []migration) error {
	current, err := userVersion(ctx, db)
	if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if current > len(steps) {
		return newerSchema(current, len(steps))
	}
	for v := current + 1; v <= len(steps); v++ {
		if err := applyStep(ctx, db, v, steps[v-1]); err != nil {
			return fmt.Errorf("migrating the schema to version %d (%s): %w", v, steps[v-1].name, err)
		}
	}
	return nil
}

func applyStep(ctx context.Context, db *sql.DB, version int, step migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var now int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&now); err != nil {
		return err
	}
	if now >= version {
		return nil // another process got here first
	}
	if _, err := tx.ExecContext(ctx, step.sql); err != nil {
		return err
	}
	// PRAGMA takes no parameters; version is an int we computed.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
		return err
	}
	return tx.Commit()
}

func userVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

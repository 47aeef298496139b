// Package store owns the bridge's SQLite database, bridge.db in DATA_DIR:
// the ids of QQ messages already handled (so a replayed post or a resent
// event is ignored) and the messages waiting for a destination that is
// down (so they survive a restart or a crash). Later features add their
// tables as further migrations.
//
// The database is plain SQLite (modernc.org/sqlite, pure Go) in WAL mode,
// so anyone may inspect it with the sqlite3 shell while the bridge runs.
// Times are stored as Unix milliseconds.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database's name inside the data directory.
const FileName = "bridge.db"

// DefaultHandledFor is how long a handled message id is kept by default.
const DefaultHandledFor = 24 * time.Hour

// Options tune what the database keeps. Zero values take the defaults.
type Options struct {
	// HandledPerChat is how many handled message ids are kept per chat
	// (default 10,000).
	HandledPerChat int
	// HandledFor is how long a handled message id is kept (default
	// DefaultHandledFor).
	HandledFor time.Duration
	// Now is the clock (default time.Now); tests may stop it.
	Now func() time.Time
}

// DB is the open database. It is safe for concurrent use: every method is
// one statement or one transaction, and SQLite serialises the writers (a
// busy writer waits up to busyTimeout).
type DB struct {
	sql  *sql.DB
	path string
	o    Options
}

// Connection settings: WAL lets readers (and the sqlite3 shell) work while
// the bridge writes; synchronous=NORMAL is durable across a crash of the
// process (only a power loss can take the last commits), and spares a disk
// flush per queued message; immediate transactions take the write lock at
// BEGIN, so two writers queue up instead of failing half-way.
const (
	busyTimeout = 5 * time.Second
	maxConns    = 4
)

// Open opens (creating when needed) dir/bridge.db and brings its schema up
// to date. It fails when dir cannot be created or written, when the file is
// not a usable SQLite database, and when the database was written by a
// newer bridge (its schema version is higher than this one knows).
func Open(ctx context.Context, dir string, o Options) (*DB, error) {
	if o.HandledPerChat <= 0 {
		o.HandledPerChat = 10_000
	}
	if o.HandledFor <= 0 {
		o.HandledFor = DefaultHandledFor
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	path, err := dbPath(dir)
	if err != nil {
		return nil, err
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	dsn := path + fmt.Sprintf("?_busy_timeout=%d&_journal_mode=WAL&_synchronous=NORMAL&_foreign_keys=1&_txlock=immediate",
		busyTimeout.Milliseconds())
	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sqlDB.SetMaxOpenConns(maxConns)
	db := &DB{sql: sqlDB, path: path, o: o}
	if err := db.start(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return db, nil
}

// checkDir creates dir when missing and makes sure files can be created in
// it (SQLite needs to create bridge.db-wal and bridge.db-shm beside the
// database).
func checkDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("cannot create the directory: %w", err)
	}
	return checkWritable(dir)
}

// start checks that the file is a database and migrates it.
func (db *DB) start(ctx context.Context) error {
	var mode string
	if err := db.sql.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("not a usable SQLite database: %w", err)
	}
	return migrate(ctx, db.sql, migrations)
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes the database; SQLite folds the WAL back into the file.
func (db *DB) Close() error { return db.sql.Close() }

func (db *DB) nowMillis() int64 { return db.o.Now().UnixMilli() }

// dbPath is where dir's database lives; a path with '?' is refused, as the
// driver would take what follows it for options.
func dbPath(dir string) (string, error) {
	path := filepath.Join(dir, FileName)
	if strings.ContainsRune(path, '?') {
		return "", fmt.Errorf("%s: a path with '?' cannot be opened", path)
	}
	return path, nil
}

// newerSchema is the error for a database at schema version v, above the
// newest this bridge knows.
func newerSchema(v, newest int) error {
	return fmt.Errorf("%w: its schema version is %d, this bridge knows versions up to %d; run the newer bridge, or start with an empty DATA_DIR",
		ErrNewerSchema, v, newest)
}

// ErrNewerSchema is wrapped by Open's error when the database was written by
// a newer bridge.
var ErrNewerSchema = errors.New("the database was written by a newer bridge")

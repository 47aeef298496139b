package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// NewestSchema is the schema version Open brings a database to.
func NewestSchema() int { return len(migrations) }

// Inspection is what Inspect found.
type Inspection struct {
	// Exists: dir/bridge.db is there. Without it Open would create it
	// (and dir, when missing).
	Exists bool
	// Version is the schema version of an existing database; Open would
	// migrate it when it is below NewestSchema.
	Version int
}

// Inspect looks at dir/bridge.db the way Open would use it, without
// changing anything: it creates no directory or database, migrates
// nothing and leaves no file behind (the database is read through a
// read-only connection, and only a file made and removed at once checks
// that the directory, or the one it would be created in, is writable). It
// fails where Open would: a directory that cannot be created or written, a
// file that is not a usable SQLite database, a schema from a newer bridge.
func Inspect(ctx context.Context, dir string) (Inspection, error) {
	path, err := dbPath(dir)
	if err != nil {
		return Inspection{}, err
	}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Inspection{}, checkCreatable(dir)
	case err != nil:
		return Inspection{}, fmt.Errorf("cannot create the directory: %w", err)
	case !info.IsDir():
		return Inspection{}, fmt.Errorf("cannot create the directory: %s is not a directory", dir)
	}
	if err := checkWritable(dir); err != nil {
		return Inspection{}, err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return Inspection{}, nil
	}
	// The files themselves must be writable too (a bridge.db left owned by
	// another user): opened for writing and closed, which changes nothing.
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if errors.Is(err, os.ErrNotExist) && name != path {
			continue
		}
		if err != nil {
			return Inspection{}, fmt.Errorf("cannot write the database: %w", err)
		}
		f.Close()
	}
	v, err := readSchemaVersion(ctx, path)
	if err != nil {
		return Inspection{}, fmt.Errorf("%s: not a usable SQLite database: %w", path, err)
	}
	if v > NewestSchema() {
		return Inspection{}, fmt.Errorf("%s: %w", path, newerSchema(v, NewestSchema()))
	}
	return Inspection{Exists: true, Version: v}, nil
}

// checkCreatable checks that the missing dir could be created: its nearest
// existing ancestor is a directory files can be created in.
func checkCreatable(dir string) error {
	parent := filepath.Dir(dir)
	for {
		info, err := os.Stat(parent)
		switch {
		case errors.Is(err, os.ErrNotExist) && filepath.Dir(parent) != parent:
			parent = filepath.Dir(parent)
			continue
		case err != nil:
			return fmt.Errorf("cannot create the directory: %w", err)
		case !info.IsDir():
			return fmt.Errorf("cannot create the directory: %s is not a directory", parent)
		}
		if err := checkWritable(parent); err != nil {
			return fmt.Errorf("cannot create the directory: %w", err)
		}
		return nil
	}
}

// checkWritable creates a file in dir and removes it at once.
func checkWritable(dir string) error {
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("cannot write in the directory: %w", err)
	}
	name := probe.Name()
	probe.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("cannot remove a file in the directory: %w", err)
	}
	return nil
}

// readSchemaVersion reads the database's schema version through a
// read-only connection. A database without a -wal file beside it holds
// everything in the file itself (no bridge has it open, or one has just
// checkpointed it): it is opened as immutable, so SQLite creates no -wal or
// -shm file, which a read-only connection could not remove again. One
// with a -wal file is opened read-only with them, to see what the running
// bridge has written.
func readSchemaVersion(ctx context.Context, path string) (int, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, err
	}
	slashed := filepath.ToSlash(abs)
	if !strings.HasPrefix(slashed, "/") {
		slashed = "/" + slashed // a Windows drive: file:///C:/…
	}
	query := "mode=ro&immutable=1"
	if _, err := os.Stat(path + "-wal"); err == nil {
		query = "mode=ro"
	}
	// Escaped, so that '?', '#' or '%' in the path stay part of it.
	uri := (&url.URL{Scheme: "file", Path: slashed, RawQuery: query}).String()
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return 0, err
	}
	return userVersion(ctx, db)
}

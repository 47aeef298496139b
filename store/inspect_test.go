package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// olderDatabase makes dir/bridge.db as a bridge knowing only the first
// schema step left it: in WAL mode, closed.
func olderDatabase(t *testing.T, dir string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName)+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(context.Background(), db, migrations[:1]); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// Inspect reports what Open would find and do, and changes nothing: no
// directory or database is created, nothing is migrated, no file is left
// behind.
func TestInspectChangesNothing(t *testing.T) {
	ctx := context.Background()
	t.Run("missing directory", func(t *testing.T) {
		base := t.TempDir()
		dir := filepath.Join(base, "data", "nested")
		got, err := Inspect(ctx, dir)
		if err != nil || got.Exists {
			t.Fatalf("Inspect = %+v, %v; want a database still to create", got, err)
		}
		if n := names(t, base); len(n) != 0 {
			t.Errorf("left behind %v", n)
		}
	})
	t.Run("empty directory", func(t *testing.T) {
		dir := t.TempDir()
		if got, err := Inspect(ctx, dir); err != nil || got.Exists {
			t.Fatalf("Inspect = %+v, %v", got, err)
		}
		if n := names(t, dir); len(n) != 0 {
			t.Errorf("left behind %v", n)
		}
	})
	t.Run("older schema", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "odd #%20 name")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		olderDatabase(t, dir)
		before := names(t, dir)
		got, err := Inspect(ctx, dir)
		if err != nil || !got.Exists || got.Version != 1 {
			t.Fatalf("Inspect = %+v, %v; want version 1", got, err)
		}
		if after := names(t, dir); !slices.Equal(before, after) {
			t.Errorf("files %v became %v", before, after)
		}
		if v, err := userVersion(ctx, rawDB(t, filepath.Join(dir, FileName))); err != nil || v != 1 {
			t.Errorf("schema version after Inspect %d, %v; want 1 (not migrated)", v, err)
		}
	})
	t.Run("open by a running bridge", func(t *testing.T) {
		dir := t.TempDir()
		db := open(t, dir, Options{})
		got, err := Inspect(ctx, dir)
		if err != nil || !got.Exists || got.Version != NewestSchema() {
			t.Fatalf("Inspect = %+v, %v; want version %d", got, err, NewestSchema())
		}
		if _, err := db.sql.ExecContext(ctx, `INSERT INTO handled_messages VALUES ('group:1', 'm1', 0)`); err != nil {
			t.Errorf("the bridge cannot write after Inspect: %v", err)
		}
	})
}

// Inspect refuses what Open refuses, with the same words.
func TestInspectRefusesWhatOpenRefuses(t *testing.T) {
	base := t.TempDir()
	aFile := filepath.Join(base, "file")
	if err := os.WriteFile(aFile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(base, "garbage")
	if err := os.MkdirAll(garbage, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(garbage, FileName), []byte(strings.Repeat("not sqlite ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(base, "newer")
	db := open(t, newer, Options{})
	if _, err := db.sql.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cases := map[string]struct{ dir, want string }{
		"a file, not a directory": {aFile, "cannot create the directory"},
		"under a file":            {filepath.Join(aFile, "data"), "cannot create the directory"},
		"not a database":          {garbage, "not a usable SQLite database"},
		"newer schema":            {newer, "its schema version is 99"},
		"'?' in the path":         {filepath.Join(base, "data?mode=ro"), "a path with '?' cannot be opened"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Inspect(context.Background(), c.dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Inspect error %v; want %q", err, c.want)
			}
			if name == "newer schema" && !errors.Is(err, ErrNewerSchema) {
				t.Errorf("not ErrNewerSchema: %v", err)
			}
			if db, err := Open(context.Background(), c.dir, Options{}); err == nil {
				db.Close()
				t.Errorf("Open took what Inspect refused")
			}
		})
	}
}

// A bridge.db the bridge's user cannot write (left behind by another user)
// is refused, as the bridge itself would fail on its first write. Root
// writes any file, so the case only exists for other users.
func TestInspectRefusesADatabaseFileItCannotWrite(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write a read-only file")
	}
	dir := t.TempDir()
	open(t, dir, Options{}).Close()
	if err := os.Chmod(filepath.Join(dir, FileName), 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "cannot write the database") {
		t.Fatalf("Inspect error %v; want cannot write the database", err)
	}
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// database/sql runs a goroutine per open DB: a leak means a DB not closed.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func open(t testing.TB, dir string, o Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rawDB opens the file as the sqlite3 shell would, without the store.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func tables(t testing.TB, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// A fresh DATA_DIR (even one that does not exist yet) gets bridge.db at the
// newest schema, in WAL mode.
func TestOpenCreatesTheDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	db := open(t, dir, Options{})
	ctx := context.Background()
	if v, err := userVersion(ctx, db.sql); err != nil || v != len(migrations) {
		t.Errorf("schema version %d, %v; want %d", v, err, len(migrations))
	}
	if db.Path() != filepath.Join(dir, "bridge.db") {
		t.Errorf("path %s", db.Path())
	}
	raw := rawDB(t, db.Path())
	if got := strings.Join(tables(t, raw), ","); got != "bindings,handled_messages,queued_messages,verifications,whitelist_changes" {
		t.Errorf("tables %s", got)
	}
	var mode string
	if err := raw.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q, %v", mode, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".write-test") {
			t.Errorf("the write test left %s behind", e.Name())
		}
	}
}

// What was written is there after the bridge starts again, and the schema
// is not migrated twice.
func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	handled := loadHandled(t, db)
	if !handled.FirstTime("group:1", "m1") {
		t.Fatal("first mark: not the first time")
	}
	writeHandled(handled)
	id, err := db.Queue().Append(ctx, "mc:survival", []byte("hello"), db.o.Now())
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = open(t, dir, Options{})
	if loadHandled(t, db).FirstTime("group:1", "m1") {
		t.Error("mark after reopening: the first time again; want already handled")
	}
	list, err := db.Queue().List(ctx, "mc:survival", 0)
	if err != nil || len(list) != 1 || list[0].ID != id || string(list[0].Payload) != "hello" {
		t.Errorf("queue after reopening: %+v, %v", list, err)
	}
	if v, _ := userVersion(ctx, db.sql); v != len(migrations) {
		t.Errorf("schema version %d", v)
	}
}

// A database from a newer bridge is refused, naming both versions, and is
// left as it was.
func TestRefusesANewerSchema(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir, Options{})
	db.Close()
	newer := len(migrations) + 1
	if _, err := rawDB(t, filepath.Join(dir, FileName)).Exec(fmt.Sprintf("PRAGMA user_version = %d", newer)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), dir, Options{})
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("err = %v; want ErrNewerSchema", err)
	}
	msg := err.Error()
	for _, want := range []string{filepath.Join(dir, FileName), fmt.Sprintf("version is %d", newer), fmt.Sprintf("up to %d", len(migrations))} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	var v int
	if err := rawDB(t, filepath.Join(dir, FileName)).QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != newer {
		t.Errorf("version after the refusal %d, %v", v, err)
	}
}

// Each migration step lands whole with its version; a later bridge adds
// steps to a database an older one made, keeping its data; a failing step
// leaves the database at the step before.
func TestMigrationSteps(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	db := rawDB(t, path)
	v1 := []migration{{name: "one", sql: `CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (7);`}}
	if err := migrate(ctx, db, v1); err != nil {
		t.Fatal(err)
	}
	v2 := append(v1, migration{name: "two", sql: `CREATE TABLE b (a_x INTEGER REFERENCES a (x))`})
	if err := migrate(ctx, db, v2); err != nil {
		t.Fatal(err)
	}
	if v, _ := userVersion(ctx, db); v != 2 {
		t.Errorf("version %d; want 2", v)
	}
	var x int
	if err := db.QueryRow(`SELECT x FROM a`).Scan(&x); err != nil || x != 7 {
		t.Errorf("data of step one: %d, %v", x, err)
	}
	broken := append(v2, migration{name: "three", sql: `CREATE TABLE c (y INTEGER); SELECT nonsense FROM nowhere;`})
	err := migrate(ctx, db, broken)
	if err == nil || !strings.Contains(err.Error(), "version 3 (three)") {
		t.Fatalf("broken step: %v", err)
	}
	if v, _ := userVersion(ctx, db); v != 2 {
		t.Errorf("version after a failed step %d; want 2", v)
	}
	if got := strings.Join(tables(t, db), ","); got != "a,b" {
		t.Errorf("tables after a failed step: %s (half a step applied?)", got)
	}
}

// A DATA_DIR the bridge cannot use is an error naming the path, at once.
func TestUnusableDataDir(t *testing.T) {
	base := t.TempDir()
	aFile := filepath.Join(base, "file")
	if err := os.WriteFile(aFile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	notADatabase := filepath.Join(base, "garbage")
	if err := os.MkdirAll(notADatabase, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(notADatabase, FileName), []byte(strings.Repeat("not sqlite ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ dir, want string }{
		"a file, not a directory": {aFile, "cannot create the directory"},
		"under a file":            {filepath.Join(aFile, "data"), "cannot create the directory"},
		"not a database":          {notADatabase, "not a usable SQLite database"},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		readOnly := filepath.Join(base, "readonly")
		if err := os.MkdirAll(readOnly, 0o500); err != nil {
			t.Fatal(err)
		}
		cases["read-only"] = struct{ dir, want string }{readOnly, "cannot write in the directory"}
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			db, err := Open(context.Background(), c.dir, Options{})
			if err == nil {
				db.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if !strings.Contains(err.Error(), c.dir) && !strings.Contains(err.Error(), aFile) {
				t.Errorf("error %q does not name the path", err)
			}
		})
	}
}

// However many handlers see the same message at once, exactly one handles it.
func TestHandledExactlyOnce(t *testing.T) {
	handled := loadHandled(t, open(t, t.TempDir(), Options{}))
	const workers, messages = 8, 20
	wins := make([]int, messages)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			for m := range messages {
				if handled.FirstTime("group:712345678", fmt.Sprint(m)) {
					mu.Lock()
					wins[m]++
					mu.Unlock()
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for m, n := range wins {
		if n != 1 {
			t.Errorf("message %d handled %d times", m, n)
		}
	}
	// The same id in another chat is another message.
	if !handled.FirstTime("group:723456789", "0") {
		t.Error("same id, other group: not the first time")
	}
}

// The handled ids stay bounded, in memory and in the database: per chat by
// count, everywhere by age.
func TestHandledIdsAreBounded(t *testing.T) {
	clock := &fakeClock{}
	const perChat = 100
	db := open(t, t.TempDir(), Options{HandledPerChat: perChat, HandledFor: 24 * time.Hour, Now: clock.now})
	handled := loadHandled(t, db)
	mark := func(chat string, id int) bool {
		t.Helper()
		first := handled.FirstTime(chat, fmt.Sprint(id))
		writeHandled(handled)
		return first
	}
	for id := range 3 * pruneEvery {
		mark("group:1", id)
		if id%pruneEvery == 0 {
			clock.advance(pruneInterval) // pruning happens at most once per interval
		}
	}
	if n := countHandled(t, db, "group:1"); n > perChat+pruneEvery {
		t.Errorf("%d ids kept for one chat; want at most %d", n, perChat+pruneEvery)
	}
	if mark("group:1", 3*pruneEvery-1) {
		t.Error("the newest id was forgotten")
	}
	if !mark("group:1", 0) {
		t.Error("the oldest id is still remembered beyond the per-chat bound")
	}

	mark("group:2", 1)
	clock.advance(25 * time.Hour)
	if !mark("group:2", 1) {
		t.Error("an id older than a day still counts as handled")
	}
	for id := range pruneEvery {
		mark("group:3", id)
	}
	if n := countHandled(t, db, "group:2"); n != 1 {
		t.Errorf("%d ids of group:2 kept; want only the one handled again", n)
	}
	// Reloading keeps the bounds too: group:3 is fresh but over its bound,
	// group:1 is past the age limit.
	reloaded := loadHandled(t, db)
	if c := reloaded.chats["group:3"]; c == nil || len(c.order) > perChat {
		t.Errorf("ids of group:3 after reloading: %+v; want at most %d", c, perChat)
	}
	if c := reloaded.chats["group:1"]; c != nil {
		t.Errorf("%d ids older than a day loaded", len(c.order))
	}
}

// loadHandled loads db's handled ids.
func loadHandled(t *testing.T, db *DB) *HandledIDs {
	t.Helper()
	h, err := db.LoadHandled(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// writeHandled writes what h recorded, as Run does in the background.
func writeHandled(h *HandledIDs) {
	h.write(context.Background(), func(err error) { panic(err) })
}

func countHandled(t testing.TB, db *DB, chat string) int {
	t.Helper()
	var n int
	if err := db.sql.QueryRow(`SELECT count(*) FROM handled_messages WHERE chat = ?`, chat).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

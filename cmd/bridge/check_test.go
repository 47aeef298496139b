package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/standin/rcon"
	"github.com/mcqq/bridge/store"
)

// runCheckIn runs bridge -check with env in a fresh working directory (no
// .env) and returns its exit code and output, standard output first.
func runCheckIn(t *testing.T, env map[string]string) (int, string) {
	t.Helper()
	t.Chdir(t.TempDir())
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-check"}, environ, &out, &errOut)
	return code, out.String() + errOut.String()
}

// tableRow is the -check table row that starts with name, its columns
// separated by single spaces; "" when there is none.
func tableRow(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, name+" ") {
			return strings.Join(strings.Fields(line), " ")
		}
	}
	return ""
}

// A connection that uses up -check's whole time (here QueQiao's URL points
// at a port that accepts and never answers) does not make a healthy
// database look unusable.
func TestCheckDatabaseAfterASlowConnection(t *testing.T) {
	bot := started(t, onebot.New(onebot.Options{}))
	bot.SetGroupName(groupA, "MC服务器交流群")
	silent := started(t, rcon.New("pw", func(string) string { return "" })) // speaks no HTTP
	dataDir := t.TempDir()
	db, err := store.Open(context.Background(), dataDir, store.Options{})
	must(t, err)
	must(t, db.Close())

	code, out := runCheckIn(t, map[string]string{
		"QQ_URL": bot.URL(), "HTTP_LISTEN": "none", "REQUEST_TIMEOUT": "1s", "DATA_DIR": dataDir,
		"MC_0_NAME": "survival", "MC_0_WS_URL": "ws://" + silent.Addr(), "MC_0_GROUPS": strconv.Itoa(groupA),
	})
	if code != exitFail || !strings.Contains(tableRow(out, "queqiao survival"), "FAIL") {
		t.Fatalf("exit %d; want the QueQiao row to fail:\n%s", code, out)
	}
	want := "database " + filepath.Join(dataDir, store.FileName) + " ok (schema version 2)"
	if got := tableRow(out, "database"); got != want {
		t.Errorf("database row %q; want %q\n%s", got, want, out)
	}
}

// -check says what the bridge would do with the database at start and does
// none of it: it creates no DATA_DIR or database and migrates nothing, so
// a newer bridge's -check run before an upgrade leaves the running older
// bridge's database as it was.
func TestCheckLeavesTheDatabaseAlone(t *testing.T) {
	env := func(dataDir string) map[string]string {
		return map[string]string{
			"QQ_URL": "ws://" + freeAddr(t) + "/", "HTTP_LISTEN": "none", "DATA_DIR": dataDir,
			"MC_0_NAME": "survival", "MC_0_WS_URL": "ws://" + freeAddr(t), "MC_0_GROUPS": strconv.Itoa(groupA),
		}
	}
	t.Run("missing", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "data")
		_, out := runCheckIn(t, env(dataDir))
		want := "database " + filepath.Join(dataDir, store.FileName) + " ok: will be created at start (schema version 2)"
		if got := tableRow(out, "database"); got != want {
			t.Errorf("database row %q; want %q\n%s", got, want, out)
		}
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Errorf("-check created DATA_DIR (%v)", err)
		}
	})
	t.Run("older schema", func(t *testing.T) {
		dataDir := t.TempDir()
		db, err := store.Open(context.Background(), dataDir, store.Options{})
		must(t, err)
		must(t, db.Close())
		setSchemaVersion(t, filepath.Join(dataDir, store.FileName), 1) // as a bridge one step older left it
		before, _ := os.ReadDir(dataDir)

		_, out := runCheckIn(t, env(dataDir))
		want := "database " + filepath.Join(dataDir, store.FileName) + " ok: would migrate from schema v1 to v2 at start"
		if got := tableRow(out, "database"); got != want {
			t.Errorf("database row %q; want %q\n%s", got, want, out)
		}
		if v := schemaVersion(t, filepath.Join(dataDir, store.FileName)); v != 1 {
			t.Errorf("schema version after -check %d; want 1 (not migrated)", v)
		}
		after, _ := os.ReadDir(dataDir)
		if !slices.EqualFunc(before, after, func(a, b os.DirEntry) bool { return a.Name() == b.Name() }) {
			t.Errorf("-check left files behind: %v became %v", before, after)
		}
	})
}

func setSchemaVersion(t *testing.T, path string, v int) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	must(t, err)
	defer db.Close()
	_, err = db.Exec("PRAGMA user_version = " + strconv.Itoa(v))
	must(t, err)
}

func schemaVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	must(t, err)
	defer db.Close()
	var v int
	must(t, db.QueryRow("PRAGMA user_version").Scan(&v))
	return v
}

// -check's results say each thing once: no "dial: dial tcp …", no
// "rcon: rcon: …", whatever layer the error passed through.
func TestCheckErrorsSayEachThingOnce(t *testing.T) {
	console := started(t, rcon.New("rcon-pw", func(string) string { return "" }))
	notRCON := started(t, queqiao.New(queqiao.Options{ServerName: "creative"})) // an HTTP server: never answers an RCON login
	_, out := runCheckIn(t, map[string]string{
		"QQ_URL": "ws://" + freeAddr(t) + "/", "HTTP_LISTEN": "none", "REQUEST_TIMEOUT": "1s",
		"MC_0_NAME": "survival", "MC_0_WS_URL": "ws://" + freeAddr(t), "MC_0_GROUPS": strconv.Itoa(groupA),
		"MC_0_RCON_ADDR": console.Addr(), "MC_0_RCON_PASSWORD": "wrong-password",
		"MC_1_NAME": "creative", "MC_1_WS_URL": notRCON.URL(), "MC_1_GROUPS": strconv.Itoa(groupA),
		"MC_1_RCON_ADDR": strings.TrimSuffix(strings.TrimPrefix(notRCON.URL(), "ws://"), "/"), "MC_1_RCON_PASSWORD": "pw",
	})
	for _, name := range []string{"qq (onebot)", "queqiao survival", "rcon survival", "rcon creative"} {
		if !strings.Contains(tableRow(out, name), "FAIL") {
			t.Errorf("%s did not fail:\n%s", name, out)
		}
	}
	if !strings.HasSuffix(tableRow(out, "rcon survival"), ": authenticating: authentication failed (wrong RCON password?)") {
		t.Errorf("rcon survival: %q", tableRow(out, "rcon survival"))
	}
	for _, twice := range []string{`dial: dial`, `: rcon: `, `dial ws://\S+: dial tcp`} {
		if m := regexp.MustCompile(twice).FindString(out); m != "" {
			t.Errorf("says it twice: %q in\n%s", m, out)
		}
	}
}

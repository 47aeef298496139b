package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mcqq/bridge/internal/standin/onebot"
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
	bot := onebot.New(onebot.Options{})
	must(t, bot.Start("127.0.0.1:0"))
	t.Cleanup(bot.Stop)
	bot.SetGroupName(groupA, "MC服务器交流群")
	silent := rcon.New("pw", func(string) string { return "" }) // speaks no HTTP
	must(t, silent.Start("127.0.0.1:0"))
	t.Cleanup(silent.Stop)
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

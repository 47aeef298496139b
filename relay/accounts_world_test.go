package relay

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/store"
)

// What the account tests share: a real accounts database, a clock the test
// moves, and what the servers' consoles were asked to run.

// carol is a member without admin rights besides bob; only the tests that
// add her know her.
var carol = qq.Member{UserID: 1122334455, Nickname: "Carol", Role: "member"}

// boundAt is when the account tests' bindings are made, in local time so
// that replies show it as written: 2026-05-01 12:00.
var boundAt = time.Date(2026, 5, 1, 12, 0, 0, 0, time.Local)

// openAccounts opens a real database in dir, closed when the test ends.
func openAccounts(t *testing.T, dir string) (*store.DB, *store.Accounts) {
	t.Helper()
	db, err := store.Open(context.Background(), dir, store.Options{})
	check(t, err)
	t.Cleanup(func() { db.Close() })
	return db, db.Accounts()
}

// testClock is a clock the test moves by hand. Safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// accountWorld is a world with accounts on: a fresh database in the test's
// temporary directory, the clock at boundAt, and the configuration's
// default rules (BIND_MAX=1), and testOptions changed by adjust.
func accountWorld(t *testing.T, servers []serverSpec, adjust func(*Options)) (*world, *store.Accounts, *testClock) {
	t.Helper()
	_, acc := openAccounts(t, t.TempDir())
	clock := &testClock{t: boundAt}
	w := startWorld(t, servers, func(o *Options) {
		o.Accounts, o.Now = acc, clock.now
		o.Bind.Max = 1
		if adjust != nil {
			adjust(o)
		}
	})
	return w, acc, clock
}

// commandWith posts text followed by segs (mentions) as m in group and
// returns the reply.
func (w *world) commandWith(group int64, m qq.Member, text string, segs ...qq.Segment) string {
	w.t.Helper()
	return w.reply(group, w.say(group, m, append([]qq.Segment{qq.Text(text)}, segs...)...))
}

// consoleCommands is what server's RCON stand-in ran that starts with prefix.
func (w *world) consoleCommands(server, prefix string) []string {
	var out []string
	for _, c := range w.consoles[server].Commands() {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// pluginCommands is what server's QueQiao stand-in was asked to run
// (send_rcon_command) that starts with prefix.
func (w *world) pluginCommands(server, prefix string) []string {
	var out []string
	for _, r := range w.requests(server, "send_rcon_command") {
		var d struct{ Command string }
		check(w.t, json.Unmarshal(r.Data, &d))
		if strings.HasPrefix(d.Command, prefix) {
			out = append(out, d.Command)
		}
	}
	return out
}

// notice waits for a message to group that quotes nothing and starts with
// prefix, and returns its text.
func (w *world) notice(group int64, prefix string) string {
	w.t.Helper()
	var text string
	w.waitFor("a message to "+prefix, func() bool {
		for _, s := range w.bot.Sent() {
			if s.GroupID == group && len(s.Message) > 0 && s.Message[0].Type != qq.SegReply && strings.HasPrefix(s.Text, prefix) {
				text = s.Text
				return true
			}
		}
		return false
	})
	return text
}

// waitLine waits for group to be sent line (one line of a message).
func (w *world) waitLine(group int64, line string) {
	w.t.Helper()
	w.waitFor("the line "+line, func() bool { return slices.Contains(w.lines(group), line) })
}

// waitLog waits for a log line containing text.
func (w *world) waitLog(text string) {
	w.t.Helper()
	w.waitFor("the log to say "+text, func() bool { return strings.Contains(w.logs.String(), text) })
}

// pending lists the whitelist changes waiting for server in the database,
// as "add Steve".
func pending(t *testing.T, acc *store.Accounts, server string) []string {
	t.Helper()
	changes, err := acc.PendingWhitelist(context.Background(), server)
	check(t, err)
	var out []string
	for _, c := range changes {
		out = append(out, c.Action+" "+c.Player)
	}
	return out
}

// boundTo is the QQ number player is bound to, 0 when nobody.
func boundTo(t *testing.T, acc *store.Accounts, player string) int64 {
	t.Helper()
	b, err := acc.Binding(context.Background(), player)
	if errors.Is(err, store.ErrNotBound) {
		return 0
	}
	check(t, err)
	return b.QQ
}

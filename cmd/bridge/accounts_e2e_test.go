package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/store"
)

// carol is a member without admin rights besides bob.
var carol = qq.Member{UserID: 1122334455, Nickname: "Carol", Role: "member"}

// ask says text in group as m and returns the bridge's reply to it.
func (w *world) ask(group int64, m qq.Member, text string) string {
	w.t.Helper()
	return w.reply(group, w.say(group, m, qq.Text(text)))
}

// consoleCommands returns the commands server's RCON stand-in ran that
// start with prefix.
func (w *world) consoleCommands(server, prefix string) []string {
	var out []string
	for _, c := range w.rcon[server].Commands() {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// pluginCommands returns the send_rcon_command commands the QueQiao
// stand-in of server got that start with prefix.
func (w *world) pluginCommands(server, prefix string) []string {
	var out []string
	for _, r := range w.requests(server, "send_rcon_command") {
		var d struct{ Command string }
		_ = json.Unmarshal(r.Data, &d)
		if strings.HasPrefix(d.Command, prefix) {
			out = append(out, d.Command)
		}
	}
	return out
}

// database opens DATA_DIR/bridge.db as the sqlite3 shell would.
func (w *world) database() *sql.DB {
	w.t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(w.env["DATA_DIR"], store.FileName))
	must(w.t, err)
	w.t.Cleanup(func() { db.Close() })
	return db
}

// bindings lists "qq player group" for every binding in the database.
func (w *world) bindings() []string {
	w.t.Helper()
	rows, err := w.database().Query(`SELECT qq, player, group_id FROM bindings ORDER BY player`)
	must(w.t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var qqNum, group int64
		var player string
		must(w.t, rows.Scan(&qqNum, &player, &group))
		out = append(out, strconv.FormatInt(qqNum, 10)+" "+player+" "+strconv.FormatInt(group, 10))
	}
	return out
}

// pendingWhitelist counts the whitelist changes waiting in the database.
func (w *world) pendingWhitelist() int {
	w.t.Helper()
	var n int
	must(w.t, w.database().QueryRow(`SELECT count(*) FROM whitelist_changes`).Scan(&n))
	return n
}

func binding(m qq.Member, player string, group int64) string {
	return strconv.FormatInt(m.UserID, 10) + " " + player + " " + strconv.FormatInt(group, 10)
}

// /bind stores the binding and adds the name to the whitelist of each
// whitelist server of the group — over RCON, else QueQiao's
// send_rcon_command — and of no other server; the reply says so. A name
// bound by someone else (in any case), a bad name and a name over
// BIND_MAX are refused with reasons; /whois, /bindings and /mch know the
// commands.
func TestBindAddsToTheWhitelistOfTheGroupsServers(t *testing.T) {
	a, b := strconv.Itoa(groupA), strconv.Itoa(groupB)
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: a, rcon: true, whitelist: true},
		{name: "skyblock", groups: a, whitelist: true}, // no RCON: through the plugin
		{name: "creative", groups: a, rcon: true},      // whitelist not kept
		{name: "lobby", groups: b, rcon: true, whitelist: true},
	}, nil)
	w.mc["skyblock"].SetRCON(func(cmd string) string { return "Added Steve to the whitelist" })

	if got := w.ask(groupA, bob, "/bind Steve"); got != "已绑定 Steve\n[survival] 已加入白名单\n[skyblock] 已加入白名单" {
		t.Errorf("reply %q", got)
	}
	if got := w.consoleCommands("survival", "whitelist"); !slices.Equal(got, []string{"whitelist add Steve"}) {
		t.Errorf("survival's RCON ran %q", got)
	}
	if got := w.pluginCommands("skyblock", "whitelist"); !slices.Equal(got, []string{"whitelist add Steve"}) {
		t.Errorf("skyblock's plugin ran %q", got)
	}
	if got := append(w.consoleCommands("creative", "whitelist"), w.consoleCommands("lobby", "whitelist")...); len(got) != 0 {
		t.Errorf("servers that do not keep this group's whitelist ran %q", got)
	}
	if got := w.bindings(); !slices.Equal(got, []string{binding(bob, "Steve", groupA)}) {
		t.Errorf("database holds %q", got)
	}

	for _, c := range []struct {
		who        qq.Member
		text, want string
	}{
		{alice, "/bind steve", "Steve 已被其他成员绑定；如有疑问请联系管理员"},
		{bob, "/绑定 STEVE", "你已绑定 Steve"},
		{bob, "/bind Alex", "你已绑定 Steve，每人最多绑定 1 个名字；换名字请先用 /unbind 解绑"},
		{carol, "/bind Al-ex", "玩家名“Al-ex”不合要求：应为 3–16 位英文字母、数字或下划线"},
		{carol, "/bind @a", "玩家名“@a”不合要求：应为 3–16 位英文字母、数字或下划线"},
		{carol, "/bind", "用法：/bind <玩家名>"},
		{carol, "/bindings", "仅管理员可使用 /bindings"},
	} {
		if got := w.ask(groupA, c.who, c.text); got != c.want {
			t.Errorf("%s %q: reply %q, want %q", c.who.Nickname, c.text, got, c.want)
		}
	}
	if got := w.bindings(); !slices.Equal(got, []string{binding(bob, "Steve", groupA)}) {
		t.Errorf("after the refusals the database holds %q", got)
	}
	if got := w.consoleCommands("survival", "whitelist"); len(got) != 1 {
		t.Errorf("refusals reached the whitelist: %q", got)
	}

	day := time.Now().Format("2006-01-02")
	if got := w.ask(groupA, carol, "/whois steve"); !strings.HasPrefix(got, "Steve 由 Bob（QQ 1357924680）绑定，绑定于 "+day) {
		t.Errorf("/whois steve: %q", got)
	}
	if got := w.ask(groupA, carol, "/查询 Herobrine"); got != "Herobrine 还没有被绑定" {
		t.Errorf("/whois of a free name: %q", got)
	}
	id := w.say(groupA, carol, qq.Text("/whois "), seg(qq.SegAt, "qq", strconv.FormatInt(bob.UserID, 10)))
	if got := w.reply(groupA, id); !strings.HasPrefix(got, "Bob（QQ 1357924680）绑定了 Steve（"+day) {
		t.Errorf("/whois @bob: %q", got)
	}
	if got := w.ask(groupA, alice, "/bindings"); !strings.HasPrefix(got, "共 1 个绑定：\nSteve — QQ 1357924680，"+day) {
		t.Errorf("/bindings: %q", got)
	}
	help := w.ask(groupA, carol, "/mch")
	for _, want := range []string{"/bind <玩家名>", "/unbind [玩家名]", "/whois <玩家名或@成员>"} {
		if !strings.Contains(help, want) {
			t.Errorf("/mch lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "/bindings") {
		t.Errorf("/mch shows a member /bindings:\n%s", help)
	}
	// None of it was chat.
	if n := len(w.requests("survival", "broadcast")); n != 0 {
		t.Errorf("%d account commands reached the game as chat", n)
	}
}

// Two members binding one name at once: exactly one gets it, and it is
// added to the whitelist once.
func TestConcurrentBindsOfOneNameOneWins(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA), rcon: true, whitelist: true}}, nil)
	for round, name := range []string{"Steve", "Alex", "Notch"} {
		members := []qq.Member{alice, bob, carol}
		var ids [3]int64
		var wg sync.WaitGroup
		for i, m := range members {
			wg.Go(func() { ids[i] = w.say(groupA, m, qq.Text("/bind "+name)) })
		}
		wg.Wait()
		won := 0
		for _, id := range ids {
			switch got := w.reply(groupA, id); {
			case strings.HasPrefix(got, "已绑定 "+name):
				won++
			case got != name+" 已被其他成员绑定；如有疑问请联系管理员":
				t.Errorf("round %d: reply %q", round, got)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d members bound %s", round, won, name)
		}
		w.waitFor("the whitelist", func() bool { return len(w.consoleCommands("survival", "whitelist add "+name)) >= 1 })
		if got := w.consoleCommands("survival", "whitelist add "+name); len(got) != 1 {
			t.Errorf("round %d: whitelist commands %q", round, got)
		}
		// Everyone is bound now or loses to the next round: unbind all.
		for _, m := range members {
			w.ask(groupA, m, "/unbind")
		}
	}
}

// A whitelist server that is down when /bind runs — its RCON, or the
// plugin's WebSocket when the whitelist goes through QueQiao (no
// MC_<n>_RCON_ADDR): the reply says the name will be added, and once the
// server is back "whitelist add" arrives there exactly once — also when
// the bridge was restarted in between (same DATA_DIR), which keeps the
// bindings too.
func TestWhitelistChangeWaitsForTheServer(t *testing.T) {
	for _, viaPlugin := range []bool{false, true} {
		for _, restart := range []bool{false, true} {
			name := map[bool]string{false: "rcon", true: "plugin"}[viaPlugin] + " " +
				map[bool]string{false: "reconnect", true: "bridge restarted"}[restart]
			t.Run(name, func(t *testing.T) {
				w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA), rcon: !viaPlugin, whitelist: true}}, nil)
				mc := w.mc["survival"]
				var down interface{ Restart() error }
				commands := func() []string { return w.consoleCommands("survival", "whitelist") }
				if viaPlugin {
					mc.SetRCON(func(cmd string) string { return "ran " + cmd })
					mc.Stop()
					w.waitFor("the bridge to see the plugin gone", func() bool { return !w.bridge.games[0].State().Up() })
					down = mc
					commands = func() []string { return w.pluginCommands("survival", "whitelist") }
				} else {
					console := w.rcon["survival"]
					console.Stop()
					down = console
				}
				if got := w.ask(groupA, bob, "/bind Alex"); got != "已绑定 Alex\n[survival] 未连接，恢复后自动加入" {
					t.Errorf("reply %q", got)
				}
				if w.pendingWhitelist() != 1 {
					t.Errorf("%d changes waiting in the database; want 1", w.pendingWhitelist())
				}
				if restart {
					w.stopBridge()
					w.runBridge()
					w.waitFor("the bridge to start", func() bool {
						return w.bridge.qq.State().Up() && (viaPlugin || w.bridge.games[0].State().Up())
					})
				}
				must(t, down.Restart())
				w.waitFor("whitelist add Alex", func() bool { return len(commands()) > 0 })
				w.waitFor("the change to leave the database", func() bool { return w.pendingWhitelist() == 0 })
				// Nothing is left to send it again; a command after it, down
				// the same path, shows the server has moved on.
				listed := "[survival] There are 1 of a max of 20 players online: Steve"
				if viaPlugin {
					listed = "[survival] ran list"
				}
				if got := w.ask(groupA, alice, "/mcc list"); got != listed {
					t.Errorf("/mcc list: %q", got)
				}
				if got := commands(); !slices.Equal(got, []string{"whitelist add Alex"}) {
					t.Errorf("the server ran %q", got)
				}
				if got := w.bindings(); !slices.Equal(got, []string{binding(bob, "Alex", groupA)}) {
					t.Errorf("database holds %q", got)
				}
				if got := w.ask(groupA, carol, "/whois Alex"); !strings.HasPrefix(got, "Alex 由 Bob（QQ 1357924680）绑定") {
					t.Errorf("/whois after the outage: %q", got)
				}
			})
		}
	}
}

// /unbind removes one's own binding, an admin's /unbind @member and
// /unbind <name> someone else's, and each sends "whitelist remove"; a
// member cannot unbind another's name.
func TestUnbind(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA), rcon: true, whitelist: true}}, nil)
	w.bot.AddMember(groupA, carol)
	removes := func() []string { return w.consoleCommands("survival", "whitelist remove") }

	if got := w.ask(groupA, bob, "/unbind"); got != "你还没有绑定玩家名" {
		t.Errorf("unbind without a binding: %q", got)
	}
	w.ask(groupA, bob, "/bind Steve")
	if got := w.ask(groupA, carol, "/unbind Steve"); got != "只有管理员可以解绑别人的名字" {
		t.Errorf("a member unbinding another's name: %q", got)
	}
	if got := w.ask(groupA, bob, "/unbind"); got != "已解绑 Steve\n[survival] 已移出白名单" {
		t.Errorf("/unbind: %q", got)
	}
	if got := w.bindings(); len(got) != 0 {
		t.Errorf("after /unbind the database holds %q", got)
	}

	w.ask(groupA, bob, "/bind Steve")
	id := w.say(groupA, alice, qq.Text("/unbind "), seg(qq.SegAt, "qq", strconv.FormatInt(bob.UserID, 10)))
	if got := w.reply(groupA, id); got != "已解绑 Steve\n[survival] 已移出白名单" {
		t.Errorf("admin /unbind @bob: %q", got)
	}
	w.ask(groupA, bob, "/bind Steve")
	if got := w.ask(groupA, owner, "/解绑 steve"); got != "已解绑 Steve\n[survival] 已移出白名单" {
		t.Errorf("admin /unbind steve: %q", got)
	}
	if got := removes(); !slices.Equal(got, []string{"whitelist remove Steve", "whitelist remove Steve", "whitelist remove Steve"}) {
		t.Errorf("removals %q", got)
	}
	if got := w.bindings(); len(got) != 0 {
		t.Errorf("database holds %q", got)
	}
}

// A database written by a newer bridge stops start-up with one line naming
// DATA_DIR and what to do; the file is left as it was.
func TestNewerDatabaseStopsStartup(t *testing.T) {
	t.Chdir(t.TempDir()) // no .env
	dataDir := t.TempDir()
	db, err := store.Open(context.Background(), dataDir, store.Options{})
	must(t, err)
	db.Close()
	raw, err := sql.Open("sqlite", filepath.Join(dataDir, store.FileName))
	must(t, err)
	_, err = raw.Exec(`PRAGMA user_version = 99`)
	raw.Close()
	must(t, err)
	environ := []string{"QQ_URL=ws://127.0.0.1:1/", "MC_0_NAME=survival", "MC_0_WS_URL=ws://127.0.0.1:1",
		"MC_0_GROUPS=" + strconv.Itoa(groupA), "HTTP_LISTEN=none", "LOG_FORMAT=text", "DATA_DIR=" + dataDir}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, environ, &out, &errOut); code != exitFail {
		t.Fatalf("exit %d; want %d\n%s", code, exitFail, errOut.String())
	}
	if !strings.Contains(errOut.String(), "DATA_DIR "+dataDir+":") || !strings.Contains(errOut.String(), "newer bridge") ||
		!strings.Contains(errOut.String(), "version is 99") {
		t.Errorf("log does not explain:\n%s", errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dataDir, store.FileName)); err != nil {
		t.Errorf("the database is gone: %v", err)
	}
}

// A whitelist server reached through QueQiao whose RCON is switched off:
// the reply says why the change waits, and it goes through once RCON is on,
// without anyone asking again.
func TestWhitelistChangeRetriedWhileConnected(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA), whitelist: true}}, nil)
	if got := w.ask(groupA, bob, "/bind Steve"); got != "已绑定 Steve\n[survival] 暂未完成（Rcon 功能未在配置文件中启用），稍后自动重试" {
		t.Errorf("reply %q", got)
	}
	w.mc["survival"].SetRCON(func(cmd string) string { return "Added Steve to the whitelist" })
	w.waitFor("the change to go through", func() bool { return w.pendingWhitelist() == 0 })
	if got := w.pluginCommands("survival", "whitelist"); len(got) < 2 || got[len(got)-1] != "whitelist add Steve" {
		t.Errorf("the plugin got %q", got)
	}
}

package relay

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/store"
)

// A whitelist server that is down: the replies say each change will follow,
// the changes wait in the database, and once the server is back they run
// there in the order they were made, each exactly once. A server that is up
// meanwhile is not held up.
func TestWhitelistChangesWaitForAServerThatIsDown(t *testing.T) {
	w, acc, _ := accountWorld(t, []serverSpec{
		{name: "survival", groups: []int64{groupA}, rcon: true, whitelist: true},
		{name: "skyblock", groups: []int64{groupA}, whitelist: true},
	}, nil)
	w.mc["skyblock"].SetRCON(func(cmd string) string { return "ok" })
	console := w.consoles["survival"]
	console.Stop()
	for _, c := range []struct {
		who        qq.Member
		text, want string
	}{
		{bob, "/bind Alex", "已绑定 Alex\n[survival] 未连接，恢复后自动加入\n[skyblock] 已加入白名单"},
		{bob, "/unbind", "已解绑 Alex\n[survival] 未连接，恢复后自动移出\n[skyblock] 已移出白名单"},
		{alice, "/bind Alex", "已绑定 Alex\n[survival] 未连接，恢复后自动加入\n[skyblock] 已加入白名单"},
	} {
		if got := w.command(groupA, c.who, c.text); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.who.Nickname, c.text, got, c.want)
		}
	}
	want := []string{"add Alex", "remove Alex", "add Alex"}
	if got := pending(t, acc, "survival"); !slices.Equal(got, want) {
		t.Errorf("waiting for survival: %q, want %q", got, want)
	}
	if got := pending(t, acc, "skyblock"); len(got) != 0 {
		t.Errorf("waiting for skyblock, which is up: %q", got)
	}

	check(t, console.Restart())
	w.waitFor("the changes to leave the database", func() bool { return len(pending(t, acc, "survival")) == 0 })
	// A command after them shows the console has moved on: nothing is left
	// to run twice.
	if got := w.command(groupA, alice, "/mcc @survival list"); got != "[survival] ran list" {
		t.Errorf("/mcc list: %q", got)
	}
	want = []string{"whitelist add Alex", "whitelist remove Alex", "whitelist add Alex"}
	if got := w.consoleCommands("survival", "whitelist"); !slices.Equal(got, want) {
		t.Errorf("the console ran %q, want %q", got, want)
	}
}

// What the last run left waiting is applied at start, in order; changes
// for a server that no longer keeps its whitelist (or is gone) stay in the
// database and the log says so.
func TestWhitelistChangesLeftByTheLastRun(t *testing.T) {
	_, acc := openAccounts(t, t.TempDir())
	ctx := context.Background()
	bind := func(qq int64, player string, servers ...string) store.Binding {
		t.Helper()
		b := store.Binding{QQ: qq, Player: player, Group: groupA, BoundAt: boundAt}
		_, err := acc.Bind(ctx, store.BindRequest{Binding: b, Whitelist: servers})
		check(t, err)
		return b
	}
	steve := bind(bob.UserID, "Steve", "survival", "retired")
	bind(alice.UserID, "Alex", "survival")
	bind(owner.UserID, "Notch", "creative")
	_, err := acc.Unbind(ctx, steve, []string{"survival"}, boundAt)
	check(t, err)

	w := startWorld(t, []serverSpec{
		{name: "survival", groups: []int64{groupA}, rcon: true, whitelist: true},
		{name: "creative", groups: []int64{groupA}, rcon: true},
	}, func(o *Options) { o.Accounts = acc })
	for _, server := range []string{"retired", "creative"} {
		w.waitLog("they stay in the database\" server=" + server)
	}
	w.waitFor("survival's changes to run", func() bool { return len(pending(t, acc, "survival")) == 0 })
	want := []string{"whitelist add Steve", "whitelist add Alex", "whitelist remove Steve"}
	if got := w.consoleCommands("survival", "whitelist"); !slices.Equal(got, want) {
		t.Errorf("survival ran %q, want %q", got, want)
	}
	if got := w.consoleCommands("creative", "whitelist"); len(got) != 0 {
		t.Errorf("creative, which keeps no whitelist, ran %q", got)
	}
	// Steve's remove follows his add to retired, though survival is all
	// his group has now.
	for server, want := range map[string][]string{"retired": {"add Steve", "remove Steve"}, "creative": {"add Notch"}} {
		if got := pending(t, acc, server); !slices.Equal(got, want) {
			t.Errorf("waiting for %s: %q, want %q", server, got, want)
		}
	}
}

// A change the server fails while connected (RCON switched off in the
// plugin, no answer in time) is explained and retried without anyone
// asking again; the failure is logged once, not once per attempt.
func TestWhitelistChangeRetriedWhileConnected(t *testing.T) {
	t.Run("RCON off", func(t *testing.T) {
		t.Parallel() // mostly waits for the retry
		w, acc, _ := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}, whitelist: true}}, nil)
		if got := w.command(groupA, bob, "/bind Steve"); got != "已绑定 Steve\n[survival] 暂未完成（Rcon 功能未在配置文件中启用），稍后自动重试" {
			t.Errorf("reply %q", got)
		}
		w.waitFor("a second attempt", func() bool { return len(w.pluginCommands("survival", "whitelist")) >= 2 })
		w.mc["survival"].SetRCON(func(cmd string) string { return "Added Steve to the whitelist" })
		w.waitFor("the change to go through", func() bool { return len(pending(t, acc, "survival")) == 0 })
		w.waitLog("whitelist changes go through again")
		if n := strings.Count(w.logs.String(), "whitelist change not applied yet"); n != 1 {
			t.Errorf("the failure was logged %d times, want once", n)
		}
	})
	t.Run("no answer in time", func(t *testing.T) {
		t.Parallel() // mostly waits for timeouts
		w, acc, _ := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}, whitelist: true}},
			func(o *Options) { o.RequestTimeout = time.Second })
		mc := w.mc["survival"]
		mc.SetRCON(func(cmd string) string { return "Added Steve to the whitelist" })
		mc.SetSilent("send_rcon_command", true)
		if got := w.command(groupA, bob, "/bind Steve"); got != "已绑定 Steve\n[survival] 暂未完成（服务器没有及时回应），稍后自动重试" {
			t.Errorf("reply %q", got)
		}
		mc.SetSilent("send_rcon_command", false)
		w.waitFor("the change to go through", func() bool { return len(pending(t, acc, "survival")) == 0 })
	})
}

// A name the server has no account for is answered as such and not tried
// again.
func TestWhitelistNameTheServerDoesNotKnow(t *testing.T) {
	w, acc, _ := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}, rcon: true, whitelist: true,
		console: func(cmd string) string { return "That player does not exist" }}}, nil)
	if got := w.command(groupA, bob, "/bind Ghost_01"); got != "已绑定 Ghost_01\n[survival] 服务器找不到玩家 Ghost_01，未能加入白名单" {
		t.Errorf("reply %q", got)
	}
	// The reply is sent as the change settles; the database follows.
	w.waitFor("the refused change to leave the database", func() bool { return len(pending(t, acc, "survival")) == 0 })
}

package relay

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcqq/bridge/qq"
)

// /bind stores the binding and adds the name to the whitelist of each
// whitelist server of the group — over RCON, else QueQiao's
// send_rcon_command — and of no other server; the reply says so, one line
// per server. A name bound by someone else (in any case), a bad name, a
// second name over BIND_MAX and a /bind outside a bound group are refused
// with reasons and change nothing; /mch lists the account commands.
func TestBindAddsToTheWhitelistOfTheGroupsServers(t *testing.T) {
	w, acc, _ := accountWorld(t, []serverSpec{
		{name: "survival", groups: []int64{groupA}, rcon: true, whitelist: true},
		{name: "skyblock", groups: []int64{groupA}, whitelist: true}, // no RCON: through the plugin
		{name: "creative", groups: []int64{groupA}, rcon: true},      // whitelist not kept
		{name: "lobby", groups: []int64{groupB}, rcon: true, whitelist: true},
	}, nil)
	w.mc["skyblock"].SetRCON(func(cmd string) string { return "Added Steve to the whitelist" })

	if got := w.command(groupA, bob, "/bind Steve"); got != "已绑定 Steve\n[survival] 已加入白名单\n[skyblock] 已加入白名单" {
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
	if boundTo(t, acc, "Steve") != bob.UserID {
		t.Error("the binding is not stored")
	}

	long := strings.Repeat("x", 40)
	for _, c := range []struct {
		who        qq.Member
		text, want string
	}{
		{alice, "/bind steve", "Steve 已被其他成员绑定；如有疑问请联系管理员"},
		{bob, "/绑定 STEVE", "你已绑定 Steve"},
		{bob, "/bind Alex", "你已绑定 Steve，每人最多绑定 1 个名字；换名字请先用 /unbind 解绑"},
		{alice, "/bind Al-ex", "玩家名“Al-ex”不合要求：应为 3–16 位英文字母、数字或下划线"},
		{alice, "/bind @a", "玩家名“@a”不合要求：应为 3–16 位英文字母、数字或下划线"},
		{alice, "/bind " + long, "玩家名“" + long[:32] + "…”不合要求：应为 3–16 位英文字母、数字或下划线"},
		{alice, "/bind", "用法：/bind <玩家名>"},
		{alice, "/BIND Alex Steve", "用法：/bind <玩家名>"},
		{bob, "/bindings", "仅管理员可使用 /bindings"},
	} {
		if got := w.command(groupA, c.who, c.text); got != c.want {
			t.Errorf("%s %q: reply %q, want %q", c.who.Nickname, c.text, got, c.want)
		}
	}
	if got := w.privateCommand(owner, "/bind Alex"); got != "请在绑定了服务器的 QQ 群里使用 /bind" {
		t.Errorf("/bind in private chat: %q", got)
	}
	for _, name := range []string{"Alex", "Al-ex", "@a", long} {
		if boundTo(t, acc, name) != 0 {
			t.Errorf("a refused /bind stored %s", name)
		}
	}
	if got := w.consoleCommands("survival", "whitelist"); len(got) != 1 {
		t.Errorf("refusals reached the whitelist: %q", got)
	}

	help := w.command(groupA, bob, "/mch")
	for _, want := range []string{"/bind <玩家名> — 绑定你的游戏名（别名 /绑定）",
		"/unbind [玩家名] — 解绑你的游戏名（别名 /解绑）", "/whois <玩家名或@成员> — 查询绑定（别名 /查询）"} {
		if !strings.Contains(help, want) {
			t.Errorf("/mch lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "/bindings") {
		t.Errorf("/mch shows a member /bindings:\n%s", help)
	}
	help = w.command(groupA, alice, "/mch")
	for _, want := range []string{"/unbind [玩家名或@成员] — 解绑（别名 /解绑）", "/bindings — 查看绑定总数和最近的绑定"} {
		if !strings.Contains(help, want) {
			t.Errorf("an admin's /mch lacks %q:\n%s", want, help)
		}
	}
	// None of it was chat.
	if n := len(w.requests("survival", "broadcast")); n != 0 {
		t.Errorf("%d account commands reached the game as chat", n)
	}
}

// BIND_MAX=2 lets a member bind two names and refuses a third, naming
// both; /unbind then asks which one. BIND_NAME_PATTERN lets a Floodgate
// name through and explains a refusal without quoting the pattern.
func TestBindMaxAndNamePattern(t *testing.T) {
	w, acc, clock := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}, rcon: true, whitelist: true}},
		func(o *Options) {
			o.Bind.Max = 2
			o.Bind.NamePattern = regexp.MustCompile(`^\.?[A-Za-z0-9_]{3,16}$`)
		})
	for _, c := range []struct {
		who        qq.Member
		text, want string
	}{
		{bob, "/bind .Steve", "已绑定 .Steve\n[survival] 已加入白名单"},
		{bob, "/bind Alex", "已绑定 Alex\n[survival] 已加入白名单"},
		{bob, "/bind Notch", "你已绑定 .Steve、Alex，每人最多绑定 2 个名字；换名字请先用 /unbind 解绑"},
		{alice, "/bind Ste-ve", "玩家名“Ste-ve”不合本服的命名要求，请输入游戏里的名字"},
		{alice, "/bind ..Steve", "玩家名“..Steve”不合本服的命名要求，请输入游戏里的名字"},
		{bob, "/unbind", "你绑定了多个名字（.Steve、Alex），请指明：/unbind <玩家名>"},
		{bob, "/unbind alex", "已解绑 Alex\n[survival] 已移出白名单"},
		{bob, "/bind Notch", "已绑定 Notch\n[survival] 已加入白名单"},
	} {
		clock.advance(time.Minute)
		if got := w.command(groupA, c.who, c.text); got != c.want {
			t.Errorf("%s %q: reply %q, want %q", c.who.Nickname, c.text, got, c.want)
		}
	}
	want := []string{"whitelist add .Steve", "whitelist add Alex", "whitelist remove Alex", "whitelist add Notch"}
	if got := w.consoleCommands("survival", "whitelist"); !slices.Equal(got, want) {
		t.Errorf("console ran %q, want %q", got, want)
	}
	list, err := acc.BindingsOf(context.Background(), bob.UserID)
	check(t, err)
	if got := playerNames(list); !slices.Equal(got, []string{".Steve", "Notch"}) {
		t.Errorf("bob is bound to %q", got)
	}
}

// Members binding one name at once: exactly one gets it, and it is added
// to the whitelist once. One member binding two names at once under
// BIND_MAX=1 gets exactly one of them.
func TestConcurrentBinds(t *testing.T) {
	w, acc, _ := accountWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}, rcon: true, whitelist: true}}, nil)
	w.bot.AddMember(groupA, carol)
	members := []qq.Member{alice, bob, carol, owner}
	together := func(run func(i int) int64) []int64 {
		ids := make([]int64, len(members))
		var wg sync.WaitGroup
		for i := range members {
			wg.Go(func() { ids[i] = run(i) })
		}
		wg.Wait()
		return ids
	}
	for _, name := range []string{"Steve", "Alex", "Notch"} {
		ids := together(func(i int) int64 { return w.sayText(groupA, members[i], "/bind "+name) })
		var winners []qq.Member
		for i, id := range ids {
			switch got := w.reply(groupA, id); got {
			case "已绑定 " + name + "\n[survival] 已加入白名单":
				winners = append(winners, members[i])
			case name + " 已被其他成员绑定；如有疑问请联系管理员":
			default:
				t.Errorf("%s binding %s: reply %q", members[i].Nickname, name, got)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("%d members bound %s", len(winners), name)
		}
		if boundTo(t, acc, name) != winners[0].UserID {
			t.Errorf("%s is stored for another member than %s", name, winners[0].Nickname)
		}
		if got := w.consoleCommands("survival", "whitelist add "+name); len(got) != 1 {
			t.Errorf("whitelist commands %q", got)
		}
		if got := w.command(groupA, winners[0], "/unbind"); got != "已解绑 "+name+"\n[survival] 已移出白名单" {
			t.Errorf("/unbind: %q", got)
		}
	}

	names := []string{"Herobrine", "Jeb"}
	ids := make([]int64, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { ids[i] = w.sayText(groupA, bob, "/bind "+name) })
	}
	wg.Wait()
	var won []string
	for i, id := range ids {
		got := w.reply(groupA, id)
		if got == "已绑定 "+names[i]+"\n[survival] 已加入白名单" {
			won = append(won, names[i])
			continue
		}
		other := names[1-i]
		if want := "你已绑定 " + other + "，每人最多绑定 1 个名字；换名字请先用 /unbind 解绑"; got != want {
			t.Errorf("the losing /bind %s: %q, want %q", names[i], got, want)
		}
	}
	list, err := acc.BindingsOf(context.Background(), bob.UserID)
	check(t, err)
	if len(won) != 1 || !slices.Equal(playerNames(list), won) {
		t.Errorf("won %q, stored %q", won, playerNames(list))
	}
}

// A database that fails costs the account commands, not the chat: the
// member is told it failed, the operator finds it in the log, and chat
// still reaches the game (without bound names).
func TestAccountsWithAFailingDatabase(t *testing.T) {
	db, acc := openAccounts(t, t.TempDir())
	check(t, db.Close()) // every call fails from now on
	w := newWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}, rcon: true, whitelist: true}},
		func(o *Options) { o.Accounts = acc })
	w.run(t.Context())
	w.waitLog("cannot list the whitelist changes waiting")
	for _, text := range []string{"/bind Steve", "/unbind", "/whois Steve", "/whois"} {
		if got := w.command(groupA, bob, text); got != "暂时无法完成，请稍后再试（桥接的数据库出错，已记录）" {
			t.Errorf("%s: %q", text, got)
		}
	}
	if got := w.command(groupA, alice, "/bindings"); got != "暂时无法完成，请稍后再试（桥接的数据库出错，已记录）" {
		t.Errorf("/bindings: %q", got)
	}
	w.waitLog("account command failed")
	w.waitLog("cannot read the whitelist changes waiting; trying again shortly")

	w.sayText(groupA, bob, "还能聊天吗")
	if got := w.waitTexts("survival", "broadcast", "message", 1); !strings.HasSuffix(got[0], "还能聊天吗") {
		t.Errorf("chat reached the game as %q", got)
	}
}

// With a binding, the sender's hover in game names the player (at once,
// though the names are cached), and a template's {qq} is the bound
// member's card or nickname — their number when the bot cannot find them
// in the group they bound in, nothing when the player is unbound.
func TestBoundNamesShowOnBothSides(t *testing.T) {
	_, acc := openAccounts(t, t.TempDir())
	w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, func(o *Options) {
		o.Accounts = acc
		o.Templates.Chat = "{player}({qq})：{message}"
		o.Templates.Join = "{player} {qq} 加入了游戏"
	})
	senderHover := func(n int) string {
		w.waitTexts("survival", "broadcast", "message", n)
		data := w.requests("survival", "broadcast")[n-1].Data
		for _, c := range flatten(components(t, data, "message")) {
			if c.Text == alice.Card {
				return string(c.HoverEvent) + string(c.HoverEvent2)
			}
		}
		t.Fatalf("no sender in broadcast %d: %s", n, data)
		return ""
	}
	w.sayText(groupA, alice, "早")
	if hover := senderHover(1); strings.Contains(hover, "玩家") || !strings.Contains(hover, "QQ: 1019283746") {
		t.Errorf("sender hover before binding %s", hover)
	}
	w.command(groupA, alice, "/bind Steve")
	w.sayText(groupA, alice, "大家好")
	if hover := senderHover(2); !strings.Contains(hover, "玩家: Steve") {
		t.Errorf("sender hover after binding %s", hover)
	}

	w.command(groupA, bob, "/bind Notch")
	w.bot.MemberLeaves(groupA, bob.UserID) // unbinding on leave is off
	w.waitLog("unbinding on leave is off")
	mc := w.mc["survival"]
	mc.Chat("Steve", "hi")
	mc.Chat("Alex", "hello")
	mc.Chat("Notch", "yo")
	mc.Join("Steve")
	for _, want := range []string{"Steve([管理] Alice_MC)：hi", "Alex()：hello",
		"Notch(" + strconv.FormatInt(bob.UserID, 10) + ")：yo", "Steve [管理] Alice_MC 加入了游戏"} {
		w.waitLine(groupA, want)
	}
}

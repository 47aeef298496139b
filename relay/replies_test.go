package relay

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/qq"
)

// /mcc runs over direct RCON for admins and, for RCON_PUBLIC commands,
// for everyone; the reply names the server, has no colour codes and is cut
// at 1500 characters. Nothing refused reaches the console.
func TestConsoleCommandReplies(t *testing.T) {
	// 1600 characters, 3200 bytes: within one RCON packet (4096 bytes),
	// beyond what a reply shows.
	long := strings.Repeat("é", 1600)
	w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}, rcon: true,
		console: func(cmd string) string {
			switch consoleVerb(cmd) {
			case "list":
				return "There are §a1§r of a max of 20 players online: &eSteve"
			case "dump":
				return "§7" + long
			case "save-all":
				return ""
			}
			return "ran " + cmd
		}}}, nil)
	console := w.consoles["survival"]
	cases := []struct {
		who       qq.Member
		text      string
		want      string
		reachesAs string // what the console then got; "" for nothing
	}{
		{bob, "/mcc list", "[survival] There are 1 of a max of 20 players online: Steve", "list"},
		{bob, "/rcon //minecraft:list", "[survival] There are 1 of a max of 20 players online: Steve", "minecraft:list"},
		{alice, "/mcc dump", "[survival] " + string([]rune(long)[:1500]) + "\n…（输出过长，已截断，共 1600 字）", "dump"},
		{alice, "/mcc save-all", "[survival] 已执行（无输出）", "save-all"},
		{alice, "/mcc time set day", "[survival] ran time set day", "time set day"},
		{owner, "/mcc stop", "[survival] ran stop", "stop"},
		{bob, "/mcc time set day", "该命令仅限管理员使用（所有人可用：list）", ""},
		{bob, "/mcc", "该命令仅限管理员使用（所有人可用：list）", ""},
		{alice, "/mcc stop", "仅超级管理员可执行 stop", ""},
		{alice, "/mcc execute as @a run minecraft:op Alice", "仅超级管理员可执行 op", ""},
		{alice, "/mcc say hi\nstop", "命令含有换行或控制字符，已拒绝", ""},
		{alice, "/mcc", "用法：/mcc [@服务器] <控制台命令>", ""},
		{alice, "/mcc   /  ", "用法：/mcc [@服务器] <控制台命令>", ""},
	}
	for _, c := range cases {
		before := len(console.Commands())
		if got := w.command(groupA, c.who, c.text); got != c.want {
			t.Errorf("%s by %s: replied %q…%q (%d characters), want %q…%q (%d)", c.text, c.who.Nickname,
				firstRunes(got), lastRunes(got), len([]rune(got)), firstRunes(c.want), lastRunes(c.want), len([]rune(c.want)))
		}
		got := console.Commands()[before:]
		if want := []string{c.reachesAs}; c.reachesAs == "" && len(got) > 0 || c.reachesAs != "" && !slices.Equal(got, want) {
			t.Errorf("%s by %s: the console got %q, want %q", c.text, c.who.Nickname, got, c.reachesAs)
		}
	}
	refused := w.metrics.GetOrCreateCounter(`bridge_commands_total{command="mcc",result="refused"}`).Get()
	if refused != 7 {
		t.Errorf("counted %d refused /mcc, want 7", refused)
	}

	// A console that is down is said to be, by /mcc and /mcs.
	console.Stop()
	if got := w.command(groupA, alice, "/mcc time set night"); got != "[survival] 未连接" {
		t.Errorf("/mcc with the console down: %q", got)
	}
	if got := w.command(groupA, bob, "/mcs"); got != "[survival] 已连接 · 在线玩家 0/20 · 控制台命令暂不可用" {
		t.Errorf("/mcs with the console down: %q", got)
	}
}

// firstRunes and lastRunes show the ends of a long reply in a failure.
func firstRunes(s string) string { r := []rune(s); return string(r[:min(30, len(r))]) }
func lastRunes(s string) string  { r := []rune(s); return string(r[max(0, len(r)-30):]) }

// Without a direct console, /mcc goes through the plugin's
// send_rcon_command, and says when the plugin has RCON off.
func TestConsoleCommandsThroughThePlugin(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "creative", groups: []int64{groupA}}}, nil)
	if got := w.command(groupA, alice, "/mcc time set day"); got != "[creative] 失败：Rcon 功能未在配置文件中启用" {
		t.Errorf("RCON off in the plugin: %q", got)
	}
	w.mc["creative"].SetRCON(func(cmd string) string { return "§eplugin ran " + cmd })
	if got := w.command(groupA, alice, "/rcon time set day"); got != "[creative] plugin ran time set day" {
		t.Errorf("send_rcon_command reply %q", got)
	}
	if got := w.command(groupA, bob, "/mcs"); got != "[creative] 已连接 · 在线玩家 0/20 · 控制台命令可用" {
		t.Errorf("/mcs %q", got)
	}
}

// /mcb, /mct, /mca and /mcp call their API with the text and say what they
// did; each alias works; missing arguments get the usage, members a
// refusal naming the command as they typed it.
func TestAdminCommandReplies(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, nil)
	w.mc["survival"].SetOnline("Steve")
	cases := []struct {
		who         qq.Member
		text        string
		want        string
		api, field  string // the request it makes, if any
		fieldReads  string // its field's text
		fieldReads2 string // "subtitle" of a title
	}{
		{alice, "/mcb 服务器将在5分钟后重启", "[survival] 已广播", "broadcast", "message", "[公告] 服务器将在5分钟后重启", ""},
		{alice, "/mct 维护通知\n今晚8点", "[survival] 已发送标题", "send_title", "title", "维护通知", "今晚8点"},
		{alice, "/mcst 只有标题", "[survival] 已发送标题", "send_title", "title", "只有标题", ""},
		{alice, "/mca 注意脚下", "[survival] 已发送动作栏消息", "send_actionbar", "message", "注意脚下", ""},
		{alice, "/MCSA 别跑", "[survival] 已发送动作栏消息", "send_actionbar", "message", "别跑", ""},
		{alice, "/mcp Steve 你好 呀", "[survival] 已私聊 Steve", "send_private_msg", "message", "你好 呀", ""},
		{alice, "/mcp Herobrine 你好", "[survival] 玩家 Herobrine 不在线", "send_private_msg", "message", "你好", ""},
		{alice, "/mcb", "用法：/mcb [@服务器] <内容>", "", "", "", ""},
		{alice, "/mct   ", "用法：/mct [@服务器] <标题>[换行<副标题>]", "", "", "", ""},
		{alice, "/mca", "用法：/mca [@服务器] <内容>", "", "", "", ""},
		{alice, "/mcp Steve", "用法：/mcp [@服务器] <玩家> <内容>", "", "", "", ""},
		{bob, "/mcb hi", "仅管理员可使用 /mcb", "", "", "", ""},
		{bob, "/MCST hi", "仅管理员可使用 /MCST", "", "", "", ""},
		{bob, "/mcp Steve hi", "仅管理员可使用 /mcp", "", "", "", ""},
	}
	calls := func() int { return len(w.mc["survival"].Requests()) }
	for _, c := range cases {
		before := calls()
		if got := w.command(groupA, c.who, c.text); got != c.want {
			t.Errorf("%q by %s: replied %q, want %q", c.text, c.who.Nickname, got, c.want)
		}
		if c.api == "" {
			if calls() != before {
				t.Errorf("%q by %s reached the server: %v", c.text, c.who.Nickname, w.mc["survival"].Requests()[before:])
			}
			continue
		}
		reqs := w.requests("survival", c.api)
		last := reqs[len(reqs)-1].Data
		if got := plainField(t, last, c.field); got != c.fieldReads {
			t.Errorf("%q: %s %s reads %q, want %q", c.text, c.api, c.field, got, c.fieldReads)
		}
		if c.api == "send_title" {
			if got := plainField(t, last, "subtitle"); got != c.fieldReads2 {
				t.Errorf("%q: subtitle reads %q, want %q", c.text, got, c.fieldReads2)
			}
		}
	}

	// The announcement is marked and says who sent it and from where.
	mark := components(t, w.requests("survival", "broadcast")[0].Data, "message")[0]
	hover := string(mark.HoverEvent) + string(mark.HoverEvent2)
	if mark.Text != "[公告] " || mark.Color != "gold" || !mark.Bold ||
		!strings.Contains(hover, "由 [管理] Alice_MC（QQ 1019283746）在 QQ 群 712345678 发布") {
		t.Errorf("announcement marker %+v, hover %s", mark, hover)
	}
	w.privateCommand(owner, "/mcb 私聊公告")
	mark = components(t, w.requests("survival", "broadcast")[1].Data, "message")[0]
	if hover := string(mark.HoverEvent) + string(mark.HoverEvent2); !strings.Contains(hover, "由 Root（QQ 10001）从 QQ 私聊发布") {
		t.Errorf("announcement from private chat: hover %s", hover)
	}

	// A bot that sends no role with a message: the member look-up has it.
	roleless := alice
	roleless.Role = ""
	if got := w.command(groupA, roleless, "/mca 查到了角色"); got != "[survival] 已发送动作栏消息" {
		t.Errorf("an admin whose message carried no role: %q", got)
	}
	// Commands are never chat.
	for _, text := range w.texts("survival", "broadcast", "message") {
		if strings.Contains(text, "/mc") {
			t.Errorf("a command was broadcast as chat: %q", text)
		}
	}
}

// Failures are described per server: a timeout, a request the plugin
// refuses, a server that is down (since when, for /mcs), status that does
// not come.
func TestCommandFailuresAreDescribed(t *testing.T) {
	t.Parallel() // mostly waits for timeouts
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: []int64{groupA}},
		{name: "creative", groups: []int64{groupA}},
	}, func(o *Options) { o.RequestTimeout = time.Second })
	survival, creative := w.mc["survival"], w.mc["creative"]

	survival.SetSilent("send_actionbar", true)
	if got := w.command(groupA, alice, "/mca 你好"); got != "[survival] 失败：请求超时\n[creative] 已发送动作栏消息" {
		t.Errorf("a timeout on one server: %q", got)
	}
	creative.RejectNext("send_title", 1)
	if got := w.command(groupA, alice, "/mct @creative 标题"); got != "[creative] 失败：解析消息失败" {
		t.Errorf("a refused title: %q", got)
	}
	survival.SetSilent("get_status", true)
	if got := w.command(groupA, bob, "/mcs"); got != "[survival] 已连接 · 状态不可用（失败：请求超时） · 控制台命令可用\n[creative] 已连接 · 在线玩家 0/20 · 控制台命令可用" {
		t.Errorf("/mcs without status: %q", got)
	}

	creative.Stop()
	w.waitFor("creative down", func() bool { return !w.games["creative"].State().Up() })
	if got := w.command(groupA, alice, "/mcb @creative hi"); got != "[creative] 未连接" {
		t.Errorf("a server that is down: %q", got)
	}
	got := w.command(groupA, bob, "/mcs @creative")
	if !regexp.MustCompile(`^\[creative\] 未连接（自 \d\d-\d\d \d\d:\d\d:\d\d 起）$`).MatchString(got) {
		t.Errorf("/mcs for a server that is down: %q", got)
	}
}

// "@server" picks one of the group's servers, in any case; none picks all
// of them, in configuration order; a server of another group or none at
// all is refused with the group's list.
func TestCommandTargets(t *testing.T) {
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: []int64{groupA}},
		{name: "creative", groups: []int64{groupA, groupB}},
	}, nil)
	cases := []struct {
		group int64
		text  string
		want  string
	}{
		{groupA, "/mca @creative 只给创造服", "[creative] 已发送动作栏消息"},
		{groupA, "/mca @SURVIVAL 只给生存服", "[survival] 已发送动作栏消息"},
		{groupA, "/mca 都有", "[survival] 已发送动作栏消息\n[creative] 已发送动作栏消息"},
		{groupB, "/mca 只有一个", "[creative] 已发送动作栏消息"},
		{groupA, "/mca @lobby 没有这个服", "没有名为 lobby 的服务器（可用：survival, creative）"},
		{groupB, "/mca @survival 别的群的服", "没有名为 survival 的服务器（可用：creative）"},
		{groupB, "/mcs @survival", "没有名为 survival 的服务器（可用：creative）"},
	}
	for _, c := range cases {
		if got := w.command(c.group, alice, c.text); got != c.want {
			t.Errorf("%q in %d: %q, want %q", c.text, c.group, got, c.want)
		}
	}
	if n, m := len(w.requests("survival", "send_actionbar")), len(w.requests("creative", "send_actionbar")); n != 2 || m != 3 {
		t.Errorf("action bars: survival %d, creative %d; want 2 and 3", n, m)
	}
}

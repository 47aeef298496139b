package relay

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// denyForms are console lines that run a command of the default RCON_DENY
// (stop, restart, op, deop) however it is spelled: slashes, case, any
// namespace, and nested execute … run / return run chains.
var denyForms = []struct{ line, verb string }{
	{"stop", "stop"},
	{"/stop", "stop"},
	{"//stop", "stop"},
	{"STOP", "stop"},
	{"minecraft:stop", "stop"},
	{"/Minecraft:STOP", "stop"},
	{"bukkit:stop", "stop"},
	{"spigot:restart", "restart"},
	{"paper:restart", "restart"},
	{"essentials:op Mallory", "op"},
	{"deop Steve", "deop"},
	{"op Mallory", "op"},
	{"execute run stop", "stop"},
	{"execute as @a run stop", "stop"},
	{"execute as @a at @s run op Mallory", "op"},
	{"minecraft:execute run bukkit:stop", "stop"},
	{"EXECUTE AS @a RUN Paper:Restart", "restart"},
	{"return run stop", "stop"},
	{"return run op Mallory", "op"},
	{"/return run minecraft:deop Steve", "deop"},
	{"execute as @a run return run stop", "stop"},
	{"return run execute as @a run restart", "restart"},
	{"return run return run op Mallory", "op"},
	{"execute if entity @a run execute run return run spigot:stop", "stop"},
}

func permissionRelay() *Relay {
	return &Relay{
		o: Options{
			AdminRoles: []string{"owner", "admin"},
			RCONPublic: mapStrings([]string{"list"}, consoleVerb),
			RCONDeny:   mapStrings([]string{"stop", "restart", "op", "deop"}, consoleVerb),
		},
		admins: map[int64]bool{10001: true},
	}
}

var (
	groupAdmin = caller{user: 1019283746, role: "admin", group: 712345678}
	member     = caller{user: 1357924680, role: "member", group: 712345678}
	superAdmin = caller{user: 10001, role: "member", group: 712345678} // in QQ_ADMINS
)

// Every spelling of a denied command is refused to a group admin, naming
// the command, and allowed to QQ_ADMINS.
func TestRCONDenySeesThroughEverySpelling(t *testing.T) {
	r := permissionRelay()
	for _, f := range denyForms {
		line := consoleLine(f.line)
		why := r.mayRunConsole(groupAdmin, line)
		if why == "" || !strings.HasSuffix(why, " "+f.verb) {
			t.Errorf("%q for a group admin: %q; want a refusal naming %s", f.line, why, f.verb)
		}
		if strings.Contains(why, "QQ_ADMINS") {
			t.Errorf("%q: the refusal %q names a variable", f.line, why)
		}
		if why := r.mayRunConsole(superAdmin, line); why != "" {
			t.Errorf("%q for QQ_ADMINS: refused %q", f.line, why)
		}
	}
}

// What is not denied stays as it was: public commands for everyone, other
// commands (even ones mentioning a denied word) for admins, and
// RCON_DENY may itself be written with a namespace.
func TestRCONPermissionsOtherwise(t *testing.T) {
	r := permissionRelay()
	cases := []struct {
		c       caller
		line    string
		allowed bool
	}{
		{member, "list", true},
		{member, "/minecraft:LIST", true},
		{member, "time set day", false},
		{member, "execute run list", false}, // only the first word counts for RCON_PUBLIC
		{groupAdmin, "time set day", true},
		{groupAdmin, "say the server will stop soon", true},
		{groupAdmin, "say run stop", true}, // say runs nothing
		{groupAdmin, "execute as @a run say hi", true},
		{groupAdmin, "execute if function ns:run run say hi", true},
		{groupAdmin, "stopsound @a", true},
		{groupAdmin, "whitelist add Steve", true},
	}
	for _, c := range cases {
		why := r.mayRunConsole(c.c, consoleLine(c.line))
		if (why == "") != c.allowed {
			t.Errorf("%q by %+v: refusal %q; want allowed=%v", c.line, c.c, why, c.allowed)
		}
	}
	r.o.RCONDeny = mapStrings([]string{"Minecraft:Stop", "/whitelist"}, consoleVerb)
	for _, line := range []string{"stop", "bukkit:stop", "whitelist add Mallory", "execute run minecraft:whitelist off"} {
		if why := r.mayRunConsole(groupAdmin, consoleLine(line)); why == "" {
			t.Errorf("%q allowed with RCON_DENY=Minecraft:Stop,/whitelist", line)
		}
	}
}

func reply(id string) qq.Segment {
	return qq.Segment{Type: qq.SegReply, ID: id}
}

func mention(user string) qq.Segment {
	return qq.Segment{Type: qq.SegAt, Target: user}
}

// Our commands are recognised with their aliases, in any case, after a
// quote or a mention, with an "@server" target; anything else is chat.
func TestParseCommand(t *testing.T) {
	cases := []struct {
		prefix string
		segs   []qq.Segment
		ok     bool
		want   command // typed, name, target, args
	}{
		{"/", []qq.Segment{qq.Text("/mcc list")}, true, command{name: "mcc", typed: "/mcc", args: "list"}},
		{"/", []qq.Segment{qq.Text("/rcon time set day")}, true, command{name: "mcc", typed: "/rcon", args: "time set day"}},
		{"/", []qq.Segment{qq.Text("/RCON list")}, true, command{name: "mcc", typed: "/RCON", args: "list"}},
		{"/", []qq.Segment{qq.Text("/mcb 服务器将重启")}, true, command{name: "mcb", typed: "/mcb", args: "服务器将重启"}},
		{"/", []qq.Segment{qq.Text("/mct 维护通知\n今晚8点")}, true, command{name: "mct", typed: "/mct", args: "维护通知\n今晚8点"}},
		{"/", []qq.Segment{qq.Text("/mcst 标题")}, true, command{name: "mct", typed: "/mcst", args: "标题"}},
		{"/", []qq.Segment{qq.Text("/mca 注意")}, true, command{name: "mca", typed: "/mca", args: "注意"}},
		{"/", []qq.Segment{qq.Text("/McSa 注意")}, true, command{name: "mca", typed: "/McSa", args: "注意"}},
		{"/", []qq.Segment{qq.Text("/mcp Steve 你好 呀")}, true, command{name: "mcp", typed: "/mcp", args: "Steve 你好 呀"}},
		{"/", []qq.Segment{qq.Text("/mcs")}, true, command{name: "mcs", typed: "/mcs"}},
		{"/", []qq.Segment{qq.Text("  /mch  ")}, true, command{name: "mch", typed: "/mch"}},
		// "@server" is the first argument only.
		{"/", []qq.Segment{qq.Text("/mcb @creative 只给创造服")}, true, command{name: "mcb", typed: "/mcb", target: "creative", args: "只给创造服"}},
		{"/", []qq.Segment{qq.Text("/mcp @Lobby Steve hi")}, true, command{name: "mcp", typed: "/mcp", target: "Lobby", args: "Steve hi"}},
		{"/", []qq.Segment{qq.Text("/mcs @survival")}, true, command{name: "mcs", typed: "/mcs", target: "survival"}},
		{"/", []qq.Segment{qq.Text("/mcb hi @creative")}, true, command{name: "mcb", typed: "/mcb", args: "hi @creative"}},
		// A leading quote or mention does not hide a command; text
		// segments are read as one.
		{"/", []qq.Segment{reply("42"), mention("2401234567"), qq.Text(" /mcs")}, true, command{name: "mcs", typed: "/mcs"}},
		{"/", []qq.Segment{qq.Text("/mcb 你"), {Type: qq.SegFace, ID: "14"}, qq.Text("好")}, true, command{name: "mcb", typed: "/mcb", args: "你好"}},
		// COMMAND_PREFIX of any length; "/" then means nothing.
		{"#", []qq.Segment{qq.Text("#mcs")}, true, command{name: "mcs", typed: "#mcs"}},
		{"#", []qq.Segment{qq.Text("#rcon @survival list")}, true, command{name: "mcc", typed: "#rcon", target: "survival", args: "list"}},
		{"!!", []qq.Segment{qq.Text("!!mcb hi")}, true, command{name: "mcb", typed: "!!mcb", args: "hi"}},
		{"#", []qq.Segment{qq.Text("/mcs")}, false, command{}},
		{"!!", []qq.Segment{qq.Text("!mcs")}, false, command{}},
		// Not ours: chat.
		{"/", []qq.Segment{qq.Text("/help")}, false, command{}},
		{"/", []qq.Segment{qq.Text("/mcsx")}, false, command{}},
		{"/", []qq.Segment{qq.Text("mcs")}, false, command{}},
		{"/", []qq.Segment{qq.Text("看看 /mcs")}, false, command{}},
		{"/", []qq.Segment{{Type: qq.SegImage, URL: "https://i.example.com/a.png"}}, false, command{}},
		{"/", nil, false, command{}},
	}
	for _, c := range cases {
		r := &Relay{o: Options{CommandPrefix: c.prefix}}
		got, ok := r.parseCommand(qq.Message{Segments: c.segs})
		if ok != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("prefix %q, %q: got %+v %v, want %+v %v", c.prefix, qq.Message{Segments: c.segs}.PlainText(), got, ok, c.want, c.ok)
		}
	}
}

func TestCutWordAndHasArgs(t *testing.T) {
	for _, c := range []struct{ in, word, rest string }{
		{"", "", ""},
		{"mcs", "mcs", ""},
		{"  mcb  hello world", "mcb", "hello world"},
		{"mct 标题\n副标题", "mct", "标题\n副标题"},
		{"mct\t标题", "mct", "标题"},
	} {
		if w, r := cutWord(c.in); w != c.word || r != c.rest {
			t.Errorf("cutWord(%q) = %q, %q; want %q, %q", c.in, w, r, c.word, c.rest)
		}
	}
	for _, c := range []struct {
		cmd  command
		want bool
	}{
		{command{name: "mcb", args: "hi"}, true},
		{command{name: "mcb", args: "  "}, false},
		{command{name: "mcp", args: "Steve hi"}, true},
		{command{name: "mcp", args: "Steve"}, false}, // a player and nothing to say
		{command{name: "mcp", args: "Steve   "}, false},
		{command{name: "mcc", args: ""}, false},
	} {
		if got := hasArgs(c.cmd); got != c.want {
			t.Errorf("hasArgs(%+v) = %v", c.cmd, got)
		}
	}
}

// Admins are QQ_ADMINS anywhere, and members whose group role is in
// QQ_ADMIN_ROLES, in their group only.
func TestIsAdmin(t *testing.T) {
	r := permissionRelay()
	for _, c := range []struct {
		c    caller
		want bool
	}{
		{superAdmin, true},
		{caller{user: superAdmin.user}, true}, // private chat
		{groupAdmin, true},
		{caller{user: 42, role: "owner", group: 712345678}, true},
		{member, false},
		{caller{user: groupAdmin.user, role: "admin"}, false}, // a role means nothing in private chat
		{caller{user: 42, group: 712345678}, false},           // no role known
		{caller{user: 42, role: "Admin", group: 712345678}, false},
	} {
		if got := r.isAdmin(c.c); got != c.want {
			t.Errorf("isAdmin(%+v) = %v, want %v", c.c, got, c.want)
		}
	}
}

// Refusals say why, in the members' words: which commands everyone may
// use, and that control characters are not accepted.
func TestConsoleRefusalsSayWhy(t *testing.T) {
	r := permissionRelay()
	cases := []struct {
		public []string
		c      caller
		line   string
		want   string
	}{
		{[]string{"list"}, member, "time set day", "该命令仅限管理员使用（所有人可用：list）"},
		{[]string{"list", "tps"}, member, "kill @e", "该命令仅限管理员使用（所有人可用：list, tps）"},
		{nil, member, "list", "该命令仅限管理员使用"},
		{[]string{"list"}, member, "stop", "仅超级管理员可执行 stop"},
		{[]string{"list"}, superAdmin, "say hi\nstop", "命令含有换行或控制字符，已拒绝"},
		{[]string{"list"}, superAdmin, "say \u202eevil", "命令含有换行或控制字符，已拒绝"},
		{[]string{"list"}, member, "list\x00", "命令含有换行或控制字符，已拒绝"},
		{[]string{"list"}, member, "", "该命令仅限管理员使用（所有人可用：list）"},
	}
	for _, c := range cases {
		r.o.RCONPublic = mapStrings(c.public, consoleVerb)
		if got := r.mayRunConsole(c.c, c.line); got != c.want {
			t.Errorf("RCON_PUBLIC=%v, %q by %+v: %q, want %q", c.public, c.line, c.c, got, c.want)
		}
	}
}

// Console output reaches QQ without colour codes and cut at 1500
// characters (not bytes) with a note saying how long it was.
func TestConsoleOutput(t *testing.T) {
	long := strings.Repeat("方", maxOutput+1)
	cases := []struct{ out, want string }{
		{"§aThere are §l1§r of a max of 20 players online: &eSteve", "There are 1 of a max of 20 players online: Steve"},
		{"Tom & Jerry", "Tom & Jerry"},
		{"  done\n", "done"},
		{"", "已执行（无输出）"},
		{" \n ", "已执行（无输出）"},
		{"§a", "已执行（无输出）"},
		{strings.Repeat("方", maxOutput), strings.Repeat("方", maxOutput)},
		{long, strings.Repeat("方", maxOutput) + "\n…（输出过长，已截断，共 1501 字）"},
		{"§c" + long, strings.Repeat("方", maxOutput) + "\n…（输出过长，已截断，共 1501 字）"},
	}
	for _, c := range cases {
		if got := consoleOutput(c.out); got != c.want {
			t.Errorf("consoleOutput(%.40q…) = %.60q…, want %.60q…", c.out, got, c.want)
		}
	}
}

// Failures are described in a member's words.
func TestDescribeError(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("queqiao survival: %w", link.ErrNotConnected), "未连接"},
		{fmt.Errorf("broadcast: %w", context.DeadlineExceeded), "失败：请求超时"},
		{fmt.Errorf("broadcast: %w", context.Canceled), "失败：桥接正在关闭"},
		{fmt.Errorf("rcon: %w", &minecraft.APIError{API: "send_rcon_command", Code: 400, Message: "Rcon 功能未在配置文件中启用"}), "失败：Rcon 功能未在配置文件中启用"},
		{errors.New("connection reset"), "失败：connection reset"},
	}
	for _, c := range cases {
		if got := describeError(c.err); got != c.want {
			t.Errorf("describeError(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// /mch lists what this caller may run, with the configured prefix, and the
// group's servers when there are several.
func TestHelpListsWhatTheCallerMayRun(t *testing.T) {
	s1, s2 := &server{Server: Server{Name: "survival"}}, &server{Server: Server{Name: "creative"}}
	r := permissionRelay()
	r.groups = map[int64][]*server{712345678: {s1, s2}, 723456789: {s1}}
	lines := func(c caller) []string { return strings.Split(r.help(c), "\n") }
	has := func(c caller, want string) bool { return slices.Contains(lines(c), want) }

	r.o.CommandPrefix = "/"
	memberHelp := []string{"可用命令：", "/mcs — 查看服务器状态", "/mch — 显示本帮助",
		"/mcc [@服务器] <命令> — 执行控制台命令，你可用：list",
		"本群服务器：survival, creative（不加 @ 时发给全部）"}
	if got := lines(member); !slices.Equal(got, memberHelp) {
		t.Errorf("member help:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(memberHelp, "\n"))
	}
	for _, want := range []string{"/mcc [@服务器] <命令> — 执行控制台命令（别名 /rcon）", "/mcb [@服务器] <内容> — 全服广播",
		"/mct [@服务器] <标题>[换行<副标题>] — 发送标题（别名 /mcst）", "/mca [@服务器] <内容> — 发送动作栏消息（别名 /mcsa）",
		"/mcp [@服务器] <玩家> <内容> — 私聊玩家"} {
		if !has(groupAdmin, want) || !has(caller{user: superAdmin.user}, want) {
			t.Errorf("admin help lacks %q", want)
		}
	}
	if has(caller{user: superAdmin.user}, "本群服务器：survival, creative（不加 @ 时发给全部）") ||
		has(caller{user: member.user, role: "member", group: 723456789}, "本群服务器：survival（不加 @ 时发给全部）") {
		t.Error("help lists the servers in private chat or for a group with one server")
	}
	r.o.RCONPublic = nil
	if got := r.help(member); strings.Contains(got, "mcc") {
		t.Errorf("without RCON_PUBLIC a member is offered /mcc:\n%s", got)
	}
	r.o.CommandPrefix = "#"
	if got := r.help(groupAdmin); strings.Contains(got, "/") || !strings.Contains(got, "#mcb") || !strings.Contains(got, "别名 #rcon") {
		t.Errorf("help with COMMAND_PREFIX=#:\n%s", got)
	}
}

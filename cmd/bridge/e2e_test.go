package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

// seg builds a segment from OneBot-style data: key, value, key, value, ….
func seg(typ string, kv ...string) qq.Segment {
	data := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		data[kv[i]] = kv[i+1]
	}
	return onebot.SegmentFromData(typ, data)
}

// A NapCat-shaped group message with text, at, face, image and reply arrives
// in game as one broadcast showing the sender's card, @name, the face name, a
// clickable [图片] and the reply marker with the quoted text on hover.
func TestGroupMessageArrivesInGameAsOneBroadcast(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}}, nil)
	quoted := w.say(groupA, bob, qq.Text("服务器今晚几点维护？"))
	w.waitRequests("survival", "broadcast", 1)

	w.say(groupA, alice,
		seg(qq.SegReply, "id", strconv.FormatInt(quoted, 10)),
		seg(qq.SegAt, "qq", strconv.FormatInt(bob.UserID, 10)),
		qq.Text(" 今晚8点 "),
		seg(qq.SegFace, "id", "14"),
		seg(qq.SegImage, "url", "https://example.com/a.png", "sub_type", "0"),
	)
	reqs := w.waitRequests("survival", "broadcast", 2)
	if len(reqs) != 2 {
		t.Fatalf("%d broadcasts for 2 messages", len(reqs))
	}
	comps := flatten(decodeMessage(t, reqs[1].Data, "message"))
	find := func(text string) component {
		t.Helper()
		for _, c := range comps {
			if c.Text == text {
				return c
			}
		}
		t.Fatalf("no component %q in %q", text, plain(decodeMessage(t, reqs[1].Data, "message")))
		return component{}
	}
	if c := find("[管理] Alice_MC"); c.Color != "green" {
		t.Errorf("sender colour %q", c.Color)
	}
	if c := find("@Bob"); c.Color != "green" {
		t.Errorf("mention colour %q", c.Color)
	}
	find("[微笑]")
	img := find("[图片]")
	if !strings.Contains(string(img.ClickEvent), "open_url") || !strings.Contains(string(img.ClickEvent), "https://example.com/a.png") {
		t.Errorf("image click %s", img.ClickEvent)
	}
	rep := find("(回复 @Bob)")
	if !strings.Contains(string(rep.HoverEvent), "服务器今晚几点维护？") {
		t.Errorf("reply hover %s lacks the quoted text", rep.HoverEvent)
	}
	if got := plain(decodeMessage(t, reqs[1].Data, "message")); !strings.HasSuffix(got, "：@Bob 今晚8点 [微笑][图片]") {
		t.Errorf("line reads %q", got)
	}
}

// Each of the six QueQiao events reaches every bound group with the wording
// the README documents; "!!" chat and hidden recipe advancements do not.
func TestGameEventsReachEveryBoundGroup(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA) + "," + strconv.Itoa(groupB)}},
		map[string]string{"SYNC_MC_TO_QQ": "chat,join,quit,death,advancement,command"})
	mc := w.mc["survival"]
	fixture := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		must(t, err)
		return b
	}
	mc.Chat("Steve", "!!qb make")
	recipe := bytes.Replace(fixture("event_player_achievement_spigot.json"),
		[]byte("minecraft:story/mine_stone"), []byte("minecraft:recipes/misc/iron_nugget"), 1)
	mc.Emit(recipe)
	for _, f := range []string{"event_player_chat.json", "event_player_join.json", "event_player_quit.json",
		"event_player_death.json", "event_player_achievement.json", "event_player_command.json",
		"event_player_achievement_spigot.json"} {
		mc.Emit(fixture(f))
	}
	want := []string{
		"Steve：Hello, world!",
		"Steve 加入了游戏",
		"Steve 离开了游戏",
		"Steve被僵尸杀死了",
		"Steve 达成了进度 [石器时代]",
		"Steve 执行了命令 /tp Steve 0 64 0",
		"Steve 达成了进度 [石器时代]", // Spigot: no display, title found by id
	}
	for _, g := range []int64{groupA, groupB} {
		w.waitFor("the lines in group "+strconv.Itoa(int(g)), func() bool { return len(w.lines(g)) >= len(want) })
		if got := w.lines(g); !slices.Equal(got, want) {
			t.Errorf("group %d got\n%s\nwant\n%s", g, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// /mcc runs over direct RCON with the permission rules; without
// MC_<n>_RCON_ADDR it goes through send_rcon_command.
func TestConsoleCommandPermissions(t *testing.T) {
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: strconv.Itoa(groupA), rcon: true},
		{name: "creative", groups: strconv.Itoa(groupB)},
	}, nil)
	console := w.rcon["survival"]

	id := w.say(groupA, bob, qq.Text("/mcc list"))
	if got := w.reply(groupA, id); got != "[survival] There are 1 of a max of 20 players online: Steve" {
		t.Errorf("/mcc list reply %q", got)
	}
	if !slices.Equal(console.Commands(), []string{"list"}) {
		t.Fatalf("RCON saw %v", console.Commands())
	}

	// Refusals say why in the members' words, never with a variable name.
	id = w.say(groupA, bob, qq.Text("/mcc stop"))
	if got := w.reply(groupA, id); got != "仅超级管理员可执行 stop" {
		t.Errorf("refusal %q", got)
	}
	// A group admin is not enough for stop, however it is spelled.
	for _, stop := range []string{"/mcc stop", "/mcc //Minecraft:STOP", "/mcc execute as @a run stop"} {
		id = w.say(groupA, alice, qq.Text(stop))
		if got := w.reply(groupA, id); got != "仅超级管理员可执行 stop" {
			t.Errorf("%s: refusal %q", stop, got)
		}
	}
	id = w.say(groupA, bob, qq.Text("/mcc time set day")) // not public
	if got := w.reply(groupA, id); !strings.Contains(got, "管理员") {
		t.Errorf("refusal %q", got)
	}
	if !slices.Equal(console.Commands(), []string{"list"}) {
		t.Fatalf("a refused command reached RCON: %v", console.Commands())
	}

	id = w.say(groupA, owner, qq.Text("/mcc stop"))
	if got := w.reply(groupA, id); got != "[survival] ran stop" {
		t.Errorf("owner /mcc stop reply %q", got)
	}

	w.mc["creative"].SetRCON(func(cmd string) string { return "§eplugin ran " + cmd })
	id = w.say(groupB, alice, qq.Text("/rcon time set day"))
	if got := w.reply(groupB, id); got != "[creative] plugin ran time set day" {
		t.Errorf("send_rcon_command reply %q", got)
	}
	reqs := w.requests("creative", "send_rcon_command")
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].Data), `"time set day"`) {
		t.Fatalf("send_rcon_command requests %v", reqs)
	}
}

// /mct, /mca, /mcb, /mcp, /mcs and /mch each produce the right API call and reply.
func TestAdminCommands(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA), version: "1.21.1"}}, nil)
	mc := w.mc["survival"]
	mc.SetOnline("Steve")

	cases := []struct {
		text, api, wantData, wantReply string
	}{
		{"/mcb 服务器将在5分钟后重启", "broadcast", "服务器将在5分钟后重启", "[survival] 已广播"},
		{"/mct 维护通知\n今晚8点", "send_title", `"fade_in":20`, "[survival] 已发送标题"},
		{"/mcst 只有标题", "send_title", "只有标题", "[survival] 已发送标题"},
		{"/mca 注意脚下", "send_actionbar", "注意脚下", "[survival] 已发送动作栏消息"},
		{"/mcsa 别跑", "send_actionbar", "别跑", "[survival] 已发送动作栏消息"},
		{"/mcp Steve 你好", "send_private_msg", `"Steve"`, "[survival] 已私聊 Steve"},
		{"/mcp Herobrine 你好", "send_private_msg", `"Herobrine"`, "[survival] 玩家 Herobrine 不在线"},
	}
	for _, c := range cases {
		before := len(w.requests("survival", c.api))
		id := w.say(groupA, alice, qq.Text(c.text))
		if got := w.reply(groupA, id); got != c.wantReply {
			t.Errorf("%q replied %q, want %q", c.text, got, c.wantReply)
		}
		reqs := w.requests("survival", c.api)
		if len(reqs) != before+1 || !strings.Contains(string(reqs[len(reqs)-1].Data), c.wantData) {
			t.Errorf("%q: %s requests %v, want one more containing %s", c.text, c.api, reqs, c.wantData)
		}
	}
	title := w.requests("survival", "send_title")[0]
	var data map[string]json.RawMessage
	must(t, json.Unmarshal(title.Data, &data))
	if !strings.Contains(string(data["title"]), "维护通知") || !strings.Contains(string(data["subtitle"]), "今晚8点") {
		t.Errorf("title %s subtitle %s", data["title"], data["subtitle"])
	}

	// Members may not, and say why.
	id := w.say(groupA, bob, qq.Text("/mcb hi"))
	if got := w.reply(groupA, id); !strings.Contains(got, "管理员") {
		t.Errorf("member /mcb reply %q", got)
	}
	id = w.say(groupA, bob, qq.Text("/mcs"))
	if got := w.reply(groupA, id); !strings.Contains(got, "[survival] 已连接") || !strings.Contains(got, "1/20") {
		t.Errorf("/mcs reply %q", got)
	}
	id = w.say(groupA, bob, qq.Text("/mch"))
	help := w.reply(groupA, id)
	if !strings.Contains(help, "/mcs") || strings.Contains(help, "/mcb") {
		t.Errorf("member help lists the wrong commands:\n%s", help)
	}
	id = w.say(groupA, alice, qq.Text("/mch"))
	if help := w.reply(groupA, id); !strings.Contains(help, "/mcb") || !strings.Contains(help, "/mcp") {
		t.Errorf("admin help:\n%s", help)
	}
	// Commands are never chat.
	for _, r := range w.requests("survival", "broadcast") {
		if strings.Contains(string(r.Data), "/mc") {
			t.Errorf("a command was broadcast as chat: %s", r.Data)
		}
	}
}

// Two servers on one group: @name targets one, no @ targets both, and game
// lines carry "[name] ".
func TestTwoServersOnOneGroup(t *testing.T) {
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: strconv.Itoa(groupA)},
		{name: "creative", groups: strconv.Itoa(groupA)},
	}, nil)
	id := w.say(groupA, alice, qq.Text("/mca @creative 只给创造服"))
	if got := w.reply(groupA, id); got != "[creative] 已发送动作栏消息" {
		t.Errorf("reply %q", got)
	}
	if n := len(w.requests("survival", "send_actionbar")); n != 0 {
		t.Errorf("survival got %d action bars", n)
	}
	id = w.say(groupA, alice, qq.Text("/mca 两个服都有"))
	if got := w.reply(groupA, id); got != "[survival] 已发送动作栏消息\n[creative] 已发送动作栏消息" {
		t.Errorf("reply %q", got)
	}
	w.waitRequests("survival", "send_actionbar", 1)
	w.waitRequests("creative", "send_actionbar", 2)

	id = w.say(groupA, alice, qq.Text("/mca @lobby 没有这个服"))
	if got := w.reply(groupA, id); !strings.Contains(got, "lobby") || !strings.Contains(got, "survival, creative") {
		t.Errorf("unknown server reply %q", got)
	}

	w.mc["creative"].Chat("Alex", "hi")
	if got := w.waitLine(groupA, "Alex"); got != "[creative] Alex：hi" {
		t.Errorf("line %q", got)
	}
	// Chat reaches both servers.
	w.say(groupA, bob, qq.Text("大家好"))
	w.waitRequests("survival", "broadcast", 1)
	w.waitRequests("creative", "broadcast", 1)
}

// QQ_ADMINS may use every command in private chat; "@server" is required
// when there are several servers.
func TestPrivateChatCommands(t *testing.T) {
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: strconv.Itoa(groupA)},
		{name: "creative", groups: strconv.Itoa(groupB)},
	}, nil)
	privateReply := func(want string) {
		t.Helper()
		w.waitFor("a private reply containing "+want, func() bool {
			for _, s := range w.bot.Sent() {
				if s.UserID == owner.UserID && strings.Contains(s.Text, want) {
					return true
				}
			}
			return false
		})
	}
	w.bot.PrivateMessage(owner.UserID, owner, []qq.Segment{qq.Text("/mcb 全服通知")})
	privateReply("@服务器名")
	w.bot.PrivateMessage(owner.UserID, owner, []qq.Segment{qq.Text("/mcb @creative 全服通知")})
	privateReply("[creative] 已广播")
	// Others are ignored in private chat.
	w.bot.PrivateMessage(bob.UserID, bob, []qq.Segment{qq.Text("/mcs")})
	w.bot.PrivateMessage(owner.UserID, owner, []qq.Segment{qq.Text("/mcs")})
	privateReply("[survival] 已连接")
	for _, s := range w.bot.Sent() {
		if s.UserID == bob.UserID {
			t.Fatalf("answered a non-admin in private: %q", s.Text)
		}
	}
}

func TestDemoRunsAndShowsBothSides(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-demo"}, nil, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	// The game lines are what the QueQiao stand-in shows: its [鹊桥] prefix
	// directly before what the bridge sent, which starts with a space.
	for _, want := range []string{"MC ◀ survival: [鹊桥] Alice_MC(回复 @Bob)：@Bob 今晚8点", "QQ ◀ [survival] Steve：",
		"Steve被僵尸杀死了", "QQ ◀ (replying to Alice_MC) [survival] There are 2", "QQ ◀ (replying to Bob) 仅超级管理员可执行 stop",
		"QQ ◀ (replying to Bob) 已绑定 Steve\n       [survival] 已加入白名单", "RCON ◀ survival: whitelist add Steve"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "  MC ◀") && strings.Contains(line, "[鹊桥]  ") {
			t.Errorf("more than the one space the bridge sends after the prefix: %s", line)
		}
	}
}

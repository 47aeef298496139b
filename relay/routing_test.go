package relay

import (
	"slices"
	"strings"
	"testing"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/store"
)

// QQ_SYNC_PREFIX and QQ_IGNORE_PREFIXES look at the message's first text,
// past a leading quote or mention and blank space; the sync prefix is
// removed from what is forwarded.
func TestChatSegments(t *testing.T) {
	img := qq.Segment{Type: qq.SegImage, URL: "https://i.example.com/a.png"}
	cases := []struct {
		name   string
		sync   string
		ignore []string
		in     []qq.Segment
		want   []qq.Segment // nil: not forwarded
	}{
		{"no rules", "", nil, []qq.Segment{qq.Text("大家好")}, []qq.Segment{qq.Text("大家好")}},
		{"picture only", "", []string{"!"}, []qq.Segment{img}, []qq.Segment{img}},
		{"ignored", "", []string{"!", "."}, []qq.Segment{qq.Text(".roll d20")}, nil},
		{"ignored after blanks", "", []string{"!"}, []qq.Segment{qq.Text("  !roll")}, nil},
		{"ignored after a quote and a mention", "", []string{"!"},
			[]qq.Segment{reply("42"), mention("2401234567"), qq.Text(" "), qq.Text("!roll")}, nil},
		{"ignore prefix later in the text", "", []string{"!"}, []qq.Segment{qq.Text("hi !roll")}, []qq.Segment{qq.Text("hi !roll")}},
		{"text after a picture is not leading", "", []string{"!"}, []qq.Segment{img, qq.Text("!roll")}, []qq.Segment{img, qq.Text("!roll")}},
		{"empty ignore prefix means nothing", "", []string{""}, []qq.Segment{qq.Text("hi")}, []qq.Segment{qq.Text("hi")}},
		{"sync prefix removed", "#", nil, []qq.Segment{qq.Text("#大家好")}, []qq.Segment{qq.Text("大家好")}},
		{"sync prefix after blanks", "#", nil, []qq.Segment{qq.Text("  #大家好")}, []qq.Segment{qq.Text("大家好")}},
		{"sync prefix only once", "#", nil, []qq.Segment{qq.Text("##标签")}, []qq.Segment{qq.Text("#标签")}},
		{"sync prefix after a quote and a mention", "#", nil,
			[]qq.Segment{reply("42"), mention("1357924680"), qq.Text(" #看这个"), img},
			[]qq.Segment{reply("42"), mention("1357924680"), qq.Text("看这个"), img}},
		{"sync prefix in a later text segment", "#", nil,
			[]qq.Segment{qq.Text("  "), qq.Text("#hi")}, []qq.Segment{qq.Text("  "), qq.Text("hi")}},
		{"without the sync prefix", "#", nil, []qq.Segment{qq.Text("大家好")}, nil},
		{"sync prefix not leading", "#", nil, []qq.Segment{qq.Text("大家 #好")}, nil},
		{"picture without the sync prefix", "#", nil, []qq.Segment{img}, nil},
		{"ignore wins over sync", "#", []string{"#!"}, []qq.Segment{qq.Text("#!cmd")}, nil},
	}
	for _, c := range cases {
		r := &Relay{o: Options{QQSyncPrefix: c.sync, QQIgnorePrefixes: c.ignore}}
		in := slices.Clone(c.in)
		got, ok := r.chatSegments(in)
		if ok != (c.want != nil) || describe(got) != describe(c.want) {
			t.Errorf("%s: got %s (%v), want %s", c.name, describe(got), ok, describe(c.want))
		}
		if describe(in) != describe(c.in) {
			t.Errorf("%s: the message itself was changed to %s", c.name, describe(in))
		}
	}
}

// Group chat reaches the group's servers and no others; an unbound group is
// neither relayed nor answered.
func TestGroupChatReachesTheGroupsServers(t *testing.T) {
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: []int64{groupA}},
		{name: "creative", groups: []int64{groupA, groupB}},
	}, nil)
	w.sayText(groupA, bob, "A 群")
	w.sayText(groupB, bob, "B 群")
	w.sayText(groupC, bob, "C 群")
	w.sayText(groupC, alice, "/mcs")
	w.sayText(groupB, alice, "B 群又一条")
	want := map[string][]string{
		"survival": {" Bob：A 群"},
		"creative": {" Bob：A 群", " Bob：B 群", " [管理] Alice_MC：B 群又一条"},
	}
	for server, lines := range want {
		// Each group's chat keeps its order; two groups' chat may
		// interleave (each group has its own pipeline).
		got := w.waitTexts(server, "broadcast", "message", len(lines))
		slices.Sort(got)
		slices.Sort(lines)
		if !slices.Equal(got, lines) {
			t.Errorf("%s shows %q, want %q", server, got, lines)
		}
	}
	for _, s := range w.bot.Sent() {
		if s.GroupID == groupC {
			t.Errorf("answered in an unbound group: %q", s.Text)
		}
	}
}

// SHOW_SERVER_NAME: auto prefixes a game line with "[name] " only in
// groups with several servers, always in every group, never in none.
func TestShowServerName(t *testing.T) {
	for _, c := range []struct {
		mode     ServerNames
		inA, inB string
	}{
		{ServerNamesAuto, "[creative] Alex：hi", "Alex：hi"}, // the zero value
		{ServerNamesAlways, "[creative] Alex：hi", "[creative] Alex：hi"},
		{ServerNamesNever, "Alex：hi", "Alex：hi"},
	} {
		t.Run(c.mode.String(), func(t *testing.T) {
			w := startWorld(t, []serverSpec{
				{name: "survival", groups: []int64{groupA}},
				{name: "creative", groups: []int64{groupA, groupB}},
			}, func(o *Options) { o.ShowServerName = c.mode })
			w.mc["creative"].Chat("Alex", "hi")
			if got := w.waitLines(groupA, 1); !slices.Equal(got, []string{c.inA}) {
				t.Errorf("group with two servers: %q, want %q", got, c.inA)
			}
			if got := w.waitLines(groupB, 1); !slices.Equal(got, []string{c.inB}) {
				t.Errorf("group with one server: %q, want %q", got, c.inB)
			}
		})
	}
}

// Game events reach QQ as configured in SYNC_MC_TO_QQ; chat starting with
// an MC_IGNORE_PREFIXES prefix does not.
func TestGameEventsReachQQAsConfigured(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA, groupB}}}, func(o *Options) {
		o.SyncMCToQQ = []minecraft.EventKind{minecraft.Chat, minecraft.Join, minecraft.Death}
	})
	mc := w.mc["survival"]
	mc.Chat("Steve", "!!qb make")
	mc.Chat("Steve", "§a你好")
	mc.Quit("Steve")                       // not configured
	mc.Command("Steve", "tp Steve 0 64 0") // not configured
	mc.Advancement("Steve", "minecraft:story/mine_stone", "advancements.story.mine_stone.title", "Stone Age")
	mc.Death("Steve", "death.attack.mob", []string{"Steve", "entity.minecraft.zombie:Zombie"}, "Steve was slain by Zombie")
	mc.Join("Alex")
	want := []string{"Steve：你好", "Steve被僵尸杀死了", "Alex 加入了游戏"}
	for _, g := range []int64{groupA, groupB} {
		if got := w.waitLines(g, 3); !slices.Equal(got, want) {
			t.Errorf("group %d: %q, want %q", g, got, want)
		}
	}
}

// CROSS_SERVER_CHAT relays chat, joins, quits and deaths to the servers
// sharing a group with the origin, marked with its name; nothing else
// crosses, and without it nothing does.
func TestCrossServerChat(t *testing.T) {
	servers := []serverSpec{
		{name: "survival", groups: []int64{groupA}},
		{name: "creative", groups: []int64{groupA, groupB}},
		{name: "lobby", groups: []int64{groupB}},
	}
	w := startWorld(t, servers, func(o *Options) { o.CrossServerChat = true })
	w.mc["survival"].Chat("Steve", "有人吗")
	w.mc["survival"].Advancement("Steve", "minecraft:story/mine_stone", "advancements.story.mine_stone.title", "Stone Age")
	w.mc["survival"].Chat("Steve", "!!qb make")
	w.waitLines(groupA, 2) // the chat and the advancement: the chat has crossed
	w.mc["lobby"].Join("Alex")
	w.mc["lobby"].Death("Alex", "", nil, "Alex fell from a high place")
	w.waitLines(groupB, 2)
	w.mc["creative"].Quit("Bob") // last: reaches the other two after everything above
	want := map[string][]string{
		"survival": {"[creative] Bob 离开了游戏"},
		"creative": {"[survival] Steve：有人吗", "[lobby] Alex 加入了游戏", "[lobby] Alex fell from a high place"},
		"lobby":    {"[creative] Bob 离开了游戏"},
	}
	for server, lines := range want {
		got := w.waitTexts(server, "broadcast", "message", len(lines))
		for i := range got {
			got[i] = strings.TrimSpace(got[i])
		}
		if !slices.Equal(got, lines) {
			t.Errorf("%s shows %q, want %q", server, got, lines)
		}
	}
	mark := components(t, w.requests("creative", "broadcast")[0].Data, "message")
	if len(mark) < 2 || mark[0].Color != "gray" || strings.TrimSpace(mark[0].Text) != "[survival]" {
		t.Errorf("a cross-server line starts %+v, want the origin in gray", mark)
	}

	t.Run("off", func(t *testing.T) {
		w := startWorld(t, servers, nil)
		w.mc["survival"].Chat("Steve", "有人吗")
		w.waitLines(groupA, 1)
		w.sayText(groupA, bob, "我在")
		if got := w.waitTexts("creative", "broadcast", "message", 1); !slices.Equal(got, []string{" Bob：我在"}) {
			t.Errorf("creative shows %q, want only the QQ line", got)
		}
	})
}

// QQ_SYNC_PREFIX and QQ_IGNORE_PREFIXES decide what chat is forwarded;
// commands are commands either way. SYNC_QQ_TO_MC=false forwards no chat.
func TestQQChatSwitches(t *testing.T) {
	t.Run("prefixes", func(t *testing.T) {
		w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, func(o *Options) {
			o.QQSyncPrefix, o.QQIgnorePrefixes = "#", []string{"#!"}
		})
		w.sayText(groupA, bob, "不转发")
		w.sayText(groupA, bob, "#!roll")
		w.sayText(groupA, bob, "#转发")
		if got := w.command(groupA, alice, "/mca 命令照常"); got != "[survival] 已发送动作栏消息" {
			t.Errorf("a command with QQ_SYNC_PREFIX set: %q", got)
		}
		// Anything forwarded by mistake would be in the queue before it.
		if got := w.waitTexts("survival", "broadcast", "message", 1); !slices.Equal(got, []string{" Bob：转发"}) {
			t.Errorf("forwarded %q", got)
		}
	})
	t.Run("no QQ to game", func(t *testing.T) {
		w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, func(o *Options) { o.SyncQQToMC = false })
		w.sayText(groupA, bob, "不转发")
		if got := w.command(groupA, alice, "/mcb 公告照常"); got != "[survival] 已广播" {
			t.Errorf("/mcb with SYNC_QQ_TO_MC=false: %q", got)
		}
		if got := w.texts("survival", "broadcast", "message"); !slices.Equal(got, []string{"[公告] 公告照常"}) {
			t.Errorf("broadcasts %q, want the announcement alone", got)
		}
	})
}

// In private chat only QQ_ADMINS are answered; "@server" is needed when
// there are several servers; private chat is never relayed.
func TestPrivateChat(t *testing.T) {
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: []int64{groupA}},
		{name: "creative", groups: []int64{groupB}},
	}, nil)
	cases := []struct{ text, want string }{
		{"/mcb 通知", "请用 @服务器名 指定服务器（可用：survival, creative）"},
		{"/mcc list", "请用 @服务器名 指定服务器（可用：survival, creative）"},
		{"/mcb @creative 通知", "[creative] 已广播"},
		{"/mcs", "[survival] 已连接 · 在线玩家 0/20 · 控制台命令可用\n[creative] 已连接 · 在线玩家 0/20 · 控制台命令可用"},
		{"/mcs @creative", "[creative] 已连接 · 在线玩家 0/20 · 控制台命令可用"},
	}
	w.bot.PrivateMessage(bob.UserID, bob, []qq.Segment{qq.Text("/mcs")})
	w.bot.PrivateMessage(alice.UserID, alice, []qq.Segment{qq.Text("/mcb @survival 群管理私聊")}) // a group role counts in its group only
	w.bot.PrivateMessage(owner.UserID, owner, []qq.Segment{qq.Text("私聊不转发")})
	for _, c := range cases {
		if got := w.privateCommand(owner, c.text); got != c.want {
			t.Errorf("%q in private: %q, want %q", c.text, got, c.want)
		}
	}
	if help := w.privateCommand(owner, "/mch"); !strings.Contains(help, "/mcb [@服务器]") || strings.Contains(help, "本群服务器") {
		t.Errorf("/mch in private:\n%s", help)
	}
	for _, s := range w.bot.Sent() {
		if s.UserID != owner.UserID {
			t.Errorf("sent %q to %d, who is not in QQ_ADMINS", s.Text, s.UserID)
		}
	}
	if got := w.texts("survival", "broadcast", "message"); len(got) != 0 {
		t.Errorf("survival shows %q", got)
	}

	t.Run("one server", func(t *testing.T) {
		w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, nil)
		if got := w.privateCommand(owner, "/mcb 通知"); got != "[survival] 已广播" {
			t.Errorf("/mcb in private with one server: %q", got)
		}
	})
}

// A message the bot sends again (same id) is handled once: a line is not
// broadcast twice, a command does not run twice.
func TestReplayedMessagesAreHandledOnce(t *testing.T) {
	db, err := store.Open(t.Context(), t.TempDir(), store.Options{})
	check(t, err)
	t.Cleanup(func() { db.Close() })
	handled, err := db.LoadHandled(t.Context())
	check(t, err)
	w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, func(o *Options) { o.Seen = handled })

	chat, _ := w.bot.GroupMessageFrame(groupA, bob, []qq.Segment{qq.Text("只一次")})
	cmd, _ := w.bot.GroupMessageFrame(groupA, alice, []qq.Segment{qq.Text("/mca 只一次")})
	w.bot.Emit(chat)
	w.bot.Emit(cmd)
	w.bot.Emit(chat)
	w.bot.Emit(cmd)
	w.sayText(groupA, bob, "最后")
	if got := w.waitTexts("survival", "broadcast", "message", 2); !slices.Equal(got, []string{" Bob：只一次", " Bob：最后"}) {
		t.Errorf("broadcasts %q", got)
	}
	w.waitFor("the command to run", func() bool { return len(w.requests("survival", "send_actionbar")) >= 1 })
	if n := len(w.requests("survival", "send_actionbar")); n != 1 {
		t.Errorf("the command ran %d times", n)
	}
	if n := w.metrics.GetOrCreateCounter(`bridge_messages_replayed_total`).Get(); n != 2 {
		t.Errorf("counted %d replays, want 2", n)
	}
}

package main

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/standin/milky"
	"github.com/mcqq/bridge/internal/standin/rcon"
	"github.com/mcqq/bridge/internal/standin/satori"
	"github.com/mcqq/bridge/qq"
)

// Accounts end to end, continued: members leaving, BIND_VERIFY, and the
// bound names on both sides.

// A member who leaves the only bound group loses their binding and
// whitelist entry, and the group is told; one who leaves one of two bound
// groups keeps it until they leave the other too. Leaving is told over
// OneBot (group_decrease), Milky (group_member_decrease) and Satori
// (guild-member-removed, in LLBot's and Koishi's shapes) alike.
func TestMemberLeavingUnbinds(t *testing.T) {
	t.Run("only group", func(t *testing.T) {
		w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA), rcon: true, whitelist: true}}, nil)
		w.ask(groupA, bob, "/bind Steve")
		w.bot.MemberLeaves(groupA, bob.UserID)
		w.waitLine(groupA, "QQ 1357924680 已离开本群，已解除其绑定：")
		if got := w.lines(groupA); !slices.Contains(got, "已解绑 Steve") || !slices.Contains(got, "[survival] 已移出白名单") {
			t.Errorf("group told %q", got)
		}
		if got := w.consoleCommands("survival", "whitelist remove"); !slices.Equal(got, []string{"whitelist remove Steve"}) {
			t.Errorf("removals %q", got)
		}
		if got := w.bindings(); len(got) != 0 {
			t.Errorf("database holds %q", got)
		}
	})
	for _, proto := range []string{"milky", "satori llbot", "satori koishi"} {
		t.Run("only group over "+proto, func(t *testing.T) {
			qqBot := startLeavingBot(t, proto)
			w := qqBot.w
			qqBot.say(groupA, bob, "/bind Steve")
			w.waitFor("the /bind reply", func() bool { return slices.Contains(qqBot.lines(groupA), "已绑定 Steve") })
			if got := w.consoleCommands("survival", "whitelist"); !slices.Equal(got, []string{"whitelist add Steve"}) {
				t.Fatalf("binding: the console ran %q", got)
			}
			qqBot.leave(groupA, bob.UserID)
			w.waitFor("the group told", func() bool {
				return slices.ContainsFunc(qqBot.lines(groupA), func(l string) bool {
					return strings.HasPrefix(l, "QQ 1357924680 已离开本群，已解除其绑定：")
				})
			})
			w.waitFor("whitelist remove", func() bool { return len(w.consoleCommands("survival", "whitelist remove")) > 0 })
			if got := qqBot.lines(groupA); !slices.Contains(got, "[survival] 已移出白名单") {
				t.Errorf("group told %q", got)
			}
			if got := w.consoleCommands("survival", "whitelist remove"); !slices.Equal(got, []string{"whitelist remove Steve"}) {
				t.Errorf("removals %q", got)
			}
			if got := w.bindings(); len(got) != 0 {
				t.Errorf("database holds %q", got)
			}
		})
	}
	t.Run("still in another bound group", func(t *testing.T) {
		both := strconv.Itoa(groupA) + "," + strconv.Itoa(groupB)
		w := startWorld(t, []serverSpec{{name: "survival", groups: both, rcon: true, whitelist: true}}, nil)
		w.ask(groupA, bob, "/bind Steve")
		w.bot.MemberLeaves(groupA, bob.UserID)
		w.waitFor("the bridge to see bob in the other group", func() bool {
			return strings.Contains(w.logs.String(), "still in another; bindings kept")
		})
		if got := w.bindings(); !slices.Equal(got, []string{binding(bob, "Steve", groupA)}) {
			t.Errorf("binding of a member still in a bound group: %q", got)
		}
		w.bot.MemberLeaves(groupB, bob.UserID)
		w.waitFor("whitelist remove", func() bool { return len(w.consoleCommands("survival", "whitelist remove")) > 0 })
		w.waitLine(groupB, "QQ 1357924680 已离开本群，已解除其绑定：")
		if got := w.bindings(); len(got) != 0 {
			t.Errorf("database holds %q", got)
		}
	})
	t.Run("BIND_UNBIND_ON_LEAVE=false", func(t *testing.T) {
		w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA), rcon: true, whitelist: true}},
			map[string]string{"BIND_UNBIND_ON_LEAVE": "false"})
		w.ask(groupA, bob, "/bind Steve")
		w.bot.MemberLeaves(groupA, bob.UserID)
		w.waitFor("the notice", func() bool { return strings.Contains(w.logs.String(), "unbinding on leave is off") })
		if got := w.bindings(); !slices.Equal(got, []string{binding(bob, "Steve", groupA)}) {
			t.Errorf("database holds %q", got)
		}
	})
}

// leavingBot is a Milky or Satori bot stand-in driving a bridge whose one
// server, survival in groupA, keeps its whitelist over RCON.
type leavingBot struct {
	w     *world
	say   func(group int64, m qq.Member, text string) (id string)
	leave func(group, user int64)
	lines func(group int64) []string // every line sent to group, in order
}

func startLeavingBot(t *testing.T, proto string) leavingBot {
	t.Helper()
	console := started(t, rcon.New("pw", func(cmd string) string { return "ran " + cmd }))
	env := map[string]string{"MC_0_WHITELIST": "true", "MC_0_RCON_ADDR": console.Addr(), "MC_0_RCON_PASSWORD": "pw"}
	var lb leavingBot
	switch proto {
	case "milky":
		bot := started(t, milky.New(milky.Options{Token: "milky-secret"}))
		bot.AddMember(groupA, bob)
		maps.Copy(env, map[string]string{"QQ_PROTOCOL": "milky", "QQ_URL": bot.URL(), "QQ_ACCESS_TOKEN": "milky-secret"})
		lb.say = func(group int64, m qq.Member, text string) string {
			return strconv.FormatInt(bot.GroupMessage(group, m, []qq.Segment{qq.Text(text)}), 10)
		}
		lb.leave = bot.MemberLeaves
		lb.lines = func(group int64) []string {
			var out []string
			for _, s := range bot.Sent() {
				if s.GroupID == group {
					out = append(out, strings.Split(s.Text, "\n")...)
				}
			}
			return out
		}
	case "satori llbot", "satori koishi":
		bot := started(t, satori.New(satori.Options{Token: satoriToken, Koishi: proto == "satori koishi"}))
		bot.AddMember(groupA, bob)
		bot.SetGroupName(groupA, "MC服务器交流群")
		maps.Copy(env, map[string]string{"QQ_PROTOCOL": "satori", "QQ_URL": bot.URL(), "QQ_ACCESS_TOKEN": satoriToken})
		lb.say = func(group int64, m qq.Member, text string) string {
			return bot.GroupMessage(group, m, []qq.Segment{qq.Text(text)})
		}
		lb.leave = bot.MemberLeaves
		lb.lines = func(group int64) []string { return satoriLines(bot, group) }
	default:
		t.Fatalf("no bot for %q", proto)
	}
	lb.w = startWithBot(t, env)
	lb.w.rcon = map[string]*rcon.Server{"survival": console}
	return lb
}

// testClock is a clock a test moves by hand.
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

var codeRE = regexp.MustCompile(`发送验证码 (\d{6})`)

// BIND_VERIFY: /bind answers a code; said in game by that player it binds
// (whitelist and all) and is not relayed; said by another player it does
// neither; after 10 minutes it has expired (a moved clock) and is gone.
func TestBindVerifiedInGame(t *testing.T) {
	clock := &testClock{t: time.Now()}
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA), rcon: true, whitelist: true}},
		map[string]string{"BIND_VERIFY": "true"}, func(b *bridge) { b.clock = clock.now })
	mc := w.mc["survival"]
	mc.SetOnline("Steve", "Alex")

	id := w.say(groupA, bob, qq.Text("/bind Steve"))
	answer := w.reply(groupA, id)
	m := codeRE.FindStringSubmatch(answer)
	if m == nil || !strings.HasPrefix(answer, "请在 10 分钟内用 Steve 进入服务器") {
		t.Fatalf("reply %q", answer)
	}
	code := m[1]
	if got := w.bindings(); len(got) != 0 {
		t.Fatalf("bound before the player said the code: %q", got)
	}

	mc.Chat("Alex", code) // someone else reading the group
	mc.Chat("Steve", "hi")
	w.waitLine(groupA, "Steve：hi")
	if got := w.bindings(); len(got) != 0 {
		t.Errorf("another player's saying the code bound %q", got)
	}

	mc.Chat("Steve", code)
	var confirmed string
	w.waitFor("the confirmation", func() bool {
		for _, s := range w.bot.Sent() {
			if len(s.Message) > 0 && s.Message[0].ID == strconv.FormatInt(id, 10) && s.Text != answer {
				confirmed = s.Text
				return true
			}
		}
		return false
	})
	if confirmed != "已绑定 Steve\n[survival] 已加入白名单" {
		t.Errorf("confirmation %q", confirmed)
	}
	if got := w.bindings(); !slices.Equal(got, []string{binding(bob, "Steve", groupA)}) {
		t.Errorf("database holds %q", got)
	}
	if got := w.consoleCommands("survival", "whitelist"); !slices.Equal(got, []string{"whitelist add Steve"}) {
		t.Errorf("console ran %q", got)
	}
	w.waitRequests("survival", "send_private_msg", 1) // the player is told in game
	// Game chat reaches the group in the order it was said: once a line
	// said after the code is there, a relayed code would be too.
	mc.Chat("Steve", "绑好了")
	w.waitLine(groupA, "Steve：绑好了")
	for _, l := range w.lines(groupA) {
		if strings.Contains(l, code) && !strings.Contains(l, "发送验证码") {
			t.Errorf("the code reached the group: %q", l)
		}
	}

	// Ten minutes later a code no longer binds, and is removed.
	answer = w.ask(groupA, carol, "/bind Alex")
	late := codeRE.FindStringSubmatch(answer)
	if late == nil {
		t.Fatalf("reply %q", answer)
	}
	clock.advance(10*time.Minute + time.Second)
	mc.Chat("Alex", late[1])
	w.waitLine(groupA, "Alex："+late[1]) // expired: just chat
	if got := w.bindings(); !slices.Equal(got, []string{binding(bob, "Steve", groupA)}) {
		t.Errorf("an expired code bound: %q", got)
	}
	w.ask(groupA, alice, "/bind Notch") // a new code sweeps the expired ones
	var n int
	must(t, w.database().QueryRow(`SELECT count(*) FROM verifications WHERE code = ?`, late[1]).Scan(&n))
	if n != 0 {
		t.Errorf("the expired code is still stored")
	}
}

// With a binding, the sender's hover in game names the player, and a
// template's {qq} is the bound member's card or nickname (empty when
// unbound).
func TestBoundNamesShowOnBothSides(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}},
		map[string]string{"FORMAT_CHAT": "{player}({qq})：{message}", "FORMAT_JOIN": "{player} {qq} 加入了游戏"})
	senderHover := func(n int) string {
		reqs := w.waitRequests("survival", "broadcast", n)
		for _, c := range flatten(decodeMessage(t, reqs[n-1].Data, "message")) {
			if c.Text == alice.Card {
				return string(c.HoverEvent)
			}
		}
		return ""
	}
	w.say(groupA, alice, qq.Text("早"))
	if hover := senderHover(1); strings.Contains(hover, "玩家") || !strings.Contains(hover, "QQ: 1019283746") {
		t.Errorf("sender hover before binding %s", hover)
	}
	w.ask(groupA, alice, "/bind Steve")
	w.say(groupA, alice, qq.Text("大家好"))
	if hover := senderHover(2); !strings.Contains(hover, `玩家: Steve`) {
		t.Errorf("sender hover after binding %s", hover)
	}

	mc := w.mc["survival"]
	mc.Chat("Steve", "hi")
	mc.Chat("Alex", "hello")
	mc.Join("Steve")
	w.waitLine(groupA, "Steve [管理] Alice_MC 加入了游戏")
	got := w.lines(groupA)
	if !slices.Contains(got, "Steve([管理] Alice_MC)：hi") || !slices.Contains(got, "Alex()：hello") {
		t.Errorf("group got %q", got)
	}
}

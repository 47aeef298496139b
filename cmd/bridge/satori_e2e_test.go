package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/standin/queqiao"
	"github.com/mcqq/bridge/internal/standin/satori"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
)

const satoriToken = "satori-secret"

// startSatori runs the bridge (one server, survival, in groupA) against a
// Satori server stand-in, LLBot's or Koishi's.
func startSatori(t *testing.T, koishi bool) (*world, *satori.Bot) {
	t.Helper()
	bot := started(t, satori.New(satori.Options{Token: satoriToken, Koishi: koishi}))
	for _, m := range []qq.Member{alice, bob, owner} {
		bot.AddMember(groupA, m)
	}
	bot.SetGroupName(groupA, "MC服务器交流群")
	w := startWithBot(t, map[string]string{"QQ_PROTOCOL": "satori", "QQ_URL": bot.URL(),
		"QQ_ACCESS_TOKEN": satoriToken})
	return w, bot
}

func flavours() map[string]bool { return map[string]bool{"llbot": false, "koishi": true} }

// satoriLines is every line the bridge sent to group, in order.
func satoriLines(bot *satori.Bot, group int64) []string {
	var out []string
	for _, s := range bot.Sent() {
		if s.GroupID == group {
			out = append(out, strings.Split(s.Text, "\n")...)
		}
	}
	return out
}

// satoriReply waits for the bridge's answer quoting message id and returns
// its text.
func satoriReply(w *world, bot *satori.Bot, id string) string {
	w.t.Helper()
	var text string
	w.waitFor("a reply to "+id, func() bool {
		for _, s := range bot.Sent() {
			if len(s.Message) > 0 && s.Message[0].Type == qq.SegReply && s.Message[0].ID == id {
				text = s.Text
				return true
			}
		}
		return false
	})
	return text
}

// Chat both ways over Satori: a reply with a mention and a face shows in
// game with the quoted author and text, the mention by card and the face by
// name; game chat reaches the group.
func TestSatoriBridgesBothWays(t *testing.T) {
	for name, koishi := range flavours() {
		t.Run(name, func(t *testing.T) {
			w, bot := startSatori(t, koishi)
			asked := bot.GroupMessage(groupA, bob, []qq.Segment{qq.Text("服务器今晚几点维护？")})
			w.waitRequests("survival", "broadcast", 1)
			bot.GroupMessage(groupA, alice, []qq.Segment{
				seg(qq.SegReply, "id", asked),
				seg(qq.SegAt, "qq", "1357924680"),
				qq.Text(" 今晚8点 & 记得保存 "),
				seg(qq.SegFace, "id", "14"),
			})
			reqs := w.waitRequests("survival", "broadcast", 2)
			comps := flatten(decodeMessage(t, reqs[1].Data, "message"))
			line := plain(decodeMessage(t, reqs[1].Data, "message"))
			if !strings.HasSuffix(line, "[管理] Alice_MC(回复 @Bob)：@Bob 今晚8点 & 记得保存 [微笑]") {
				t.Errorf("in game: %q", line)
			}
			i := slices.IndexFunc(comps, func(c component) bool { return c.Text == "(回复 @Bob)" })
			if i < 0 || !strings.Contains(string(comps[i].HoverEvent), "服务器今晚几点维护？") {
				t.Errorf("reply marker without the quoted text on hover: %s", reqs[1].Data)
			}

			w.mc["survival"].Chat("Steve", "收到 <b>&</b>")
			w.waitFor("the chat line in QQ", func() bool { return slices.Contains(satoriLines(bot, groupA), "Steve：收到 <b>&</b>") })
		})
	}
}

// Commands over Satori take their permissions from member roles: LLBot's
// from a member look-up, Koishi's from the message. A member may not /mcb;
// a group admin may.
func TestSatoriCommandPermissions(t *testing.T) {
	for name, koishi := range flavours() {
		t.Run(name, func(t *testing.T) {
			w, bot := startSatori(t, koishi)
			id := bot.GroupMessage(groupA, bob, []qq.Segment{qq.Text("/mcb 大家好")})
			if got := satoriReply(w, bot, id); !strings.Contains(got, "管理员") {
				t.Errorf("member /mcb reply %q", got)
			}
			id = bot.GroupMessage(groupA, alice, []qq.Segment{qq.Text("/mcb 服务器将在5分钟后重启")})
			if got := satoriReply(w, bot, id); got != "[survival] 已广播" {
				t.Errorf("admin /mcb reply %q", got)
			}
			reqs := w.requests("survival", "broadcast")
			if len(reqs) != 1 || !strings.Contains(string(reqs[0].Data), "服务器将在5分钟后重启") || strings.Contains(string(reqs[0].Data), "大家好") {
				t.Errorf("broadcasts %v, want only the admin's", reqs)
			}
		})
	}
}

// The Satori server restarts while chat flows both ways, in either flavour.
// Game lines said before the crash (some still being sent), while it is
// down (queued) and after it is back all reach the group, in order, and
// those the bridge had not yet handed over exactly once; QQ messages the
// bridge had read before the crash, and every one the server emits once
// the bridge is back on its stream, reach the game exactly once, in order.
// What the server emits while down reaches nobody, so none is said then.
func TestSatoriOutageLosesNothing(t *testing.T) {
	for name, koishi := range flavours() {
		t.Run(name, func(t *testing.T) {
			w, bot := startSatori(t, koishi)
			mc := w.mc["survival"]
			var wantGame, wantQQ []string
			game := func(from, to int) {
				for i := from; i < to; i++ {
					mc.Chat("Steve", fmt.Sprintf("line %02d", i))
					wantQQ = append(wantQQ, fmt.Sprintf("Steve：line %02d", i))
				}
			}
			qqSays := func(from, to int) {
				for i := from; i < to; i++ {
					text := fmt.Sprintf("消息 %02d", i)
					bot.GroupMessage(groupA, bob, []qq.Segment{qq.Text(text)})
					wantGame = append(wantGame, text)
				}
			}
			gameGot := func() []string {
				var got []string
				for _, r := range w.requests("survival", "broadcast") {
					line := plain(decodeMessage(t, r.Data, "message"))
					got = append(got, line[strings.LastIndex(line, "：")+len("："):])
				}
				return got
			}

			// Both ways flowing, then the crash with lines in flight.
			qqSays(0, 5)
			game(0, 5)
			w.waitFor("the first lines both ways", func() bool {
				return len(satoriLines(bot, groupA)) >= 5 && len(gameGot()) >= 5
			})
			game(5, 20)
			qqSays(5, 10)
			// What the bot emitted is in: a stop with the bridge's bytes
			// unread could reset the stream and drop what was still on
			// the way, which is the network's doing, not the bridge's.
			w.waitFor("the QQ messages before the stop in game", func() bool { return len(gameGot()) >= 10 })
			bot.Stop()
			w.waitFor("the bridge to notice", func() bool { return !w.bridge.qq.State().Up() })
			game(20, 35) // queued while the server is down

			must(t, bot.Restart())
			restarted := time.Now()
			game(35, 40) // while the bridge reconnects
			w.waitFor("the bridge back on the event stream", func() bool { return bot.Connected() == 1 })
			for i := range 10 {
				qqSays(10+i, 11+i)
				game(40+i, 41+i)
			}

			w.waitFor("every game line in the group", func() bool {
				return slices.Contains(satoriLines(bot, groupA), wantQQ[len(wantQQ)-1])
			})
			w.waitFor("every QQ message in game", func() bool { return slices.Contains(gameGot(), wantGame[len(wantGame)-1]) })
			if took := time.Since(restarted); took > 10*time.Second {
				t.Errorf("delivery took %v after the restart", took)
			}
			// A batch the server took just as it crashed may be sent again
			// (its answer never came back); nothing else may repeat.
			got := satoriLines(bot, groupA)
			if first := firstSeen(got); !slices.Equal(first, wantQQ) {
				t.Fatalf("QQ got\n%v\nwant\n%v", got, wantQQ)
			}
			for _, line := range wantQQ[20:] {
				if n := testutil.Count(got, line); n != 1 {
					t.Errorf("QQ got %q %d times, want once: %v", line, n, got)
				}
			}
			if got := gameGot(); !slices.Equal(got, wantGame) {
				t.Fatalf("the game got\n%v\nwant\n%v", got, wantGame)
			}
		})
	}
}

// -check over Satori connects, asks for the group and says ok when the bot
// is in it, and fails a group it is not in.
func TestSatoriCheck(t *testing.T) {
	bot := satori.New(satori.Options{Token: satoriToken})
	bot.SetGroupName(groupA, "MC服务器交流群")
	must(t, bot.Start("127.0.0.1:0"))
	t.Cleanup(bot.Stop)
	mc := started(t, queqiao.New(queqiao.Options{ServerName: "survival"}))
	env := map[string]string{"QQ_PROTOCOL": "satori", "QQ_URL": bot.URL(), "QQ_ACCESS_TOKEN": satoriToken,
		"MC_0_NAME": "survival", "MC_0_WS_URL": mc.URL(), "MC_0_GROUPS": "712345678", "HTTP_LISTEN": "none",
		"DATA_DIR": t.TempDir()}
	cfg, _, err := LoadConfig(env)
	must(t, err)
	var out strings.Builder
	if code := runCheck(t.Context(), cfg, &out); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "qq (satori)") || !strings.Contains(out.String(), "ok") {
		t.Errorf("check output:\n%s", out.String())
	}

	env["MC_0_GROUPS"] = "111111"
	cfg, _, err = LoadConfig(env)
	must(t, err)
	out.Reset()
	if code := runCheck(t.Context(), cfg, &out); code != exitFail || !strings.Contains(out.String(), "the bot is not in group 111111") {
		t.Errorf("a group the bot is not in: exit %d:\n%s", code, out.String())
	}

	env["QQ_ACCESS_TOKEN"] = "wrong"
	cfg, _, err = LoadConfig(env)
	must(t, err)
	out.Reset()
	if code := runCheck(t.Context(), cfg, &out); code != exitFail || !strings.Contains(out.String(), "QQ_ACCESS_TOKEN") {
		t.Errorf("wrong token: exit %d:\n%s", code, out.String())
	}
}

func TestSatoriDemo(t *testing.T) {
	var out, errOut strings.Builder
	code := run(t.Context(), []string{"-demo"}, []string{"QQ_PROTOCOL=satori"}, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"QQ_PROTOCOL=satori", "MC ◀ survival: [鹊桥] Alice_MC(回复 @Bob)：@Bob", "QQ ◀ [survival] Steve：", "[survival] There are 2", "已绑定 Steve", "RCON ◀ survival: whitelist add Steve"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

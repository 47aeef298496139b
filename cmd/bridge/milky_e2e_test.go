package main

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/fake"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
)

// The same bridge with a Milky bot: chat both ways, a reply whose quoted
// message Milky carries inline, and a command answered with a quote.
func TestMilkyBridgesBothWays(t *testing.T) {
	for _, webhook := range []bool{false, true} {
		t.Run(map[bool]string{false: "event stream", true: "webhook"}[webhook], func(t *testing.T) {
			o := fake.MilkyOptions{Token: "milky-secret"}
			listen := ""
			if webhook {
				listen = freeAddr(t)
				o.WebhookURL = "http://" + listen + "/"
			}
			bot := fake.NewMilky(o)
			must(t, bot.Start("127.0.0.1:0"))
			t.Cleanup(bot.Stop)
			bot.AddMember(groupA, alice)
			bot.AddMember(groupA, bob)
			mc := fake.NewQueQiao(fake.QueQiaoOptions{ServerName: "survival"})
			must(t, mc.Start("127.0.0.1:0"))
			t.Cleanup(mc.Stop)

			env := map[string]string{
				"QQ_PROTOCOL": "milky", "QQ_URL": bot.URL(), "QQ_ACCESS_TOKEN": "milky-secret",
				"MC_0_NAME": "survival", "MC_0_WS_URL": mc.URL(), "MC_0_GROUPS": strconv.Itoa(groupA),
				"HTTP_LISTEN": "none", "QQ_GROUP_RATE": "0", "QQ_LISTEN": listen,
			}
			cfg, _, err := LoadConfig(env)
			must(t, err)
			b, err := build(cfg, discardLogger())
			must(t, err)
			testutil.RunInBackground(t, b.run, 10*time.Second)
			wait := func(what string, cond func() bool) { t.Helper(); testutil.WaitFor(t, what, cond, 10*time.Second) }
			wait("connected", func() bool { ready, _ := b.readiness(); return ready })
			if webhook {
				wait("QQ_LISTEN to accept", func() bool {
					c, err := net.Dial("tcp", listen)
					if err == nil {
						c.Close()
					}
					return err == nil
				})
			}
			asked := bot.GroupMessage(groupA, bob, []qq.Segment{qq.Text("几点维护？")})
			w := &world{t: t, mc: map[string]*fake.QueQiao{"survival": mc}}
			w.waitRequests("survival", "broadcast", 1)
			bot.GroupMessage(groupA, alice, []qq.Segment{
				{Type: qq.SegReply, Data: map[string]string{"id": strconv.FormatInt(asked, 10)}},
				qq.Text("八点"),
			})
			reqs := w.waitRequests("survival", "broadcast", 2)
			line := plain(decodeMessage(t, reqs[1].Data, "message"))
			if !strings.HasSuffix(line, "(回复 @Bob)：八点") || !strings.Contains(string(reqs[1].Data), "几点维护？") {
				t.Errorf("reply rendered as %q: %s", line, reqs[1].Data)
			}

			mc.Chat("Steve", "收到")
			wait("the chat line", func() bool {
				for _, s := range bot.Sent() {
					if s.GroupID == groupA && s.Text == "Steve：收到" {
						return true
					}
				}
				return false
			})
			cmd := bot.GroupMessage(groupA, bob, []qq.Segment{qq.Text("/mcs")})
			wait("the /mcs reply", func() bool {
				for _, s := range bot.Sent() {
					if len(s.Message) > 0 && s.Message[0].Type == qq.SegReply && strings.HasSuffix(s.Message[0].Get("id"), strconv.FormatInt(cmd, 10)) &&
						strings.Contains(s.Text, "[survival] 已连接") {
						return true
					}
				}
				return false
			})
		})
	}
}

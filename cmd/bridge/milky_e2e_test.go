package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/mcqq/bridge/internal/standin/milky"
	"github.com/mcqq/bridge/qq"
)

// The same bridge with a Milky bot: chat both ways, a reply whose quoted
// message Milky carries inline, and a command answered with a quote.
func TestMilkyBridgesBothWays(t *testing.T) {
	for _, webhook := range []bool{false, true} {
		t.Run(map[bool]string{false: "event stream", true: "webhook"}[webhook], func(t *testing.T) {
			o := milky.Options{Token: "milky-secret"}
			listen := ""
			if webhook {
				listen = freeAddr(t)
				o.WebhookURL = "http://" + listen + "/"
			}
			bot := started(t, milky.New(o))
			bot.AddMember(groupA, alice)
			bot.AddMember(groupA, bob)
			w := startWithBot(t, map[string]string{"QQ_PROTOCOL": "milky", "QQ_URL": bot.URL(),
				"QQ_ACCESS_TOKEN": "milky-secret", "QQ_LISTEN": listen})
			mc := w.mc["survival"]
			wait := w.waitFor
			asked := bot.GroupMessage(groupA, bob, []qq.Segment{qq.Text("几点维护？")})
			w.waitRequests("survival", "broadcast", 1)
			bot.GroupMessage(groupA, alice, []qq.Segment{
				{Type: qq.SegReply, ID: strconv.FormatInt(asked, 10)},
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
					if len(s.Message) > 0 && s.Message[0].Type == qq.SegReply && strings.HasSuffix(s.Message[0].ID, strconv.FormatInt(cmd, 10)) &&
						strings.Contains(s.Text, "[survival] 已连接") {
						return true
					}
				}
				return false
			})
		})
	}
}

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

// With QQ_URL=http://… the bridge calls the bot's HTTP API and takes events
// from its SSE stream, or, with QQ_LISTEN, from signed webhook posts.
func TestOneBotOverHTTP(t *testing.T) {
	for _, webhook := range []bool{false, true} {
		t.Run(map[bool]string{false: "sse", true: "webhook"}[webhook], func(t *testing.T) {
			o := fake.OneBotOptions{Token: "qq-secret"}
			listen := ""
			if webhook {
				listen = freeAddr(t)
				o.WebhookURL = "http://" + listen + "/"
			}
			bot := fake.NewOneBot(o)
			must(t, bot.Start("127.0.0.1:0"))
			t.Cleanup(bot.Stop)
			bot.AddMember(groupA, bob)
			mc := fake.NewQueQiao(fake.QueQiaoOptions{ServerName: "survival"})
			must(t, mc.Start("127.0.0.1:0"))
			t.Cleanup(mc.Stop)
			cfg, _, err := LoadConfig(map[string]string{
				"QQ_URL": bot.HTTPURL(), "QQ_ACCESS_TOKEN": "qq-secret", "QQ_LISTEN": listen,
				"MC_0_NAME": "survival", "MC_0_WS_URL": mc.URL(), "MC_0_GROUPS": strconv.Itoa(groupA),
				"HTTP_LISTEN": "none", "QQ_GROUP_RATE": "0",
			})
			must(t, err)
			b, err := build(cfg, discardLogger())
			must(t, err)
			testutil.RunInBackground(t, b.run, 10*time.Second)
			w := &world{t: t, bot: bot, bridge: b, mc: map[string]*fake.QueQiao{"survival": mc}}
			w.waitFor("connected", func() bool { ready, _ := b.readiness(); return ready })
			if webhook {
				w.waitFor("QQ_LISTEN to accept", func() bool {
					c, err := net.Dial("tcp", listen)
					if err == nil {
						c.Close()
					}
					return err == nil
				})
			}

			bot.GroupMessage(groupA, bob, []qq.Segment{qq.Text("走 HTTP 来的")})
			req := w.waitRequests("survival", "broadcast", 1)[0]
			if got := plain(decodeMessage(t, req.Data, "message")); !strings.HasSuffix(got, "Bob：走 HTTP 来的") {
				t.Errorf("game got %q", got)
			}
			mc.Chat("Steve", "收到")
			w.waitLine(groupA, "Steve：收到")
		})
	}
}

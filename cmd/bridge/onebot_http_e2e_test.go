package main

import (
	"strings"
	"testing"

	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/qq"
)

// With QQ_URL=http://… the bridge calls the bot's HTTP API and takes events
// from its SSE stream, or, with QQ_LISTEN, from signed webhook posts.
func TestOneBotOverHTTP(t *testing.T) {
	for _, webhook := range []bool{false, true} {
		t.Run(map[bool]string{false: "sse", true: "webhook"}[webhook], func(t *testing.T) {
			o := onebot.Options{Token: "qq-secret"}
			listen := ""
			if webhook {
				listen = freeAddr(t)
				o.WebhookURL = "http://" + listen + "/"
			}
			bot := started(t, onebot.New(o))
			bot.AddMember(groupA, bob)
			w := startWithBot(t, map[string]string{"QQ_URL": bot.HTTPURL(), "QQ_ACCESS_TOKEN": "qq-secret", "QQ_LISTEN": listen})
			w.bot = bot

			bot.GroupMessage(groupA, bob, []qq.Segment{qq.Text("走 HTTP 来的")})
			req := w.waitRequests("survival", "broadcast", 1)[0]
			if got := plain(decodeMessage(t, req.Data, "message")); !strings.HasSuffix(got, "Bob：走 HTTP 来的") {
				t.Errorf("game got %q", got)
			}
			w.mc["survival"].Chat("Steve", "收到")
			w.waitLine(groupA, "Steve：收到")
		})
	}
}

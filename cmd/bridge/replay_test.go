package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/qq"
)

// The same signed webhook post arriving three times (the bot retrying, or
// someone replaying a captured post) runs its command once and broadcasts
// its line once; a new message after the replays still goes through.
func TestReplayedWebhookPostsAreIgnored(t *testing.T) {
	listen := freeAddr(t)
	bot := started(t, onebot.New(onebot.Options{Token: "qq-secret", WebhookURL: "http://" + listen + "/"}))
	bot.AddMember(groupA, owner)
	bot.AddMember(groupA, bob)
	w := startWithBot(t, map[string]string{"QQ_URL": bot.HTTPURL(), "QQ_ACCESS_TOKEN": "qq-secret",
		"QQ_LISTEN": listen, "QQ_ADMINS": "10001"})
	w.bot = bot

	command, cmdID := bot.GroupMessageFrame(groupA, owner, []qq.Segment{qq.Text("/mcb 服务器五分钟后重启")})
	chat, _ := bot.GroupMessageFrame(groupA, bob, []qq.Segment{qq.Text("只说一次")})
	for range 3 {
		bot.Emit(command) // signed by the stand-in, byte for byte the same each time
		bot.Emit(chat)
	}
	// Once four replays are counted as ignored, none can act any more.
	w.waitFor("four replays ignored", func() bool {
		var m bytes.Buffer
		w.bridge.metrics.WritePrometheus(&m)
		return strings.Contains(m.String(), "bridge_messages_replayed_total 4")
	})
	w.reply(groupA, cmdID)
	bot.GroupMessage(groupA, bob, []qq.Segment{qq.Text("下一条")})
	w.waitFor("the next line", func() bool {
		for _, r := range w.requests("survival", "broadcast") {
			if strings.HasSuffix(plain(decodeMessage(t, r.Data, "message")), "Bob：下一条") {
				return true
			}
		}
		return false
	})

	var texts []string
	for _, r := range w.requests("survival", "broadcast") {
		texts = append(texts, plain(decodeMessage(t, r.Data, "message")))
	}
	count := func(suffix string) (n int) {
		for _, s := range texts {
			if strings.HasSuffix(s, suffix) {
				n++
			}
		}
		return n
	}
	if len(texts) != 3 || count("服务器五分钟后重启") != 1 || count("Bob：只说一次") != 1 || count("Bob：下一条") != 1 {
		t.Errorf("broadcasts %q; want the command's, the chat line and the next line, once each", texts)
	}
	replies := 0
	for _, s := range bot.Sent() {
		if len(s.Message) > 0 && s.Message[0].Type == qq.SegReply {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("%d replies to the command; want 1", replies)
	}
}

// A captured post replayed after the bridge stopped remembering its id (a
// day) is still ignored: a message sent that long ago is taken for a replay.
func TestMessagesOlderThanTheReplayMemoryAreIgnored(t *testing.T) {
	listen := freeAddr(t)
	bot := started(t, onebot.New(onebot.Options{Token: "qq-secret", WebhookURL: "http://" + listen + "/"}))
	bot.AddMember(groupA, bob)
	w := startWithBot(t, map[string]string{"QQ_URL": bot.HTTPURL(), "QQ_ACCESS_TOKEN": "qq-secret", "QQ_LISTEN": listen})
	w.bot = bot

	frame, _ := bot.GroupMessageFrame(groupA, bob, []qq.Segment{qq.Text("昨天的消息")})
	var ev map[string]any
	must(t, json.Unmarshal(frame, &ev))
	ev["time"] = time.Now().Add(-25 * time.Hour).Unix()
	old, err := json.Marshal(ev)
	must(t, err)
	bot.Emit(old)
	w.waitFor("the old message counted as a replay", func() bool {
		var m bytes.Buffer
		w.bridge.metrics.WritePrometheus(&m)
		return strings.Contains(m.String(), "bridge_messages_replayed_total 1")
	})
	bot.GroupMessage(groupA, bob, []qq.Segment{qq.Text("今天的消息")})
	reqs := w.waitRequests("survival", "broadcast", 1)
	if len(reqs) != 1 || !strings.HasSuffix(plain(decodeMessage(t, reqs[0].Data, "message")), "Bob：今天的消息") {
		t.Errorf("broadcasts %d, first %q; want only today's message", len(reqs), plain(decodeMessage(t, reqs[0].Data, "message")))
	}
}

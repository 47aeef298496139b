package relay

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/store"
)

// At shutdown every event already read is still handled and delivered —
// chat, game lines, commands — and the clients' inboxes are closed, so
// what arrives later is counted there rather than taken.
func TestShutdownHandlesWhatWasRead(t *testing.T) {
	w := newWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, nil)
	// Waiting in the clients' inboxes while the relay is not running yet.
	w.sayText(groupA, bob, "一")
	w.say(groupA, bob, mention(strconv.FormatInt(alice.UserID, 10)), qq.Text(" 二")) // needs a look-up
	help := w.sayText(groupA, bob, "/mch")
	w.sayText(groupA, bob, "三")
	w.mc["survival"].Chat("Steve", "再见")
	w.waitFor("the events in the inboxes", func() bool {
		return w.qq.Events().Len() == 4 && w.games["survival"].Events().Len() == 1
	})

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	w.run(cancelled) // shutting down from the start
	w.stop()

	if got, want := w.texts("survival", "broadcast", "message"), []string{" Bob：一", " Bob：@[管理] Alice_MC 二", " Bob：三"}; !slices.Equal(got, want) {
		t.Errorf("the server shows %q, want %q", got, want)
	}
	var replied bool
	for _, s := range w.bot.Sent() {
		replied = replied || s.Message[0].Type == qq.SegReply && s.Message[0].ID == strconv.FormatInt(help, 10)
	}
	line := slices.Contains(w.lines(groupA), "Steve：再见") // maybe merged with the reply
	if !replied || !line {
		t.Errorf("delivered before Run returned: /mch reply %v, game line %v; sent %+v", replied, line, w.bot.Sent())
	}
	if u := w.relay.Undelivered(); u[qqToMC] != 0 || u[mcToQQ] != 0 {
		t.Errorf("Undelivered() = %v", u)
	}

	w.sayText(groupA, bob, "太晚了")
	w.waitFor("the late message counted", func() bool { return w.qq.Events().Refused() == 1 })
	if w.qq.Events().Len() != 0 {
		t.Error("a message that arrived after shutdown was queued")
	}
}

// A command still running at shutdown gets its reply: its request is
// cancelled and the reply says the bridge is shutting down.
func TestShutdownRepliesToRunningCommands(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, func(o *Options) {
		o.RequestTimeout = time.Minute
	})
	w.mc["survival"].SetSilent("send_rcon_command", true)
	id := w.sayText(groupA, alice, "/mcc time set day")
	w.waitFor("the command at the server", func() bool { return len(w.requests("survival", "send_rcon_command")) == 1 })
	w.stop()
	for _, s := range w.bot.Sent() {
		if s.Message[0].ID == strconv.FormatInt(id, 10) {
			if s.Text != "[survival] 失败：桥接正在关闭" {
				t.Errorf("reply %q", s.Text)
			}
			return
		}
	}
	t.Errorf("no reply delivered before Run returned: %+v", w.bot.Sent())
}

// What is queued for a destination that is down stays queued at shutdown
// (Run does not wait for it) and Undelivered counts it per direction.
func TestShutdownLeavesWhatCannotBeDelivered(t *testing.T) {
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: []int64{groupA}},
		{name: "creative", groups: []int64{groupA}},
	}, func(o *Options) { o.DrainTimeout = time.Minute })
	w.mc["creative"].Stop()
	w.waitFor("creative down", func() bool { return !w.games["creative"].State().Up() })
	w.sayText(groupA, bob, "一")
	w.sayText(groupA, bob, "二")
	w.waitTexts("survival", "broadcast", "message", 2)
	w.waitFor("two messages queued for creative", func() bool { return w.relay.Queued("mc:creative") == 2 })

	w.bot.Stop()
	w.waitFor("QQ down", func() bool { return !w.qq.State().Up() })
	w.mc["survival"].Chat("Steve", "有人吗")
	group := "qq:" + strconv.Itoa(groupA)
	w.waitFor("a line queued for the group", func() bool { return w.relay.Queued(group) == 1 })

	w.stop() // within its 10 s, far less than DrainTimeout
	if got, want := w.relay.Undelivered(), map[string]int{qqToMC: 2, mcToQQ: 1}; !maps.Equal(got, want) {
		t.Errorf("Undelivered() = %v, want %v", got, want)
	}
	for dest, want := range map[string]int{"mc:creative": 2, group: 1, "mc:survival": 0, "qq:private": 0, "mc:lobby": -1} {
		if got := w.relay.Queued(dest); got != want {
			t.Errorf("Queued(%q) = %d, want %d", dest, got, want)
		}
	}
}

// Delivery at shutdown ends at DrainTimeout even when a destination takes
// requests and never answers; what was in flight is still counted as
// undelivered.
func TestShutdownDrainEndsAtDrainTimeout(t *testing.T) {
	t.Parallel() // mostly waits for timeouts
	w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, func(o *Options) {
		o.RequestTimeout, o.DrainTimeout = time.Minute, 200*time.Millisecond
	})
	w.mc["survival"].SetSilent("broadcast", true)
	w.sayText(groupA, bob, "没人应")
	w.waitTexts("survival", "broadcast", "message", 1)
	w.stop() // fails after 10 s
	if got := w.relay.Undelivered()[qqToMC]; got != 1 {
		t.Errorf("Undelivered()[%s] = %d, want 1", qqToMC, got)
	}
}

// What the database kept from the last run goes out first, for each
// destination still configured; what it kept for one no longer configured
// is dropped with a log line.
func TestQueuedBeforeTheRestartIsDeliveredFirst(t *testing.T) {
	db, err := store.Open(t.Context(), t.TempDir(), store.Options{})
	check(t, err)
	t.Cleanup(func() { db.Close() })
	q := db.Queue()
	keep := func(dest string, v any) {
		payload, err := json.Marshal(v)
		check(t, err)
		_, err = q.Append(t.Context(), dest, payload, time.Now().Add(-time.Minute))
		check(t, err)
	}
	group := "qq:" + strconv.Itoa(groupA)
	keep("mc:survival", gameMsg{Comps: []minecraft.Component{{Text: "重启前的 QQ 消息", Color: "white"}}})
	keep(group, qqLine{Text: "重启前的游戏消息", Server: "survival"})
	keep("mc:renamed", gameMsg{Comps: []minecraft.Component{{Text: "无处可去"}}})

	w := newWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, func(o *Options) { o.Durable = q })
	w.sayText(groupA, bob, "重启后") // waits in the inbox: the kept message goes first
	w.mc["survival"].Chat("Steve", "重启后")
	w.waitFor("the events in the inboxes", func() bool {
		return w.qq.Events().Len() == 1 && w.games["survival"].Events().Len() == 1
	})
	w.run(t.Context())

	if got, want := w.waitTexts("survival", "broadcast", "message", 2), []string{"重启前的 QQ 消息", " Bob：重启后"}; !slices.Equal(got, want) {
		t.Errorf("the server shows %q, want %q", got, want)
	}
	if got, want := w.waitLines(groupA, 2), []string{"重启前的游戏消息", "Steve：重启后"}; !slices.Equal(got, want) {
		t.Errorf("the group got %q, want %q", got, want)
	}
	w.waitFor("the database emptied", func() bool {
		dests, err := q.Destinations(t.Context())
		return err == nil && len(dests) == 0
	})
	if !strings.Contains(w.logs.String(), "dropped messages queued for a destination no longer configured") ||
		!strings.Contains(w.logs.String(), "mc:renamed") {
		t.Error("the dropped destination was not logged")
	}
}

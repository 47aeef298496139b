package relay

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	botstandin "github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
)

// Look-ups of several chat messages run at once, and the messages still
// reach the server in the order they were sent: a message that needs no
// look-up waits for those before it.
func TestChatKeepsArrivalOrderWhileLookUpsOverlap(t *testing.T) {
	t.Parallel() // mostly waits for timeouts
	const n = 4
	members := make([]qq.Member, n)
	for i := range members {
		members[i] = qq.Member{UserID: int64(20001 + i), Nickname: "成员" + strconv.Itoa(i), Role: "member"}
	}
	sayAll := func(w *world) {
		for i, m := range members {
			w.bot.AddMember(groupA, m)
			w.say(groupA, bob, mention(strconv.FormatInt(m.UserID, 10)), qq.Text(" 第"+strconv.Itoa(i)+"条"))
		}
		w.sayText(groupA, bob, "不用查") // ready at once
	}

	t.Run("look-ups overlap", func(t *testing.T) {
		// One at a time, the second would be asked only after the first
		// had spent its budget.
		w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, func(o *Options) {
			o.RequestTimeout, o.DrainTimeout = time.Minute, 100*time.Millisecond // the look-ups are given up at the end
		})
		w.bot.SetSilent("get_group_member_info", true)
		sayAll(w)
		w.waitFor("every member look-up asked while none is answered", func() bool {
			return testutil.Count(w.bot.Actions(), "get_group_member_info") == n
		})
	})

	t.Run("order kept", func(t *testing.T) {
		w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, nil)
		// Answered slowly and concurrently, as NapCat and LLBot do.
		w.bot.SetLatency("get_group_member_info", 200*time.Millisecond)
		sayAll(w)
		var want []string
		for i := range members {
			want = append(want, " Bob：@成员"+strconv.Itoa(i)+" 第"+strconv.Itoa(i)+"条")
		}
		want = append(want, " Bob：不用查")
		if got := w.waitTexts("survival", "broadcast", "message", n+1); !slices.Equal(got, want) {
			t.Errorf("the server shows\n%q\nwant\n%q", got, want)
		}
	})
}

// A group whose look-ups hang holds up neither another group's chat nor
// the game's lines for itself; once the look-up budget (REQUEST_TIMEOUT)
// is spent its message goes out with the number for the name.
func TestHangingLookUpsHoldUpOnlyTheirMessage(t *testing.T) {
	t.Parallel() // mostly waits for timeouts
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: []int64{groupA}},
		{name: "creative", groups: []int64{groupB}},
	}, func(o *Options) {
		// Long enough that the other group's message and the game's line
		// are through before it is spent, on a loaded machine too.
		o.RequestTimeout = 5 * time.Second
	})
	w.bot.SetSilent("get_group_member_info", true)
	w.say(groupA, bob, mention("99999"), qq.Text(" 在吗"))
	w.sayText(groupB, bob, "另一个群")
	w.mc["survival"].Chat("Steve", "游戏里照常")
	if got := w.waitTexts("creative", "broadcast", "message", 1); !slices.Equal(got, []string{" Bob：另一个群"}) {
		t.Errorf("the other group's server shows %q", got)
	}
	if got := w.waitLines(groupA, 1); !slices.Equal(got, []string{"Steve：游戏里照常"}) {
		t.Errorf("the waiting group got %q", got)
	}
	if got := w.texts("survival", "broadcast", "message"); len(got) != 0 {
		t.Errorf("the message with a hanging look-up went out before its budget was spent: %q", got)
	}
	if got := w.waitTexts("survival", "broadcast", "message", 1); !slices.Equal(got, []string{" Bob：@99999 在吗"}) {
		t.Errorf("after the look-up failed: %q", got)
	}
}

// The names a message needs are looked up: the sender when the bot sent no
// name, mentioned members, the quoted message and its author, the group
// name (SHOW_GROUP_NAME); what cannot be found falls back.
func TestChatNamesAreLookedUp(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, func(o *Options) { o.ShowGroupName = true })
	w.bot.SetGroupName(groupA, "MC服务器交流群")
	quoted := w.sayText(groupA, bob, "服务器几点维护？")
	nameless := qq.Member{UserID: alice.UserID} // as LLBot over Satori sends a sender
	w.say(groupA, nameless, reply(strconv.FormatInt(quoted, 10)), mention(strconv.FormatInt(bob.UserID, 10)), qq.Text(" 今晚8点"))
	w.say(groupA, bob, reply("123456"), qq.Text("回复一条找不到的消息"))
	w.say(groupA, bob, mention("99999"), qq.Text(" 你是谁"))
	w.bot.Emit(withoutGroupName(t, w.bot, groupA, bob, qq.Text("事件里没有群名")))
	want := []string{
		"MC服务器交流群 Bob：服务器几点维护？",
		"MC服务器交流群 [管理] Alice_MC(回复 @Bob)：@Bob 今晚8点",
		"MC服务器交流群 Bob(回复)：回复一条找不到的消息",
		"MC服务器交流群 Bob：@99999 你是谁",
		"MC服务器交流群 Bob：事件里没有群名",
	}
	got := w.waitTexts("survival", "broadcast", "message", len(want))
	for i := range got {
		got[i] = strings.TrimSpace(got[i])
	}
	if !slices.Equal(got, want) {
		t.Errorf("the server shows\n%q\nwant\n%q", got, want)
	}
	var quote string
	for _, c := range flatten(components(t, w.requests("survival", "broadcast")[1].Data, "message")) {
		if strings.Contains(c.Text, "回复") {
			quote = string(c.HoverEvent) + string(c.HoverEvent2)
		}
	}
	if !strings.Contains(quote, "服务器几点维护？") {
		t.Errorf("the quote's hover %s lacks the quoted text", quote)
	}
}

// withoutGroupName is the frame of a group message from m without the
// group_name field, as bots that leave it out send it.
func withoutGroupName(t *testing.T, bot *botstandin.Bot, group int64, m qq.Member, segs ...qq.Segment) []byte {
	t.Helper()
	frame, _ := bot.GroupMessageFrame(group, m, segs)
	var ev map[string]any
	dec := json.NewDecoder(bytes.NewReader(frame))
	dec.UseNumber()
	check(t, dec.Decode(&ev))
	delete(ev, "group_name")
	out, err := json.Marshal(ev)
	check(t, err)
	return out
}

// A message the server refuses is dropped, counted and logged; those behind
// it are delivered, and it is not tried again.
func TestRefusedMessageIsDroppedAndTheRestDelivered(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, nil)
	w.mc["survival"].RejectNext("broadcast", 1)
	w.sayText(groupA, bob, "被拒绝")
	w.sayText(groupA, bob, "照常")
	w.waitFor("the queue to empty", func() bool {
		return len(w.requests("survival", "broadcast")) >= 2 && w.relay.Queued("mc:survival") == 0
	})
	if got := w.texts("survival", "broadcast", "message"); !slices.Equal(got, []string{" Bob：被拒绝", " Bob：照常"}) {
		t.Errorf("broadcast requests %q; want each once", got)
	}
	if n := w.metrics.GetOrCreateCounter(`bridge_messages_dropped_total{queue="mc:survival"}`).Get(); n != 1 {
		t.Errorf("counted %d dropped, want 1", n)
	}
	if !strings.Contains(w.logs.String(), "message refused by the peer, dropped") {
		t.Error("the drop was not logged")
	}
}

// A server that stops answering for a while loses nothing: the message
// whose answer did not come is tried again, those sent behind it wait
// without counting a failure, and all go out in order once it answers.
func TestUnansweredBroadcastsAreSentAgainInOrder(t *testing.T) {
	t.Parallel() // mostly waits for timeouts
	w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, func(o *Options) {
		o.RequestTimeout = 300 * time.Millisecond
	})
	mc := w.mc["survival"]
	mc.SetSilent("broadcast", true)
	want := []string{" Bob：一", " Bob：二", " Bob：三"}
	for _, text := range want {
		w.sayText(groupA, bob, strings.TrimPrefix(text, " Bob："))
	}
	w.waitFor("a failed delivery", func() bool { return strings.Contains(w.logs.String(), "delivery failed, retrying") })
	mc.SetSilent("broadcast", false)
	w.waitFor("the queue to empty", func() bool { return w.relay.Queued("mc:survival") == 0 })
	got := w.texts("survival", "broadcast", "message")
	if len(got) < len(want) || !slices.Equal(got[len(got)-len(want):], want) {
		t.Errorf("broadcast requests %q; want them to end with %q", got, want)
	}
	if n := w.metrics.GetOrCreateCounter(`bridge_messages_dropped_total{queue="mc:survival"}`).Get(); n != 0 {
		t.Errorf("dropped %d", n)
	}
}

// QQ_GROUP_RATE: lines beyond the rate wait and are merged into the next
// message; at shutdown the backlog goes out at once, merged, rather than
// waiting for its turn.
func TestGroupRateMergesAndShutdownDrainsTheBacklog(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, func(o *Options) {
		o.GroupRate, o.GroupRatePeriod, o.GroupRateBurst = 1, time.Hour, 1
	})
	mc := w.mc["survival"]
	mc.Chat("Steve", "一")
	w.waitLines(groupA, 1)
	mc.Chat("Steve", "二")
	mc.Chat("Steve", "三")
	mc.Join("Alex")
	w.waitFor("three lines waiting for their turn", func() bool { return w.relay.Queued("qq:"+strconv.Itoa(groupA)) == 3 })
	w.stop()
	var got []string
	for _, s := range w.bot.Sent() {
		got = append(got, s.Text)
	}
	if want := []string{"Steve：一", "Steve：二\nSteve：三\nAlex 加入了游戏"}; !slices.Equal(got, want) {
		t.Errorf("the group got %q, want %q", got, want)
	}
}

// Messages from two groups bound to one server reach it in the order they
// arrived, even when the first needs a slow look-up and the second none: the
// order holds per destination, not only per group.
func TestChatKeepsArrivalOrderPerServerAcrossGroups(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA, groupB}}}, nil)
	w.bot.SetLatency("get_group_member_info", 200*time.Millisecond)
	w.bot.AddMember(groupA, qq.Member{UserID: 20001, Nickname: "慢", Role: "member"})
	w.say(groupA, bob, mention("20001"), qq.Text(" 先说"))
	w.sayText(groupB, bob, "后说")
	want := []string{" Bob：@慢 先说", " Bob：后说"}
	if got := w.waitTexts("survival", "broadcast", "message", 2); !slices.Equal(got, want) {
		t.Errorf("the server shows\n%q\nwant\n%q", got, want)
	}
}

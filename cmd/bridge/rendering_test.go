package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/qq"
)

// 30 game chat lines in one second to a group limited to 5/10s arrive as at
// most 6 QQ messages holding all 30 lines in order: the burst of 5 goes out
// at once, the rest wait for the next turn and go out merged.
func TestGroupRateMergesInsteadOfDropping(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}},
		map[string]string{"QQ_GROUP_RATE": "5/10s"})
	var want []string
	line := func(i int) {
		w.mc["survival"].Chat("Steve", "刷屏 "+strconv.Itoa(i))
		want = append(want, "Steve：刷屏 "+strconv.Itoa(i))
	}
	start := time.Now()
	for i := range 5 { // the burst: one message each
		line(i)
		w.waitFor("message "+strconv.Itoa(i), func() bool { return len(w.bot.Sent()) == i+1 })
	}
	for i := 5; i < 30; i++ {
		line(i)
	}
	w.waitFor("30 lines", func() bool { return len(w.lines(groupA)) >= 30 })
	if got := w.lines(groupA); !slices.Equal(got, want) {
		t.Fatalf("lines\n%v\nwant\n%v", got, want)
	}
	if n := len(w.bot.Sent()); n != 6 {
		t.Fatalf("%d QQ messages for 30 lines under 5/10s, want 6", n)
	}
	if took := time.Since(start); took < 1500*time.Millisecond {
		t.Fatalf("the sixth message left after %v, before the limit allowed (one per 2 s)", took)
	}
}

// The text-component spelling follows each server's game version.
func TestComponentSpellingFollowsGameVersion(t *testing.T) {
	w := startWorld(t, []serverSpec{
		{name: "new", groups: strconv.Itoa(groupA), version: "1.21.5"},
		{name: "old", groups: strconv.Itoa(groupA), version: "1.20.4"},
	}, nil)
	w.say(groupA, alice, seg(qq.SegImage, "url", "https://example.com/a.png", "sub_type", "0"))
	newer := w.waitRequests("new", "broadcast", 1)[0]
	older := w.waitRequests("old", "broadcast", 1)[0]
	if s := string(newer.Data); !strings.Contains(s, `"click_event"`) || !strings.Contains(s, `"hover_event"`) ||
		strings.Contains(s, "clickEvent") || !strings.Contains(s, `"url":"https://example.com/a.png"`) {
		t.Errorf("1.21.5 got %s", s)
	}
	if s := string(older.Data); !strings.Contains(s, `"clickEvent"`) || !strings.Contains(s, `"hoverEvent"`) ||
		strings.Contains(s, "click_event") {
		t.Errorf("1.20.4 got %s", s)
	}
}

// A mention whose look-up never answers costs the message at most the
// request timeout and falls back to the name the bot gave, else the number.
func TestFailedLookupFallsBackWithoutBlocking(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}},
		map[string]string{"REQUEST_TIMEOUT": "500ms"})
	w.bot.SetSilent("get_group_member_info", true)
	start := time.Now()
	w.say(groupA, alice,
		seg(qq.SegAt, "qq", "2233445566", "name", "路人甲"),
		seg(qq.SegAt, "qq", "3344556677"),
		qq.Text(" 你们好"))
	req := w.waitRequests("survival", "broadcast", 1)[0]
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("message held %v by a silent look-up", took)
	}
	if got := plain(decodeMessage(t, req.Data, "message")); !strings.HasSuffix(got, "：@路人甲@3344556677 你们好") {
		t.Errorf("line %q", got)
	}
}

// SHOW_GROUP_NAME, CHAT_IMAGE, QQ_SYNC_PREFIX, QQ_IGNORE_PREFIXES,
// MC_IGNORE_PREFIXES, CROSS_SERVER_CHAT, SHOW_SERVER_NAME and templates.
func TestRelaySettings(t *testing.T) {
	w := startWorld(t, []serverSpec{
		{name: "survival", groups: strconv.Itoa(groupA)},
		{name: "creative", groups: strconv.Itoa(groupA)},
	}, map[string]string{
		"SHOW_GROUP_NAME":    "true",
		"CHAT_IMAGE":         "true",
		"QQ_SYNC_PREFIX":     "#",
		"QQ_IGNORE_PREFIXES": ".,!",
		"MC_IGNORE_PREFIXES": "!!,@bot",
		"CROSS_SERVER_CHAT":  "true",
		"SHOW_SERVER_NAME":   "never",
		"FORMAT_CHAT":        "<{player}@{server}> {message}",
		"FORMAT_JOIN":        "{player} 来了",
	})
	w.say(groupA, bob, qq.Text("没有前缀，不转发"))
	w.say(groupA, bob, qq.Text("!#忽略"))
	w.say(groupA, bob, qq.Text("#你好"), seg(qq.SegImage, "url", "https://example.com/p.png", "sub_type", "0"))
	req := w.waitRequests("survival", "broadcast", 1)
	if len(req) != 1 {
		t.Fatalf("%d broadcasts", len(req))
	}
	if got := plain(decodeMessage(t, req[0].Data, "message")); got != " MC服务器交流群 Bob：你好[[CICode,url=https://example.com/p.png,name=图片]]" {
		t.Errorf("line %q", got)
	}

	w.mc["survival"].Chat("Steve", "@bot hidden")
	w.mc["survival"].Chat("Steve", "§a绿色 &lbold Tom & Jerry")
	w.mc["survival"].Join("Alex")
	if got := w.waitLine(groupA, "Steve"); got != "<Steve@survival> 绿色 bold Tom & Jerry" {
		t.Errorf("chat line %q", got)
	}
	if got := w.waitLine(groupA, "Alex"); got != "Alex 来了" {
		t.Errorf("join line %q", got)
	}
	// Cross-server: creative's players see survival's chat and join.
	cross := w.waitRequests("creative", "broadcast", 3) // QQ chat + chat + join
	var seen []string
	for _, r := range cross {
		seen = append(seen, plain(decodeMessage(t, r.Data, "message")))
	}
	if !slices.Contains(seen, "[survival] <Steve@survival> 绿色 bold Tom & Jerry") || !slices.Contains(seen, "[survival] Alex 来了") {
		t.Errorf("creative saw %q", seen)
	}
	for _, s := range seen {
		if strings.Contains(s, "hidden") {
			t.Errorf("ignored chat crossed over: %q", s)
		}
	}
	if n := len(w.requests("survival", "broadcast")); n != 1 {
		t.Errorf("survival got its own lines back: %d broadcasts", n)
	}
}

// QQ_SYNC_PREFIX is recognised and removed after any leading blank, a line
// break included.
func TestSyncPrefixAfterALineBreakIsRemoved(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}},
		map[string]string{"QQ_SYNC_PREFIX": "#"})
	w.say(groupA, bob, qq.Text("\n#你好"))
	req := w.waitRequests("survival", "broadcast", 1)
	if got := plain(decodeMessage(t, req[0].Data, "message")); got != " Bob：你好" {
		t.Errorf("line %q", got)
	}
}

// With the default QQ_GROUP_RATE the first five lines leave as they come,
// and what follows waits for the pace (20 a minute: one every 3 s) and
// leaves merged, instead of as twenty messages in two seconds.
func TestDefaultGroupRateSpreadsOut(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}},
		map[string]string{"QQ_GROUP_RATE": ""}) // empty: the default
	var want []string
	line := func(i int) {
		w.mc["survival"].Chat("Steve", "刷屏 "+strconv.Itoa(i))
		want = append(want, "Steve：刷屏 "+strconv.Itoa(i))
	}
	for i := range 5 { // the burst: one message each
		line(i)
		w.waitFor("message "+strconv.Itoa(i), func() bool { return len(w.bot.Sent()) == i+1 })
	}
	start := time.Now()
	for i := 5; i < 12; i++ {
		line(i)
	}
	w.waitFor("12 lines", func() bool { return len(w.lines(groupA)) >= 12 })
	if got := w.lines(groupA); !slices.Equal(got, want) {
		t.Fatalf("lines\n%v\nwant\n%v", got, want)
	}
	if n := len(w.bot.Sent()); n != 6 {
		t.Fatalf("%d QQ messages, want 5 and then one holding the other 7 lines", n)
	}
	if took := time.Since(start); took < 2*time.Second {
		t.Fatalf("the sixth message left %v after the burst, before the pace allowed (one per 3 s)", took)
	}
}

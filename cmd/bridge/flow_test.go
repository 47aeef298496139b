package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
)

// Flow under load: the acceptance tests of "it keeps flowing under bursts,
// slow bots and plugin errors". Each waits for a condition with the bound a
// user would notice as its limit.

// numbered is the text of the i-th message of a burst; seqOf reads it back
// from a broadcast.
func numbered(i int) string { return fmt.Sprintf("消息%04d", i) }

var seqRE = regexp.MustCompile(`消息(\d{4})`)

// arrivals returns the burst numbers the server received by broadcast, in
// order, duplicates included.
func (w *world) arrivals(server string) []int {
	var out []int
	for _, r := range w.requests(server, "broadcast") {
		if m := seqRE.FindStringSubmatch(string(r.Data)); m != nil {
			n, _ := strconv.Atoi(m[1])
			out = append(out, n)
		}
	}
	return out
}

// waitBurst waits until the server has received messages 0…n-1, at most
// limit, and checks that their first arrivals are in order.
func (w *world) waitBurst(server string, n int, limit time.Duration) {
	w.t.Helper()
	testutil.WaitFor(w.t, fmt.Sprintf("%d messages on %s", n, server), func() bool {
		return len(firstArrivals(w.arrivals(server))) >= n
	}, limit)
	first := firstArrivals(w.arrivals(server))
	for i, got := range first {
		if got != i {
			w.t.Fatalf("first arrivals out of order at %d: got message %d (%v…)", i, got, first[max(0, i-3):min(len(first), i+3)])
		}
	}
}

// firstArrivals drops repeats (at-least-once delivery may resend what was in
// flight during a reconnect).
func firstArrivals(seq []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, n := range seq {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// members adds n group members with distinct cards and returns them.
func (w *world) members(n int) []qq.Member {
	out := make([]qq.Member, n)
	for i := range out {
		out[i] = qq.Member{UserID: int64(3_000_000_000 + i), Nickname: "玩家" + strconv.Itoa(i),
			Card: "群员" + strconv.Itoa(i), Role: "member"}
		w.bot.AddMember(groupA, out[i])
	}
	return out
}

// lurkers adds n group members who never say anything, so the bridge can
// learn their names only by asking the bot (get_group_member_info).
func (w *world) lurkers(n int) []qq.Member {
	out := make([]qq.Member, n)
	for i := range out {
		out[i] = qq.Member{UserID: int64(3_100_000_000 + i), Nickname: "路人" + strconv.Itoa(i),
			Card: "潜水" + strconv.Itoa(i), Role: "member"}
		w.bot.AddMember(groupA, out[i])
	}
	return out
}

// mention is an @ of m.
func mention(m qq.Member) qq.Segment {
	return seg(qq.SegAt, "qq", strconv.FormatInt(m.UserID, 10))
}

// checkMentions checks that the first arrival of each message i names
// lurkers[i], whom it mentioned: the look-up was answered, not skipped.
func (w *world) checkMentions(server string, lurkers []qq.Member) {
	w.t.Helper()
	seen := map[int]bool{}
	for _, r := range w.requests(server, "broadcast") {
		got := plain(decodeMessage(w.t, r.Data, "message"))
		m := seqRE.FindStringSubmatch(got)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if seen[i] || i >= len(lurkers) {
			continue
		}
		seen[i] = true
		if want := "@" + lurkers[i].Card + " " + numbered(i); !strings.Contains(got, want) {
			w.t.Errorf("message %d rendered as %q, want it to name %q", i, got, want)
		}
	}
}

// lookupsServed checks that the bot answered at least n member look-ups.
func (w *world) lookupsServed(n int) {
	w.t.Helper()
	if got := w.bot.Served("get_group_member_info"); got < n {
		w.t.Errorf("the bot answered %d member look-ups, want at least %d (one per message)", got, n)
	}
}

// A burst of messages from different members, each mentioning a member who
// never speaks, so that each needs a look-up of its own on the connection
// that carries the events, all reach the game in order while game chat still
// reaches the group, each line exactly once: the look-ups' answers are never
// stuck behind unread events.
func TestBurstOfMentionsKeepsFlowingBothWays(t *testing.T) {
	// The burst is larger than the default QUEUE_SIZE (500): under the race
	// detector on a busy machine the server's queue may hold much of it at
	// once, and this test is about flow, not about the queue's bound.
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}},
		map[string]string{"QUEUE_SIZE": "1000"})
	people, lurkers := w.members(600), w.lurkers(600)
	for i := range 600 {
		w.say(groupA, people[i], mention(lurkers[i]), qq.Text(" "+numbered(i)))
		if i%30 == 0 {
			w.mc["survival"].Chat("Steve", "游戏消息"+strconv.Itoa(i/30))
		}
	}
	w.waitBurst("survival", 600, 20*time.Second)
	w.checkMentions("survival", lurkers)
	w.lookupsServed(600)
	w.waitFor("20 game lines", func() bool { return len(w.lines(groupA)) >= 20 })
	counts := map[string]int{}
	for _, l := range w.lines(groupA) {
		counts[l]++
	}
	for i := range 20 {
		if n := counts["Steve：游戏消息"+strconv.Itoa(i)]; n != 1 {
			t.Errorf("game line %d reached the group %d times", i, n)
		}
	}
}

// With a bot that takes 150 ms per member look-up but answers them
// concurrently (as NapCat does), messages that each need a look-up do not
// queue behind each other's: 60 of them one after the other would take 9 s.
func TestSlowLookupsOverlap(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}}, nil)
	people, lurkers := w.members(60), w.lurkers(60)
	w.bot.SetLatency("get_group_member_info", 150*time.Millisecond)
	for i := range 60 {
		w.say(groupA, people[i], mention(lurkers[i]), qq.Text(" "+numbered(i)))
	}
	w.waitBurst("survival", 60, 3*time.Second)
	w.checkMentions("survival", lurkers)
	w.lookupsServed(60)
}

// With 25 ms between the bridge and the plugin, many broadcasts are in
// flight at once; a plugin restart in the middle loses none, and what
// arrives first arrives in order.
func TestDistantPluginAndRestartMidStream(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}}, nil)
	mc := w.mc["survival"]
	mc.SetLatency(25 * time.Millisecond)
	for i := range 200 {
		w.say(groupA, alice, qq.Text(numbered(i)))
	}
	w.waitBurst("survival", 200, 1500*time.Millisecond)

	for i := 200; i < 400; i++ {
		w.say(groupA, alice, qq.Text(numbered(i)))
		if i == 250 {
			mc.Stop()
			must(t, mc.Restart())
		}
	}
	w.waitBurst("survival", 400, 10*time.Second)
}

// A broadcast the plugin cannot process is answered with its 500 error
// (echo lost); that message is dropped at once and the ones behind it go on.
func TestPluginErrorDoesNotStallTheQueue(t *testing.T) {
	w := startWorld(t, []serverSpec{{name: "survival", groups: strconv.Itoa(groupA)}}, nil)
	mc := w.mc["survival"]
	mc.RejectNext("broadcast", 1)
	for i := range 10 {
		w.say(groupA, alice, qq.Text(numbered(i)))
	}
	testutil.WaitFor(t, "the 9 messages behind the refused one", func() bool {
		return len(firstArrivals(w.arrivals("survival"))) >= 10
	}, 3*time.Second)
	if got := w.arrivals("survival"); len(got) != 10 {
		t.Errorf("arrivals %v: the refused message was sent again", got)
	}
	w.waitFor("the dropped message to be logged", func() bool { return strings.Contains(w.logs.String(), "refused by the peer") })
}

var notRelayedRE = regexp.MustCompile(`msg="shutting down with messages not relayed" direction=(\w+) undelivered=(\d+) arrived_during_shutdown=(\d+)`)

// SIGTERM while messages stream in both ways: every event the bridge read
// is delivered or counted in one log line per direction.
func TestShutdownAccountsForEverythingRead(t *testing.T) {
	bot, mc := startStandIns(t)
	w, stop := startStoppable(t, bot, mc, nil)
	for i := range 300 {
		w.say(groupA, alice, qq.Text(numbered(i)))
		mc.Chat("Steve", "游戏"+numbered(i))
	}
	testutil.WaitFor(t, "some traffic", func() bool { return len(w.requests("survival", "broadcast")) > 0 }, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	counted := map[string]int{}
	for _, m := range notRelayedRE.FindAllStringSubmatch(w.logs.String(), -1) {
		if counted[m[1]] != 0 {
			t.Errorf("more than one line for %s", m[1])
		}
		u, _ := strconv.Atoi(m[2])
		l, _ := strconv.Atoi(m[3])
		counted[m[1]] = u + l
	}
	readQQ := w.bridge.qq.Events().Received()
	readMC := w.bridge.games[0].Events().Received()
	delivered := len(firstArrivals(w.arrivals("survival")))
	if delivered+counted["qq_to_mc"] != readQQ {
		t.Errorf("QQ→game: read %d, delivered %d, counted %d", readQQ, delivered, counted["qq_to_mc"])
	}
	lines := 0
	for _, l := range w.lines(groupA) {
		if strings.HasPrefix(l, "Steve：游戏") {
			lines++
		}
	}
	if lines+counted["mc_to_qq"] != readMC {
		t.Errorf("game→QQ: read %d, delivered %d, counted %d", readMC, lines, counted["mc_to_qq"])
	}
	t.Logf("read %d/%d, delivered %d/%d, counted %v", readQQ, readMC, delivered, lines, counted)
}

package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/standin/queqiao"
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
		return len(firstSeen(w.arrivals(server))) >= n
	}, limit)
	first := firstSeen(w.arrivals(server))
	for i, got := range first {
		if got != i {
			w.t.Fatalf("first arrivals out of order at %d: got message %d (%v…)", i, got, first[max(0, i-3):min(len(first), i+3)])
		}
	}
}

// firstSeen is items without repeats, each where it first came
// (at-least-once delivery may resend what was in flight during a reconnect).
func firstSeen[T comparable](items []T) []T {
	seen := map[T]bool{}
	var out []T
	for _, it := range items {
		if !seen[it] {
			seen[it] = true
			out = append(out, it)
		}
	}
	return out
}

// members adds n group members with distinct cards and returns them.
func (w *world) members(n int) []qq.Member { return w.addMembers(n, 3_000_000_000, "玩家", "群员") }

// lurkers adds n group members who never say anything, so the bridge can
// learn their names only by asking the bot (get_group_member_info).
func (w *world) lurkers(n int) []qq.Member { return w.addMembers(n, 3_100_000_000, "路人", "潜水") }

// addMembers adds n members of groupA numbered from firstID, named
// nickname and card followed by their index.
func (w *world) addMembers(n int, firstID int64, nickname, card string) []qq.Member {
	out := make([]qq.Member, n)
	for i := range out {
		out[i] = qq.Member{UserID: firstID + int64(i), Nickname: nickname + strconv.Itoa(i),
			Card: card + strconv.Itoa(i), Role: "member"}
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
	w.waitBurst("survival", 60, 5*time.Second) // room for a loaded machine, well under 9 s
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
	w.waitBurst("survival", 200, 3*time.Second) // one at a time would take 5 s

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
		return len(firstSeen(w.arrivals("survival"))) >= 10
	}, 3*time.Second)
	if got := w.arrivals("survival"); len(got) != 10 {
		t.Errorf("arrivals %v: the refused message was sent again", got)
	}
	w.waitFor("the dropped message to be logged", func() bool { return strings.Contains(w.logs.String(), "refused by the peer") })
}

var notRelayedRE = regexp.MustCompile(`shutting down with messages not relayed"? direction=(\w+) undelivered=(\d+) arrived_during_shutdown=(\d+)`)

// SIGTERM to the bridge process once it has read 300 messages each way,
// with both peers silent after the first 100: the log has one line per
// direction counting every message not delivered, so those and the 100 the
// peers took account for every message read, and the database keeps the
// counted ones for the next start.
func TestShutdownAccountsForEverythingRead(t *testing.T) {
	bin := buildBridge(t)
	bot, mc := startStandIns(t)
	dataDir := t.TempDir()
	// REQUEST_TIMEOUT outlasts the test: no delivery to a silent peer times
	// out and is dropped after its retries, so only shutdown ends them.
	p := bridgeProcess(t, bin, []string{"QQ_URL=" + bot.URL(), "MC_0_NAME=survival", "MC_0_WS_URL=" + mc.URL(),
		"MC_0_GROUPS=" + strconv.Itoa(groupA), "REQUEST_TIMEOUT=1m", "DATA_DIR=" + dataDir})
	w := &world{t: t, bot: bot, mc: map[string]*queqiao.Server{"survival": mc}}
	w.waitFor("both connections up", func() bool { return bot.Connected() == 1 && mc.Connected() == 1 })

	const read, taken = 300, 100
	dirs := []string{"qq_to_mc", "mc_to_qq"}
	relayed := map[string]string{}
	for _, dir := range dirs {
		relayed[dir] = fmt.Sprintf(`bridge_messages_relayed_total{direction=%q,server="survival"}`, dir)
	}
	queued := map[string]string{
		"qq_to_mc": `bridge_queue_length{queue="mc:survival"}`,
		"mc_to_qq": fmt.Sprintf(`bridge_queue_length{queue="qq:%d"}`, groupA),
	}
	send := func(from, to int) {
		for i := from; i < to; i++ {
			w.say(groupA, alice, qq.Text(numbered(i)))
			mc.Chat("Steve", "游戏"+numbered(i))
		}
	}
	gameLines := func() []int {
		var out []int
		for _, l := range w.lines(groupA) {
			if m := seqRE.FindStringSubmatch(l); m != nil && strings.HasPrefix(l, "Steve：游戏") {
				n, _ := strconv.Atoi(m[1])
				out = append(out, n)
			}
		}
		return firstSeen(out)
	}

	send(0, taken)
	w.waitBurst("survival", taken, 10*time.Second)
	w.waitFor("the first 100 game lines in the group", func() bool { return len(gameLines()) == taken })
	w.waitFor("the bridge to count the first 100 each way delivered", func() bool {
		return p.metric(relayed["qq_to_mc"]) == taken && p.metric(relayed["mc_to_qq"]) == taken
	})
	mc.SetSilent("broadcast", true)
	bot.SetSilent("send_group_msg", true)
	send(taken, read)
	w.waitFor("the other 200 each way read and waiting", func() bool {
		return p.metric(queued["qq_to_mc"]) == read-taken && p.metric(queued["mc_to_qq"]) == read-taken
	})
	// Received by the silent peers and never answered: counted all the same.
	inFlight := len(firstSeen(w.arrivals("survival"))) - taken
	unanswered := -bot.Served("send_group_msg") + testutil.Count(bot.Actions(), "send_group_msg")

	must(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("the bridge did not stop within 15 s of SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
	lines, counted := map[string]int{}, map[string]int{}
	for _, m := range notRelayedRE.FindAllStringSubmatch(p.logs.String(), -1) {
		u, _ := strconv.Atoi(m[2])
		l, _ := strconv.Atoi(m[3])
		lines[m[1]]++
		counted[m[1]] += u + l
	}
	// The peers answered only the first 100 each way; every later message,
	// even one the silent plugin received, must be counted.
	for _, dir := range dirs {
		if lines[dir] != 1 {
			t.Errorf("%s: %d log lines, want one", dir, lines[dir])
		}
		if counted[dir]+taken != read {
			t.Errorf("%s: read %d, taken by the peer %d, counted %d: %d unaccounted for",
				dir, read, taken, counted[dir], read-taken-counted[dir])
		}
	}
	if got := gameLines(); len(got) != taken {
		t.Errorf("the silent bot took %d game lines", len(got)-taken)
	}
	waitQueued(t, dataDir, "mc:survival", read-taken)
	waitQueued(t, dataDir, fmt.Sprintf("qq:%d", groupA), read-taken)
	t.Logf("read %d each way; the peers took %d; at SIGTERM %d waited each way, of which %d broadcasts with the plugin and %d sends (merged) with the bot, unanswered; counted %v",
		read, taken, read-taken, inFlight, unanswered, counted)
}

// metric is the value of one series of the process's /metrics, -1 when it
// cannot be read.
func (p *runningBridge) metric(series string) int {
	resp, err := http.Get("http://" + p.httpAddr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				return int(n)
			}
		}
	}
	return -1
}

package onebot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/link"
	onebotstandin "github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

var alice = qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}

// richMessage has the characters CQ escaping exists for and data the bots
// send as numbers.
func richMessage() []qq.Segment {
	return []qq.Segment{
		{Type: "reply", ID: "1402815937"},
		{Type: "at", Target: "1357924680"},
		qq.Text(" [CQ:at,qq=all] 今晚8点维护, [重要] a&b"),
		{Type: "face", ID: "14"},
		{Type: "image", URL: "https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=x,y", Sticker: true, Summary: "[动画表情]"},
	}
}

func TestGroupMessageArrives(t *testing.T) {
	for _, flavor := range []string{"napcat", "llbot"} {
		for _, stringFormat := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/string=%v", flavor, stringFormat), func(t *testing.T) {
				bot, c, _ := connectedPair(t, onebotstandin.Options{Flavor: flavor, StringFormat: stringFormat}, 0)
				bot.SetGroupName(testGroup, "MC服务器交流群")
				id := bot.GroupMessage(testGroup, alice, richMessage())

				ev := nextEvent(t, c)
				if ev.Kind != qq.GroupMessage || ev.GroupID != testGroup || ev.GroupName != "MC服务器交流群" {
					t.Errorf("event = kind %v group %d %q", ev.Kind, ev.GroupID, ev.GroupName)
				}
				if ev.Message.ID != strconv.FormatInt(id, 10) || ev.Message.Sender != alice {
					t.Errorf("message id %q sender %+v; want %d, %+v", ev.Message.ID, ev.Message.Sender, id, alice)
				}
				if !reflect.DeepEqual(ev.Message.Segments, richMessage()) {
					t.Errorf("segments\n got  %#v\n want %#v", ev.Message.Segments, richMessage())
				}
				if c.SelfID() != 2401234567 {
					t.Errorf("SelfID = %d", c.SelfID())
				}
			})
		}
	}
}

func TestPrivateMessageArrives(t *testing.T) {
	bot, c, _ := connectedPair(t, onebotstandin.Options{}, 0)
	bot.PrivateMessage(alice.UserID, alice, []qq.Segment{qq.Text("在吗？白名单加一下 Steve")})
	ev := nextEvent(t, c)
	if ev.Kind != qq.PrivateMessage || ev.GroupID != 0 || ev.Message.Sender.UserID != alice.UserID ||
		ev.Message.PlainText() != "在吗？白名单加一下 Steve" {
		t.Fatalf("event = %+v", ev)
	}
}

func TestSendIsAlwaysASegmentArray(t *testing.T) {
	bot, c, _ := connectedPair(t, onebotstandin.Options{}, 0)
	ctx := t.Context()
	// A player typing CQ code must not get it interpreted.
	typed := "[MC] <Steve> [CQ:at,qq=all] a&b"
	if err := c.SendGroupMessage(ctx, testGroup, []qq.Segment{qq.Text(typed), {Type: "at", Target: "1019283746"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendPrivateMessage(ctx, alice.UserID, []qq.Segment{qq.Text("hi")}); err != nil {
		t.Fatal(err)
	}
	sent := bot.Sent()
	if len(sent) != 2 {
		t.Fatalf("bot received %d messages, want 2", len(sent))
	}
	group, private := sent[0], sent[1]
	if group.Action != "send_group_msg" || group.GroupID != testGroup || group.Text != typed {
		t.Errorf("group send = %+v", group)
	}
	if !strings.HasPrefix(string(group.Raw), "[") {
		t.Errorf("message sent as %s, want a segment array", group.Raw)
	}
	if len(group.Message) != 2 || group.Message[1].Type != qq.SegAt || group.Message[1].Target != "1019283746" {
		t.Errorf("segments = %+v", group.Message)
	}
	if private.Action != "send_private_msg" || private.UserID != alice.UserID || private.Text != "hi" {
		t.Errorf("private send = %+v", private)
	}
	if err := c.SendGroupMessage(ctx, testGroup, nil); err == nil {
		t.Error("empty message was sent")
	}
}

// A picture in the neutral model (url) goes out as OneBot's image segment,
// which the bots fetch from "file"; text around it keeps its place.
func TestPicturesAreSentAsImagesFromFile(t *testing.T) {
	bot, c, _ := connectedPair(t, onebotstandin.Options{}, 0)
	pic := "https://i.example.com/cat.png?w=1&h=2"
	msg := []qq.Segment{qq.Text("Steve："), {Type: qq.SegImage, URL: pic}, qq.Text(" 好看吗")}
	if err := c.SendGroupMessage(t.Context(), testGroup, msg); err != nil {
		t.Fatal(err)
	}
	sent := bot.Sent()
	if len(sent) != 1 {
		t.Fatalf("bot received %d messages, want 1", len(sent))
	}
	got := sent[0].Message
	if len(got) != 3 || got[0].Text != "Steve：" || got[2].Text != " 好看吗" {
		t.Fatalf("segments = %+v", got)
	}
	var wire []struct {
		Type string            `json:"type"`
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal(sent[0].Raw, &wire); err != nil || len(wire) != 3 {
		t.Fatalf("sent %s: %v", sent[0].Raw, err)
	}
	if got[1].Type != qq.SegImage || got[1].URL != pic || wire[1].Type != "image" || !reflect.DeepEqual(wire[1].Data, map[string]string{"file": pic}) {
		t.Errorf("picture sent as %s, want image with file=%s", sent[0].Raw, pic)
	}
}

func TestLookupsAreCached(t *testing.T) {
	bot := startBot(t, onebotstandin.Options{Token: testToken})
	bot.AddMember(testGroup, qq.Member{UserID: 1357924680, Nickname: "Bob", Card: "鲍勃", Role: "member"})
	bot.SetGroupName(testGroup, "MC服务器交流群")
	// Pushed while nobody is connected: the client never sees it as an
	// event, so GetMessage must ask the bot.
	oldID := strconv.FormatInt(bot.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("earlier")}), 10)

	c, _ := runClient(t, onebot.Options{URL: bot.URL(), AccessToken: testToken})
	testutil.WaitFor(t, "client connected", c.State().Up, waitLimit)
	ctx := t.Context()
	for range 2 {
		m, err := c.Member(ctx, testGroup, 1357924680)
		if err != nil || m.DisplayName() != "鲍勃" || m.Role != "member" || m.UserID != 1357924680 {
			t.Fatalf("Member = %+v, %v", m, err)
		}
		name, err := c.GroupName(ctx, testGroup)
		if err != nil || name != "MC服务器交流群" {
			t.Fatalf("GroupName = %q, %v", name, err)
		}
		msg, err := c.GetMessage(ctx, oldID)
		if err != nil || msg.ID != oldID || msg.PlainText() != "earlier" || msg.Sender.Card != alice.Card {
			t.Fatalf("GetMessage = %+v, %v", msg, err)
		}
	}
	actions := bot.Actions()
	for _, action := range []string{"get_group_member_info", "get_group_info", "get_msg"} {
		if n := testutil.Count(actions, action); n != 1 {
			t.Errorf("%s reached the bot %d times, want 1", action, n)
		}
	}
}

func TestMessagesFillTheCaches(t *testing.T) {
	bot, c, _ := connectedPair(t, onebotstandin.Options{}, 0)
	bot.SetGroupName(testGroup, "MC服务器交流群")
	id := strconv.FormatInt(bot.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("quote me")}), 10)
	nextEvent(t, c)

	ctx := t.Context()
	msg, err := c.GetMessage(ctx, id)
	if err != nil || msg.PlainText() != "quote me" {
		t.Fatalf("GetMessage = %+v, %v", msg, err)
	}
	m, err := c.Member(ctx, testGroup, alice.UserID)
	if err != nil || m != alice {
		t.Fatalf("Member = %+v, %v", m, err)
	}
	name, err := c.GroupName(ctx, testGroup)
	if err != nil || name != "MC服务器交流群" {
		t.Fatalf("GroupName = %q, %v", name, err)
	}
	for _, a := range bot.Actions() {
		if a != "get_login_info" { // the connection's own first call
			t.Fatalf("look-ups answered by the message reached the bot: %v", bot.Actions())
		}
	}
}

func TestFailedLookupIsAnAPIErrorAndNotCached(t *testing.T) {
	for _, flavor := range []string{"napcat", "llbot"} {
		t.Run(flavor, func(t *testing.T) {
			bot, c, _ := connectedPair(t, onebotstandin.Options{Flavor: flavor}, 0)
			for range 2 {
				_, err := c.Member(t.Context(), testGroup, 1122334455)
				var apiErr *qq.APIError
				if !errors.As(err, &apiErr) || apiErr.Action != "get_group_member_info" || apiErr.Retcode != 1200 || apiErr.Message == "" {
					t.Fatalf("Member of a stranger: %v; want an APIError with retcode 1200", err)
				}
			}
			if n := testutil.Count(bot.Actions(), "get_group_member_info"); n != 1 {
				t.Errorf("failed look-up reached the bot %d times, want 1 (a failure is remembered for a minute)", n)
			}
		})
	}
}

func TestUnansweredRequestTimesOutAlone(t *testing.T) {
	const timeout = 300 * time.Millisecond
	bot, c, _ := connectedPair(t, onebotstandin.Options{}, timeout)
	bot.SetGroupName(testGroup, "MC服务器交流群")
	bot.AddMember(testGroup, alice)
	bot.SetSilent("get_group_info", true)

	start := time.Now()
	_, err := c.GroupName(t.Context(), testGroup)
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "get_group_info") {
		t.Fatalf("unanswered request: %v; want a deadline error naming the action", err)
	}
	// Not before the timeout, and well before the default one, which a
	// client ignoring its setting would wait for (a loaded machine may add
	// seconds, so the bound is not tight).
	if elapsed < timeout || elapsed > link.DefaultRequestTimeout/2 {
		t.Errorf("timed out after %v, want about %v", elapsed, timeout)
	}
	// The connection is fine: other requests work. The same look-up is not
	// tried again for a minute: it fails at once instead of costing another
	// timeout per message.
	if m, err := c.Member(t.Context(), testGroup, alice.UserID); err != nil || m.Card != alice.Card {
		t.Fatalf("next request after a timeout: %+v, %v", m, err)
	}
	bot.SetSilent("get_group_info", false)
	if _, err := c.GroupName(t.Context(), testGroup); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GroupName right after a timeout: %v; want the remembered failure", err)
	}
	if n := testutil.Count(bot.Actions(), "get_group_info"); n != 1 {
		t.Errorf("get_group_info reached the bot %d times, want 1", n)
	}
	if !c.State().Up() {
		t.Error("a timeout took the connection down")
	}
}

func TestConcurrentSends(t *testing.T) {
	bot, c, _ := connectedPair(t, onebotstandin.Options{}, 0)
	const senders = 20
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			if err := c.SendGroupMessage(t.Context(), testGroup, []qq.Segment{qq.Text(strconv.Itoa(i))}); err != nil {
				t.Errorf("send %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, s := range bot.Sent() {
		seen[s.Text] = true
	}
	if len(seen) != senders {
		t.Fatalf("bot received %d distinct messages, want %d", len(seen), senders)
	}
}

func TestWrongTokenIsReportedClearly(t *testing.T) {
	for _, flavor := range []string{"napcat", "llbot"} {
		for _, token := range []string{"wrong", ""} {
			t.Run(fmt.Sprintf("%s/token=%q", flavor, token), func(t *testing.T) {
				bot := startBot(t, onebotstandin.Options{Token: testToken, Flavor: flavor})
				c, logs := runClient(t, onebot.Options{URL: bot.URL(), AccessToken: token})
				testutil.WaitFor(t, "token rejection recorded", func() bool {
					return strings.Contains(c.State().Get().LastError, "the QQ bot rejected the access token: token验证失败")
				}, waitLimit)
				// One line says so: the session's end, as Supervise reports it.
				testutil.WaitFor(t, "the rejection logged", func() bool {
					found := logs.find(slog.LevelWarn, "cannot connect")
					return len(found) == 1 && strings.Contains(found[0]["err"], "rejected the access token")
				}, waitLimit)
			})
		}
	}
}

func TestReconnectsAfterBotRestart(t *testing.T) {
	bot, c, _ := connectedPair(t, onebotstandin.Options{}, 0)
	checkRestartRecovery(t, bot, c)
}

// checkRestartRecovery stops the bot, checks that calls fail at once while it
// is down, restarts it on the same port and checks that the client is back
// by itself: events flow and sends work. Every transport goes through it.
func checkRestartRecovery(t *testing.T, bot *onebotstandin.Bot, c *onebot.Client) {
	t.Helper()
	bot.Stop()
	testutil.WaitFor(t, "state down", func() bool { return !c.State().Up() }, waitLimit)

	// While down, calls fail at once instead of waiting for a timeout (the
	// default one: the bound leaves room for a loaded machine).
	start := time.Now()
	err := c.SendGroupMessage(t.Context(), testGroup, []qq.Segment{qq.Text("hello?")})
	if !errors.Is(err, link.ErrNotConnected) {
		t.Fatalf("send while down: %v; want not connected", err)
	}
	if took := time.Since(start); took > link.DefaultRequestTimeout/2 {
		t.Errorf("send while down took %v", took)
	}

	if err := bot.Restart(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "reconnected", func() bool { return c.State().Up() && bot.Connected() == 1 }, waitLimit)
	bot.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("back")})
	if ev := nextEvent(t, c); ev.Message.PlainText() != "back" {
		t.Fatalf("event after reconnect = %+v", ev)
	}
	if err := c.SendGroupMessage(t.Context(), testGroup, []qq.Segment{qq.Text("me too")}); err != nil {
		t.Fatalf("send after reconnect: %v", err)
	}
}

func TestBadFramesAreLoggedAndSkipped(t *testing.T) {
	bot, c, logs := connectedPair(t, onebotstandin.Options{}, 0)
	bot.Emit([]byte(`not json at all`))
	bot.Emit([]byte(`{"post_type":"message","message_type":"group","user_id":1,"message":[]}`))
	bot.Emit([]byte(`{"post_type":"message","message_type":"private","user_id":1,"message":[{"type":"text","data":[]}]}`))
	bot.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("still here")})
	if ev := nextEvent(t, c); ev.Message.PlainText() != "still here" {
		t.Fatalf("event after bad frames = %+v", ev)
	}
	bad := logs.find(slog.LevelWarn, "bad frame")
	if len(bad) != 3 {
		t.Fatalf("%d bad-frame warnings, want one per bad frame (3)", len(bad))
	}
	if bad[0]["frame"] != "not json at all" || bad[0]["err"] == "" {
		t.Errorf("warning attributes = %v; want the error and an excerpt", bad[0])
	}
	if !c.State().Up() {
		t.Error("bad frames took the connection down")
	}
}

func TestOwnMessagesAreDropped(t *testing.T) {
	bot, c, _ := connectedPair(t, onebotstandin.Options{}, 0)
	bot.Emit(readFixture(t, "napcat_message_sent_group.json"))
	bot.GroupMessage(testGroup, qq.Member{UserID: 2401234567, Nickname: "MC桥接机器人"}, []qq.Segment{qq.Text("echo of ourselves")})
	bot.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("from a human")})
	// Frames on one connection arrive in order, so the first event tells.
	if ev := nextEvent(t, c); ev.Message.PlainText() != "from a human" {
		t.Fatalf("first event = %q; own messages were not dropped", ev.Message.PlainText())
	}
}

func TestFullEventBufferDelaysInsteadOfDropping(t *testing.T) {
	bot, c, _ := connectedPair(t, onebotstandin.Options{}, 0)
	const total = 400 // more than the 256-event buffer
	for i := range total {
		bot.GroupMessage(testGroup, alice, []qq.Segment{qq.Text(strconv.Itoa(i))})
	}
	for i := range total {
		if got := nextEvent(t, c).Message.PlainText(); got != strconv.Itoa(i) {
			t.Fatalf("event %d has text %q: lost or reordered", i, got)
		}
	}
}

package milky

import (
	"strconv"
	"strings"
	"testing"
	"time"

	milkystandin "github.com/mcqq/bridge/internal/standin/milky"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

func TestEventStream(t *testing.T) {
	for _, tc := range []struct {
		name        string
		noWebSocket bool
	}{{"WebSocket", false}, {"SSE fallback", true}} {
		t.Run(tc.name, func(t *testing.T) {
			m := startBot(t, milkystandin.Options{Token: testToken, NoWebSocket: tc.noWebSocket})
			m.SetGroupName(testGroup, "MC服务器交流群")
			c, logs := newClient(t, Options{BaseURL: m.URL(), AccessToken: testToken})
			runClient(t, c)
			testutil.WaitFor(t, "the stream to come up", c.State().Up, waitLimit)
			if c.SelfID() != 2401234567 {
				t.Errorf("SelfID = %d, want the bot's uin from get_login_info", c.SelfID())
			}

			segs := []qq.Segment{qq.Text("今晚维护 "), {Type: qq.SegAt, Target: "1357924680", Name: "Bob"}}
			seq := m.GroupMessage(testGroup, alice, segs)
			ev := nextEvent(t, c)
			if ev.Kind != qq.GroupMessage || ev.GroupID != testGroup || ev.GroupName != "MC服务器交流群" {
				t.Errorf("event %v in %d %q", ev.Kind, ev.GroupID, ev.GroupName)
			}
			if ev.Message.ID != messageID("group", testGroup, seq) || ev.Message.Sender != alice {
				t.Errorf("message %q from %+v", ev.Message.ID, ev.Message.Sender)
			}
			if got := segmentTypes(ev.Message.Segments); got != "text at" || ev.Message.Segments[1].Name != "Bob" {
				t.Errorf("segments = %+v", ev.Message.Segments)
			}
			if sse := strings.Contains(logs.String(), "reading events over SSE"); sse != tc.noWebSocket {
				t.Errorf("SSE used = %v, want %v; logs:\n%s", sse, tc.noWebSocket, logs)
			}
		})
	}
}

// TestStreamSkipsWhatIsNotAMessage: own messages, notices and garbage never
// reach Events, and do not break the stream.
func TestStreamSkipsWhatIsNotAMessage(t *testing.T) {
	m := startBot(t, milkystandin.Options{})
	c, logs := newClient(t, Options{BaseURL: m.URL()})
	runClient(t, c)
	testutil.WaitFor(t, "the stream to come up", c.State().Up, waitLimit)

	for _, name := range []string{
		"milky_message_receive_group_self.json", "milky_event_group_nudge.json",
		"milky_event_message_recall.json", "milky_event_bot_offline.json",
	} {
		m.Emit(readFixture(t, name))
	}
	m.Emit([]byte(`{"not":"an event"`))
	// Own message with the envelope's self_id missing: caught by SelfID.
	m.Emit([]byte(`{"event_type":"message_receive","data":{"message_scene":"group","peer_id":712345678,"message_seq":1,"sender_id":2401234567,"segments":[]}}`))
	seq := m.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("after the noise")})

	ev := nextEvent(t, c)
	if ev.Message.ID != messageID("group", testGroup, seq) {
		t.Fatalf("first event delivered = %q %q, want the message after the noise", ev.Message.ID, ev.Message.PlainText())
	}
	log := logs.String()
	for _, want := range []string{"skipping a bad event", "went offline", "账号在其他设备登录"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// An oversized event on the SSE stream is logged and skipped; the stream
// stays open, as on the WebSocket.
func TestSSEOversizedEventIsSkipped(t *testing.T) {
	m := startBot(t, milkystandin.Options{NoWebSocket: true})
	c, logs := newClient(t, Options{BaseURL: m.URL()})
	runClient(t, c)
	testutil.WaitFor(t, "the stream to come up", c.State().Up, waitLimit)
	huge := `{"event_type":"message_receive","data":{"segments":[{"type":"text","data":{"text":"` +
		strings.Repeat("x", botkit.MaxFrame) + `"}}]}}`
	m.Emit([]byte(huge))
	seq := m.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("still here")})
	if ev := nextEvent(t, c); ev.Message.ID != messageID("group", testGroup, seq) {
		t.Fatalf("event after the oversized one = %q %q", ev.Message.ID, ev.Message.PlainText())
	}
	log := logs.String()
	if !strings.Contains(log, "skipping an oversized event") || !strings.Contains(log, "bytes="+strconv.Itoa(len(huge))) {
		t.Errorf("oversized event not logged with its size:\n%.2000s", log)
	}
	if strings.Contains(log, "connection lost") {
		t.Errorf("the stream was dropped:\n%.2000s", log)
	}
}

// A hung bot keeps its SSE stream open but sends nothing: once the stream
// has been quiet for the health interval the client asks get_login_info,
// and when that goes unanswered the link goes down, then comes back once
// the bot answers again.
func TestQuietSSEStreamOfAHungBotGoesDown(t *testing.T) {
	m := startBot(t, milkystandin.Options{NoWebSocket: true})
	c, _ := newClient(t, Options{BaseURL: m.URL(), RequestTimeout: 200 * time.Millisecond})
	c.healthInterval = 50 * time.Millisecond
	runClient(t, c)
	testutil.WaitFor(t, "the stream to come up", c.State().Up, waitLimit)
	logins := func() int { return testutil.Count(m.Calls(), "get_login_info") }
	before := logins() // one per connection attempt
	testutil.WaitFor(t, "the quiet stream checked twice", func() bool { return logins() >= before+2 }, waitLimit)
	if !c.State().Up() {
		t.Fatalf("down while the bot answers: %s", c.State().Get().LastError)
	}
	m.SetSilent("get_login_info", true)
	testutil.WaitFor(t, "down once the bot stops answering", func() bool { return !c.State().Up() }, waitLimit)
	if got := c.State().Get().LastError; !strings.Contains(got, "quiet") {
		t.Errorf("link error %q; want one saying the stream was quiet", got)
	}
	m.SetSilent("get_login_info", false)
	testutil.WaitFor(t, "up again", c.State().Up, waitLimit)
}

package onebot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/link"
	onebotstandin "github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

// ssePair is a stand-in and a client using its HTTP API with events from
// its SSE stream, open.
func ssePair(t *testing.T, o onebotstandin.Options) (*onebotstandin.Bot, *onebot.Client, *logRecorder) {
	t.Helper()
	o.Token = testToken
	bot := startBot(t, o)
	c, logs := runClient(t, onebot.Options{URL: bot.HTTPURL(), AccessToken: testToken})
	testutil.WaitFor(t, "SSE stream open", func() bool { return c.State().Up() && bot.Connected() == 1 }, waitLimit)
	return bot, c, logs
}

func TestHTTPActions(t *testing.T) {
	for _, flavor := range []string{"napcat", "llbot"} {
		t.Run(flavor, func(t *testing.T) {
			bot := startBot(t, onebotstandin.Options{Token: testToken, Flavor: flavor})
			bot.AddMember(testGroup, qq.Member{UserID: 1357924680, Nickname: "Bob", Card: "鲍勃", Role: "member"})
			bot.SetGroupName(testGroup, "MC服务器交流群")
			// Pushed before the client is there, so GetMessage must ask.
			oldID := strconv.FormatInt(bot.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("earlier")}), 10)
			c, _ := runClient(t, onebot.Options{URL: bot.HTTPURL(), AccessToken: testToken})
			ctx := t.Context()

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
			if g := sent[0]; g.Action != "send_group_msg" || g.GroupID != testGroup || g.Text != typed ||
				!strings.HasPrefix(string(g.Raw), "[") || len(g.Message) != 2 || g.Message[1].Target != "1019283746" {
				t.Errorf("group send = %+v; want a segment array with the text and the at", g)
			}
			if p := sent[1]; p.Action != "send_private_msg" || p.UserID != alice.UserID || p.Text != "hi" {
				t.Errorf("private send = %+v", p)
			}

			for range 2 {
				m, err := c.Member(ctx, testGroup, 1357924680)
				if err != nil || m.DisplayName() != "鲍勃" || m.Role != "member" {
					t.Fatalf("Member = %+v, %v", m, err)
				}
				name, err := c.GroupName(ctx, testGroup)
				if err != nil || name != "MC服务器交流群" {
					t.Fatalf("GroupName = %q, %v", name, err)
				}
				msg, err := c.GetMessage(ctx, oldID)
				if err != nil || msg.PlainText() != "earlier" || msg.Sender.Card != alice.Card {
					t.Fatalf("GetMessage = %+v, %v", msg, err)
				}
			}
			for _, action := range []string{"get_group_member_info", "get_group_info", "get_msg"} {
				if n := testutil.Count(bot.Actions(), action); n != 1 {
					t.Errorf("%s reached the bot %d times, want 1 (cached)", action, n)
				}
			}
		})
	}
}

func TestHTTPFailuresAreAPIErrors(t *testing.T) {
	for _, tc := range []struct {
		flavor        string
		unknownCode   int64
		unknownSample string
	}{
		// NapCat answers an unknown action with HTTP 200, LLBot with 404;
		// both with an envelope (docs/protocols.md#onebot-actions).
		{"napcat", 200, "不支持的Api send_group_message"},
		{"llbot", 404, "send_group_message API 不存在"},
	} {
		t.Run(tc.flavor, func(t *testing.T) {
			bot := startBot(t, onebotstandin.Options{Token: testToken, Flavor: tc.flavor})
			c, _ := runClient(t, onebot.Options{URL: bot.HTTPURL(), AccessToken: testToken})
			ctx := t.Context()

			_, err := onebot.Call(ctx, c, "send_group_message", struct{}{})
			apiErr, ok := errors.AsType[*qq.APIError](err)
			if !ok || apiErr.Action != "send_group_message" || apiErr.Retcode != tc.unknownCode || apiErr.Message != tc.unknownSample {
				t.Errorf("unknown action: %v; want an APIError with retcode %d and %q", err, tc.unknownCode, tc.unknownSample)
			}

			_, err = onebot.Call(ctx, c, "send_group_msg", map[string]any{"message": "no group"})
			if apiErr, ok := errors.AsType[*qq.APIError](err); !ok || apiErr.Retcode != 400 {
				t.Errorf("bad params: %v; want an APIError with retcode 400", err)
			}

			for range 2 {
				_, err := c.Member(ctx, testGroup, 1122334455)
				if apiErr, ok := errors.AsType[*qq.APIError](err); !ok || apiErr.Retcode != 200 || apiErr.Message == "" {
					t.Fatalf("Member of a stranger: %v; want an APIError with retcode 200", err)
				}
			}
			if n := testutil.Count(bot.Actions(), "get_group_member_info"); n != 1 {
				t.Errorf("failed look-up reached the bot %d times, want 1 (a failure is remembered for a minute)", n)
			}
		})
	}
}

func TestHTTPWrongTokenIsReportedClearly(t *testing.T) {
	for _, flavor := range []string{"napcat", "llbot"} {
		for _, token := range []string{"wrong", ""} {
			t.Run(fmt.Sprintf("%s/token=%q", flavor, token), func(t *testing.T) {
				bot := startBot(t, onebotstandin.Options{Token: testToken, Flavor: flavor})
				c, _ := runClient(t, onebot.Options{URL: bot.HTTPURL(), AccessToken: token})

				err := c.SendGroupMessage(t.Context(), testGroup, []qq.Segment{qq.Text("hi")})
				if !errors.Is(err, onebot.ErrTokenRejected) || !strings.Contains(err.Error(), "403") ||
					!strings.Contains(err.Error(), "token verify failed") || !strings.Contains(err.Error(), "QQ_ACCESS_TOKEN") {
					t.Errorf("send with a wrong token: %v; want the rejection with status, bot message and a hint", err)
				}
				if len(bot.Sent()) != 0 {
					t.Error("the bot sent a message despite the wrong token")
				}
				// The event stream is refused the same way; the link never
				// comes up.
				testutil.WaitFor(t, "stream refusal recorded", func() bool {
					return strings.Contains(c.State().Get().LastError, onebot.ErrTokenRejected.Error())
				}, waitLimit)
				if c.State().Up() {
					t.Error("link up with a wrong token")
				}
			})
		}
	}
}

func TestSSEEventsArrive(t *testing.T) {
	for _, flavor := range []string{"napcat", "llbot"} {
		for _, stringFormat := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/string=%v", flavor, stringFormat), func(t *testing.T) {
				// LLBot sends heartbeats on the stream; they must pass unnoticed.
				bot, c, _ := ssePair(t, onebotstandin.Options{Flavor: flavor, StringFormat: stringFormat,
					HeartbeatInterval: 10 * time.Millisecond})
				bot.SetGroupName(testGroup, "MC服务器交流群")
				bot.Emit(readFixture(t, "napcat_message_sent_group.json"))
				bot.GroupMessage(testGroup, qq.Member{UserID: 2401234567, Nickname: "MC桥接机器人"}, []qq.Segment{qq.Text("own")})
				id := bot.GroupMessage(testGroup, alice, richMessage())
				bot.PrivateMessage(alice.UserID, alice, []qq.Segment{qq.Text("在吗")})

				ev := nextEvent(t, c) // own messages come first and must be dropped
				if ev.Kind != qq.GroupMessage || ev.GroupID != testGroup || ev.GroupName != "MC服务器交流群" ||
					ev.Message.ID != strconv.FormatInt(id, 10) || ev.Message.Sender != alice {
					t.Errorf("group event = %+v", ev)
				}
				if !reflect.DeepEqual(ev.Message.Segments, richMessage()) {
					t.Errorf("segments\n got  %#v\n want %#v", ev.Message.Segments, richMessage())
				}
				if ev := nextEvent(t, c); ev.Kind != qq.PrivateMessage || ev.Message.PlainText() != "在吗" {
					t.Errorf("private event = %+v", ev)
				}
				if c.SelfID() != 2401234567 {
					t.Errorf("SelfID = %d, want the events' self_id", c.SelfID())
				}
			})
		}
	}
}

func TestSSEReconnectsAfterBotRestart(t *testing.T) {
	bot, c, logs := ssePair(t, onebotstandin.Options{})
	checkRestartRecovery(t, bot, c)
	if n := len(logs.find(slog.LevelWarn, "connection lost")); n != 1 {
		t.Errorf("%d \"connection lost\" warnings, want 1", n)
	}
}

func TestSSEBadAndOversizedEventsAreSkipped(t *testing.T) {
	bot, c, logs := ssePair(t, onebotstandin.Options{})
	bot.Emit([]byte("not json\nat all"))
	huge := `{"post_type":"message","message_type":"group","group_id":1,"user_id":2,"message":"` +
		strings.Repeat("x", 4<<20) + `"}`
	bot.Emit([]byte(huge))
	bot.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("still here")})
	if ev := nextEvent(t, c); ev.Message.PlainText() != "still here" {
		t.Fatalf("event after bad frames = %+v", ev)
	}
	if bad := logs.find(slog.LevelWarn, "bad frame"); len(bad) != 1 || bad[0]["frame"] != "not json\nat all" {
		t.Errorf("bad-frame warnings = %v; want one with the frame", bad)
	}
	if big := logs.find(slog.LevelWarn, "oversized"); len(big) != 1 || big[0]["bytes"] != strconv.Itoa(len(huge)) {
		t.Errorf("oversized warnings = %v; want one with the size %d", big, len(huge))
	}
	if lost := logs.find(slog.LevelWarn, "connection lost"); len(lost) != 0 {
		t.Errorf("the stream was dropped: %v", lost)
	}
}

// TestSSEFraming reads a stream written by hand with what the SSE format
// allows besides the bots' plain "data:" lines.
func TestSSEFraming(t *testing.T) {
	event := func(text string) string {
		return `{"self_id":2401234567,"post_type":"message","message_type":"group","group_id":712345678,` +
			`"user_id":1019283746,"message_id":7,"sender":{"user_id":1019283746,"nickname":"Alice"},` +
			`"message":[{"type":"text","data":{"text":"` + text + `"}}]}`
	}
	split := event("two lines")
	cut := strings.Index(split, `"message":[`)
	stream := ": keep-alive comment\r\n" +
		"event: message\r\nid: 1\r\ndata: " + event("crlf") + "\r\n\r\n" +
		"data:" + split[:cut] + "\ndata: " + split[cut:] + "\n\n" +
		"retry: 1000\n\n" + // no data: no event
		"data: " + event("unfinished") // the stream ends mid-event
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_events" || r.Header.Get("Accept") != "text/event-stream" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		_, _ = io.WriteString(w, stream)
	}))
	t.Cleanup(srv.Close)
	c, _ := runClient(t, onebot.Options{URL: srv.URL})
	for _, want := range []string{"crlf", "two lines", "crlf"} { // then the stream is opened again
		if ev := nextEvent(t, c); ev.Message.PlainText() != want {
			t.Fatalf("event %q, want %q", ev.Message.PlainText(), want)
		}
	}
}

func TestSSEMissingIsExplained(t *testing.T) {
	// NapCat's plain HTTP server answers /_events as an unknown action.
	unknown := readFixture(t, "napcat_http_response_failed_unknown_action.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(unknown)
	}))
	t.Cleanup(srv.Close)
	c, _ := runClient(t, onebot.Options{URL: srv.URL})
	testutil.WaitFor(t, "explanation recorded", func() bool {
		last := c.State().Get().LastError
		return strings.Contains(last, srv.URL+"/_events is no SSE stream") && strings.Contains(last, "QQ_LISTEN")
	}, waitLimit)
	if c.State().Up() {
		t.Error("a JSON answer counted as an open stream")
	}
}

// A send that cannot reach the bot takes the link down at once, without
// waiting for the next health check, so the relay holds its messages.
func TestUnreachableBotTakesTheLinkDownAtOnce(t *testing.T) {
	bot := startBot(t, onebotstandin.Options{})
	c, _, _ := webhookClient(t, bot, "", 0) // health checks only every 30 s
	testutil.WaitFor(t, "up", c.State().Up, waitLimit)

	bot.Stop()
	err := c.SendGroupMessage(t.Context(), testGroup, []qq.Segment{qq.Text("anyone?")})
	if !errors.Is(err, link.ErrNotConnected) {
		t.Fatalf("send to a stopped bot: %v; want not connected", err)
	}
	if c.State().Up() {
		t.Fatal("still up right after a send found the bot unreachable")
	}
	if err := bot.Restart(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "up again", c.State().Up, waitLimit)
	if err := c.SendGroupMessage(t.Context(), testGroup, []qq.Segment{qq.Text("there you are")}); err != nil {
		t.Fatal(err)
	}
}

func TestHTTPUnansweredActionTimesOut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	bot := startBot(t, onebotstandin.Options{})
	bot.SetGroupName(testGroup, "MC服务器交流群")
	bot.SetSilent("get_group_info", true)
	c, _ := runClient(t, onebot.Options{URL: bot.HTTPURL(), RequestTimeout: timeout})
	testutil.WaitFor(t, "up", c.State().Up, waitLimit)

	start := time.Now()
	_, err := c.GroupName(t.Context(), testGroup)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "get_group_info") {
		t.Fatalf("unanswered action: %v; want a deadline error naming the action", err)
	}
	// Well before the default timeout, which a client ignoring its setting
	// would wait for.
	if elapsed := time.Since(start); elapsed < timeout || elapsed > link.DefaultRequestTimeout/2 {
		t.Errorf("timed out after %v, want about %v", elapsed, timeout)
	}
	if !c.State().Up() {
		t.Error("a timeout took the link down")
	}
}

func TestNewChecksTheURL(t *testing.T) {
	for _, o := range []onebot.Options{
		{URL: "ftp://127.0.0.1:3000"},
		{URL: "127.0.0.1:3001"},
		{URL: "::bad"},
		{URL: "http:///no-host"},
		{URL: "http://127.0.0.1:3000/?access_token=x"},
		{URL: "ws://127.0.0.1:3001/", Webhook: true},
		{Webhook: true},
	} {
		if _, err := onebot.New(o); err == nil {
			t.Errorf("New accepted %+v", o)
		}
	}
	for _, u := range []string{"ws://127.0.0.1:3001/", "wss://bot.example/", "http://127.0.0.1:3000", "https://bot.example/onebot/"} {
		if _, err := onebot.New(onebot.Options{URL: u}); err != nil {
			t.Errorf("New refused %q: %v", u, err)
		}
	}
}

// A server that is not the bot's OneBot API (a wrong port or path prefix)
// gives a plain error pointing at QQ_URL, not an APIError that the relay
// would take as the bot refusing the message.
func TestHTTPNonOneBotAnswerIsExplained(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/send_group_msg" {
			_, _ = io.WriteString(w, "<html>a web page</html>")
			return
		}
		http.Error(w, "Cannot POST "+r.URL.Path, http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	c, _ := runClient(t, onebot.Options{URL: srv.URL})
	for _, send := range []func() error{
		func() error { return c.SendGroupMessage(t.Context(), testGroup, []qq.Segment{qq.Text("x")}) },
		func() error { return c.SendPrivateMessage(t.Context(), alice.UserID, []qq.Segment{qq.Text("x")}) },
	} {
		err := send()
		if _, isAPIError := errors.AsType[*qq.APIError](err); err == nil || isAPIError || !strings.Contains(err.Error(), "QQ_URL") {
			t.Errorf("answer from a non-OneBot server: %v; want a plain error naming QQ_URL", err)
		}
	}
}

// A hung bot keeps its SSE stream open but sends nothing: after the stream
// has been quiet for the health interval the client asks get_login_info,
// and when that goes unanswered the link goes down (and comes back once
// the bot answers again), instead of staying up with no events.
func TestQuietSSEStreamOfAHungBotGoesDown(t *testing.T) {
	bot := startBot(t, onebotstandin.Options{Token: testToken}) // NapCat: no heartbeats on SSE
	logs := &logRecorder{}
	c, err := onebot.New(onebot.Options{URL: bot.HTTPURL(), AccessToken: testToken,
		RequestTimeout: 200 * time.Millisecond, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	onebot.SetHealthInterval(c, 50*time.Millisecond)
	testutil.RunInBackground(t, c.Run, waitLimit)
	testutil.WaitFor(t, "SSE stream open", func() bool { return c.State().Up() && bot.Connected() == 1 }, waitLimit)

	logins := func() int { return testutil.Count(bot.Actions(), "get_login_info") }
	testutil.WaitFor(t, "the quiet stream checked twice", func() bool { return logins() >= 2 }, waitLimit)
	if !c.State().Up() {
		t.Fatalf("down while the bot answers: %s", c.State().Get().LastError)
	}
	bot.SetSilent("get_login_info", true)
	testutil.WaitFor(t, "down once the bot stops answering", func() bool { return !c.State().Up() }, waitLimit)
	if got := c.State().Get().LastError; !strings.Contains(got, "quiet") {
		t.Errorf("link error %q; want one saying the stream was quiet", got)
	}
	bot.SetSilent("get_login_info", false)
	testutil.WaitFor(t, "up again", c.State().Up, waitLimit)
}

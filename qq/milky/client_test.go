package milky

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mcqq/bridge/internal/link"
	milkystandin "github.com/mcqq/bridge/internal/standin/milky"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testGroup = int64(712345678)
	testToken = "s3cret"
	waitLimit = 10 * time.Second
)

var alice = qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}

func startBot(t *testing.T, o milkystandin.Options) *milkystandin.Bot {
	t.Helper()
	m := milkystandin.New(o)
	if err := m.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m
}

func newClient(t *testing.T, o Options) (*Client, *testutil.LogBuffer) {
	t.Helper()
	logs := &testutil.LogBuffer{}
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

// runClient starts c.Run and stops it when the test ends (before the stand-in,
// whose cleanup was registered earlier).
func runClient(t *testing.T, c *Client) {
	t.Helper()
	testutil.RunInBackground(t, c.Run, waitLimit)
}

func nextEvent(t *testing.T, c *Client) qq.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	ev, err := c.Events().Next(ctx)
	if err != nil {
		t.Fatal("no event arrived")
	}
	return ev
}

func countCalls(m *milkystandin.Bot, api string) int {
	n := 0
	for _, c := range m.Calls() {
		if c == api {
			n++
		}
	}
	return n
}

func assertJSONEqual(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want invalid JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("JSON differs\n got %s\nwant %s", got, want)
	}
}

// replayServer answers /api/<name> with testdata/milky_<name>_response.json
// and records the request bodies.
type replayServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newReplayServer(t *testing.T) *replayServer {
	t.Helper()
	rs := &replayServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rs.mu.Lock()
		rs.bodies = append(rs.bodies, body)
		rs.mu.Unlock()
		answer, err := os.ReadFile(filepath.Join("testdata", "milky_"+strings.TrimPrefix(r.URL.Path, "/api/")+"_response.json"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *replayServer) lastBody() []byte {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.bodies) == 0 {
		return nil
	}
	return rs.bodies[len(rs.bodies)-1]
}

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

func TestWebhook(t *testing.T) {
	m := startBot(t, milkystandin.Options{Token: testToken})
	c, logs := newClient(t, Options{BaseURL: m.URL(), AccessToken: testToken, Webhook: true})
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	runClient(t, c)
	testutil.WaitFor(t, "login", c.State().Up, waitLimit)
	if m.Connected() != 0 {
		t.Error("webhook mode opened an event stream")
	}

	ctx := context.Background()
	if err := m.PostWebhook(ctx, srv.URL, readFixture(t, "milky_message_receive_group.json")); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, c); ev.Message.ID != "group:712345678:48213" || ev.Message.Sender.Card != "[管理] Alice_MC" {
		t.Errorf("event = %+v", ev)
	}

	wrong := milkystandin.New(milkystandin.Options{Token: "guess"})
	if err := wrong.PostWebhook(ctx, srv.URL, readFixture(t, "milky_message_receive_group.json")); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("wrong token: %v, want HTTP 403", err)
	}
	for _, tc := range []struct {
		method, auth, body string
		status             int
	}{
		{http.MethodPost, "", `{}`, http.StatusUnauthorized},
		{http.MethodPost, "Basic " + testToken, `{}`, http.StatusUnauthorized},
		{http.MethodPost, "Bearer " + testToken, `{"broken"`, http.StatusBadRequest},
		{http.MethodPost, "Bearer " + testToken, strings.Repeat(" ", botkit.MaxFrame+1), http.StatusRequestEntityTooLarge},
		{http.MethodGet, "Bearer " + testToken, ``, http.StatusMethodNotAllowed},
		{http.MethodPost, "bearer " + testToken, string(readFixture(t, "milky_event_group_nudge.json")), http.StatusNoContent},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL, strings.NewReader(tc.body))
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s with %q: status %d, want %d", tc.method, tc.auth, resp.StatusCode, tc.status)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	if !strings.Contains(logs.String(), "webhook post refused") {
		t.Errorf("refused webhook posts not logged:\n%s", logs)
	}
	if ev, ok := c.Events().Pop(); ok {
		t.Errorf("unexpected event %+v", ev)
	}
}

func TestSendMessages(t *testing.T) {
	m := startBot(t, milkystandin.Options{Token: testToken})
	c, _ := newClient(t, Options{BaseURL: m.URL(), AccessToken: testToken})
	ctx := context.Background()

	if err := c.SendGroupMessage(ctx, testGroup, fixtureOutgoing); err != nil {
		t.Fatal(err)
	}
	if err := c.SendPrivateMessage(ctx, alice.UserID, []qq.Segment{qq.Text("hi "), {Type: qq.SegFace, ID: "14"}}); err != nil {
		t.Fatal(err)
	}
	err := c.SendGroupMessage(ctx, testGroup, []qq.Segment{{Type: qq.SegForward, ID: "x"}})
	if err == nil || !strings.Contains(err.Error(), "forward") {
		t.Errorf("unsupported segment: %v, want an error naming it", err)
	}

	sent := m.Sent()
	if len(sent) != 2 {
		t.Fatalf("the bot received %d messages, want 2", len(sent))
	}
	assertJSONEqual(t, sent[0].Raw, readFixture(t, "milky_send_group_message_request.json"))
	if sent[0].API != "send_group_message" || sent[0].GroupID != testGroup || sent[0].Text != "[MC] <Steve>  收到, 我马上下线" {
		t.Errorf("group message = %+v", sent[0])
	}
	if got := segmentTypes(sent[0].Message); got != "reply text at text image" {
		t.Errorf("group message segments = %q", got)
	}
	if sent[1].API != "send_private_message" || sent[1].UserID != alice.UserID || segmentTypes(sent[1].Message) != "text face" {
		t.Errorf("private message = %+v", sent[1])
	}

	// The bot's own answer shows as an APIError.
	err = c.SendGroupMessage(ctx, 42, []qq.Segment{qq.Text("x")})
	var apiErr *qq.APIError
	if !errors.As(err, &apiErr) || apiErr.Retcode != -400 || apiErr.Action != "send_group_message" {
		t.Errorf("bad group id: %v, want an APIError -400", err)
	}
}

// A picture in the neutral model (url) goes out as Milky's image segment
// with the address as uri, between the text around it.
func TestPicturesAreSentAsImagesFromURI(t *testing.T) {
	m := startBot(t, milkystandin.Options{Token: testToken})
	c, _ := newClient(t, Options{BaseURL: m.URL(), AccessToken: testToken})
	pic := "https://i.example.com/cat.png?w=1&h=2"
	msg := []qq.Segment{qq.Text("Steve："), {Type: qq.SegImage, URL: pic}, qq.Text(" 好看吗")}
	if err := c.SendGroupMessage(t.Context(), testGroup, msg); err != nil {
		t.Fatal(err)
	}
	sent := m.Sent()
	if len(sent) != 1 || segmentTypes(sent[0].Message) != "text image text" {
		t.Fatalf("the bot received %+v", sent)
	}
	if img := sent[0].Message[1]; img.URL != pic || img.Sticker {
		t.Errorf("picture arrived as %+v, want a normal image from %s", img, pic)
	}
	var body struct {
		Message []struct {
			Type string            `json:"type"`
			Data map[string]string `json:"data"`
		} `json:"message"`
	}
	if err := json.Unmarshal(sent[0].Raw, &body); err != nil {
		t.Fatal(err)
	}
	if img := body.Message[1]; img.Type != "image" || img.Data["uri"] != pic {
		t.Errorf("wire segment %+v, want image with uri %s", img, pic)
	}
}

func TestLookupsAreCached(t *testing.T) {
	m := startBot(t, milkystandin.Options{})
	m.AddMember(testGroup, alice)
	m.SetGroupName(testGroup, "MC服务器交流群")
	c, _ := newClient(t, Options{BaseURL: m.URL()})
	ctx := context.Background()

	for range 2 {
		mem, err := c.Member(ctx, testGroup, alice.UserID)
		if err != nil || mem != alice {
			t.Fatalf("Member = %+v, %v", mem, err)
		}
		name, err := c.GroupName(ctx, testGroup)
		if err != nil || name != "MC服务器交流群" {
			t.Fatalf("GroupName = %q, %v", name, err)
		}
	}
	quoted := m.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("服务器什么时候维护？")})
	reply := m.GroupMessage(testGroup, alice, []qq.Segment{{Type: qq.SegReply, ID: strconv.FormatInt(quoted, 10)}, qq.Text("今晚")})
	id := messageID("group", testGroup, reply)
	for range 2 {
		msg, err := c.GetMessage(ctx, id)
		if err != nil || msg.ID != id || msg.Sender != alice || msg.PlainText() != "今晚" {
			t.Fatalf("GetMessage = %+v, %v", msg, err)
		}
		q := msg.Segments[0].Quoted
		if q == nil || q.ID != messageID("group", testGroup, quoted) || q.PlainText() != "服务器什么时候维护？" {
			t.Fatalf("quoted message = %+v", q)
		}
	}
	for api, want := range map[string]int{"get_group_member_info": 1, "get_group_info": 1, "get_message": 1} {
		if n := countCalls(m, api); n != want {
			t.Errorf("%s reached the bot %d times, want %d", api, n, want)
		}
	}

	_, err := c.Member(ctx, testGroup, 1357924680)
	var apiErr *qq.APIError
	if !errors.As(err, &apiErr) || apiErr.Retcode != -404 {
		t.Errorf("unknown member: %v, want an APIError -404", err)
	}
	if _, err := c.GetMessage(ctx, "48213"); err == nil {
		t.Error("GetMessage accepted a bare message_seq")
	}
}

// TestReceivedMessagesFillTheCaches: the sender, the group name and the
// message itself come with every event, so replies to it cost no request.
func TestReceivedMessagesFillTheCaches(t *testing.T) {
	m := startBot(t, milkystandin.Options{})
	m.SetGroupName(testGroup, "MC服务器交流群")
	c, _ := newClient(t, Options{BaseURL: m.URL()})
	runClient(t, c)
	testutil.WaitFor(t, "the stream to come up", c.State().Up, waitLimit)
	quotedSeq := m.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("服务器什么时候维护？")})
	nextEvent(t, c)
	m.GroupMessage(testGroup, alice, []qq.Segment{{Type: qq.SegReply, ID: strconv.FormatInt(quotedSeq, 10)}, qq.Text("今晚")})
	ev := nextEvent(t, c)

	reply := ev.Message.Segments[0]
	if reply.Quoted == nil || reply.Quoted.PlainText() != "服务器什么时候维护？" || reply.Quoted.Sender.UserID != alice.UserID {
		t.Fatalf("quoted inline = %+v", reply.Quoted)
	}
	ctx := context.Background()
	if msg, err := c.GetMessage(ctx, reply.Quoted.ID); err != nil || msg.PlainText() != "服务器什么时候维护？" {
		t.Errorf("GetMessage(%q) = %+v, %v", reply.Quoted.ID, msg, err)
	}
	if mem, err := c.Member(ctx, testGroup, alice.UserID); err != nil || mem != alice {
		t.Errorf("Member = %+v, %v", mem, err)
	}
	if name, err := c.GroupName(ctx, testGroup); err != nil || name != "MC服务器交流群" {
		t.Errorf("GroupName = %q, %v", name, err)
	}
	for _, api := range []string{"get_message", "get_group_member_info", "get_group_info"} {
		if n := countCalls(m, api); n != 0 {
			t.Errorf("%s reached the bot %d times; the event had the answer", api, n)
		}
	}
}

func TestWrongToken(t *testing.T) {
	m := startBot(t, milkystandin.Options{Token: "right"})
	c, logs := newClient(t, Options{BaseURL: m.URL(), AccessToken: "wrong"})

	if _, err := c.Member(context.Background(), testGroup, alice.UserID); !errors.Is(err, ErrUnauthorized) ||
		!strings.Contains(err.Error(), "QQ_ACCESS_TOKEN") {
		t.Errorf("API call: %v, want ErrUnauthorized naming QQ_ACCESS_TOKEN", err)
	}
	// LLBot accepts the WebSocket upgrade and closes it with 1008.
	err := c.streamWebSocket(context.Background(), func() {})
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "1008") {
		t.Errorf("event stream: %v, want ErrUnauthorized from close 1008", err)
	}

	runClient(t, c)
	testutil.WaitFor(t, "the failure to show", func() bool { return strings.Contains(c.State().Get().LastError, "access token rejected") }, waitLimit)
	if c.State().Up() {
		t.Error("state up with a rejected token")
	}
	if m.Connected() != 0 {
		t.Error("stream opened although login failed")
	}
	testutil.WaitFor(t, "the log line", func() bool { return strings.Contains(logs.String(), "cannot connect") }, waitLimit)
}

func TestReconnectsAfterRestart(t *testing.T) {
	for _, tc := range []struct {
		name        string
		noWebSocket bool
	}{{"WebSocket", false}, {"SSE", true}} {
		t.Run(tc.name, func(t *testing.T) {
			m := startBot(t, milkystandin.Options{Token: testToken, NoWebSocket: tc.noWebSocket})
			c, _ := newClient(t, Options{BaseURL: m.URL(), AccessToken: testToken})
			runClient(t, c)
			testutil.WaitFor(t, "the stream to come up", c.State().Up, waitLimit)

			m.Stop()
			testutil.WaitFor(t, "the client to notice the drop", func() bool { return !c.State().Up() }, waitLimit)
			if err := m.Restart(); err != nil {
				t.Fatal(err)
			}
			testutil.WaitFor(t, "the client to reconnect", c.State().Up, waitLimit)
			seq := m.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("back")})
			if ev := nextEvent(t, c); ev.Message.ID != messageID("group", testGroup, seq) {
				t.Errorf("event after restart = %q", ev.Message.ID)
			}
		})
	}
}

func TestAPIFailures(t *testing.T) {
	m := startBot(t, milkystandin.Options{})
	c, _ := newClient(t, Options{BaseURL: m.URL()})
	err := c.call(context.Background(), "no_such_api", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "API not found (HTTP 404") || !strings.Contains(err.Error(), "no_such_api") {
		t.Errorf("unknown API: %v", err)
	}

	// A bot that never answers fails the call after RequestTimeout.
	release := make(chan struct{})
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(stall.Close)
	t.Cleanup(func() { close(release) })
	slow, _ := newClient(t, Options{BaseURL: stall.URL, RequestTimeout: 50 * time.Millisecond})
	start := time.Now()
	_, err = slow.GroupName(context.Background(), testGroup)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("stalled bot: %v, want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}

	notMilky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<html>hello</html>`))
	}))
	t.Cleanup(notMilky.Close)
	other, _ := newClient(t, Options{BaseURL: notMilky.URL})
	if _, err := other.GroupName(context.Background(), testGroup); err == nil || !strings.Contains(err.Error(), "not a Milky answer") {
		t.Errorf("non-Milky server: %v", err)
	}
}

// In webhook mode the link is up while the bot answers get_login_info: a
// call that finds the bot unreachable takes it down at once (so the relay
// holds its messages), and the periodic check brings it back by itself,
// without waiting for another call.
func TestWebhookStateFollowsTheAPI(t *testing.T) {
	m := startBot(t, milkystandin.Options{})
	c, logs := newClient(t, Options{BaseURL: m.URL(), Webhook: true})
	c.healthInterval = 20 * time.Millisecond
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	runClient(t, c)
	testutil.WaitFor(t, "up after get_login_info", c.State().Up, waitLimit)
	ctx := context.Background()
	if _, err := c.GroupName(ctx, testGroup); err == nil {
		t.Fatal("unknown group found")
	}
	if !c.State().Up() {
		t.Error("state down although the bot answered (with a failure)")
	}

	m.Stop()
	_, err := c.GroupName(ctx, 1234567)
	if !errors.Is(err, link.ErrNotConnected) {
		t.Fatalf("call to a stopped bot: %v, want not connected", err)
	}
	if s := c.State().Get(); s.Up || s.LastError == "" {
		t.Errorf("state = %+v right after an unreachable bot, want down with the error", s)
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "up again without any call", c.State().Up, waitLimit)
	testutil.WaitFor(t, "the reconnect logged", func() bool { return strings.Contains(logs.String(), "reconnected") }, waitLimit)

	// Webhook posts went on being taken throughout.
	if err := m.PostWebhook(ctx, srv.URL, readFixture(t, "milky_message_receive_group.json")); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, c); ev.Message.ID != "group:712345678:48213" {
		t.Errorf("event = %+v", ev)
	}
}

// With an event stream too, a call that cannot reach the bot fails with
// link.ErrNotConnected, which the relay takes as "hold and retry".
func TestUnreachableBotIsNotConnected(t *testing.T) {
	m := startBot(t, milkystandin.Options{})
	c, _ := newClient(t, Options{BaseURL: m.URL()})
	runClient(t, c)
	testutil.WaitFor(t, "the stream to come up", c.State().Up, waitLimit)
	m.Stop()
	err := c.SendGroupMessage(context.Background(), testGroup, []qq.Segment{qq.Text("anyone?")})
	if !errors.Is(err, link.ErrNotConnected) {
		t.Fatalf("send to a stopped bot: %v, want not connected", err)
	}
	if c.State().Up() {
		t.Error("still up right after a send found the bot unreachable")
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the stream to come back", c.State().Up, waitLimit)
	if err := c.SendGroupMessage(context.Background(), testGroup, []qq.Segment{qq.Text("there you are")}); err != nil {
		t.Fatal(err)
	}
}

func TestWebhookOnlyWhileRunning(t *testing.T) {
	c, _ := newClient(t, Options{BaseURL: "http://127.0.0.1:1", Webhook: true})
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(readFixture(t, "milky_message_receive_group.json")))))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("post before Run: status %d, want 503", rec.Code)
	}
	if ev, ok := c.Events().Pop(); ok {
		t.Errorf("event delivered before Run: %+v", ev)
	}
}

// While the relay takes no events, webhook posts are still answered at
// once (the bot is never kept waiting by the relay) and every event is kept,
// in order.
func TestWebhookIsAnsweredWhileTheRelayIsBehind(t *testing.T) {
	m := startBot(t, milkystandin.Options{})
	c, _ := newClient(t, Options{BaseURL: m.URL(), Webhook: true})
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	runClient(t, c)
	frame := func(seq int) []byte {
		return []byte(`{"time":1765432100,"self_id":2401234567,"event_type":"message_receive","data":{` +
			`"message_scene":"friend","peer_id":1019283746,"message_seq":` + strconv.Itoa(seq) +
			`,"sender_id":1019283746,"time":1765432100,"segments":[{"type":"text","data":{"text":"hi"}}]}}`)
	}
	const posts = 600 // more than any reader buffer the bridge ever had
	for seq := range posts {
		impatient, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		err := m.PostWebhook(impatient, srv.URL, frame(seq))
		cancel()
		if err != nil {
			t.Fatalf("post %d while nobody takes events: %v", seq, err)
		}
	}
	for seq := range posts {
		if ev := nextEvent(t, c); ev.Message.ID != messageID("friend", 1019283746, int64(seq)) {
			t.Fatalf("event %d is %q", seq, ev.Message.ID)
		}
	}
}

func TestNewValidatesBaseURL(t *testing.T) {
	for _, bad := range []string{"", "127.0.0.1:3010", "ws://127.0.0.1:3010", "http://", "http://h/?a=b"} {
		if _, err := New(Options{BaseURL: bad}); err == nil {
			t.Errorf("New accepted base URL %q", bad)
		}
	}
	c, err := New(Options{BaseURL: "https://bot.example:3010/milky/"})
	if err != nil || c.base != "https://bot.example:3010/milky" || c.opts.RequestTimeout != defaultRequestTimeout {
		t.Errorf("New = %+v, %v", c, err)
	}
}

// An oversized event on the SSE stream is logged and skipped; the stream
// stays open (SPEC §4), as on the WebSocket.
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

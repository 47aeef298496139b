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
	return testutil.Next(t, c.Events().Next, waitLimit)
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
		if n := testutil.Count(m.Calls(), api); n != want {
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
		if n := testutil.Count(m.Calls(), api); n != 0 {
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

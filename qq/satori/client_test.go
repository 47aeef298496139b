package satori_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/mcqq/bridge/internal/link"
	satoristandin "github.com/mcqq/bridge/internal/standin/satori"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/satori"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testGroup = int64(712345678)
	testToken = "s3cret"
	waitLimit = 10 * time.Second
)

var (
	alice = qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}
	bob   = qq.Member{UserID: 1357924680, Nickname: "Bob", Role: "member"}
)

func startBot(t *testing.T, o satoristandin.Options) *satoristandin.Bot {
	t.Helper()
	b := satoristandin.New(o)
	if err := b.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	b.AddMember(testGroup, alice)
	b.AddMember(testGroup, bob)
	b.SetGroupName(testGroup, "MC服务器交流群")
	return b
}

func newClient(t *testing.T, o satori.Options) (*satori.Client, *testutil.LogBuffer) {
	t.Helper()
	logs := &testutil.LogBuffer{}
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := satori.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("client log:\n%s", logs.String())
		}
	})
	return c, logs
}

// connect runs a client against b until the test ends and waits until it is up.
func connect(t *testing.T, b *satoristandin.Bot) (*satori.Client, *testutil.LogBuffer) {
	t.Helper()
	c, logs := newClient(t, satori.Options{BaseURL: b.URL(), AccessToken: testToken, RequestTimeout: 2 * time.Second})
	testutil.RunInBackground(t, c.Run, waitLimit)
	waitUp(t, c.State(), true)
	return c, logs
}

func waitUp(t *testing.T, st *link.State, up bool) {
	t.Helper()
	testutil.WaitFor(t, "link up = "+strconv.FormatBool(up), func() bool { return st.Up() == up }, waitLimit)
}

func nextEvent(t *testing.T, c *satori.Client) qq.Event {
	t.Helper()
	return testutil.Next(t, c.Events().Next, waitLimit)
}

// Over LLBot (no roles in messages) and Koishi (roles in messages, path
// prefix /satori): messages arrive as the server sent them, without waiting
// on any look-up, and the member look-up (cached) has the role LLBot leaves
// out; the API calls name the account READY announced.
func TestMessagesArriveWithRoles(t *testing.T) {
	for _, koishi := range []bool{false, true} {
		t.Run(map[bool]string{false: "llbot", true: "koishi"}[koishi], func(t *testing.T) {
			b := startBot(t, satoristandin.Options{Token: testToken, Koishi: koishi})
			c, _ := connect(t, b)
			if c.SelfID() != 2401234567 {
				t.Errorf("SelfID = %d", c.SelfID())
			}
			b.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("/mcb 重启")})
			ev := nextEvent(t, c)
			if ev.Kind != qq.GroupMessage || ev.GroupID != testGroup || ev.Message.PlainText() != "/mcb 重启" {
				t.Fatalf("event %+v", ev)
			}
			if ev.Message.Sender.Card != alice.Card {
				t.Errorf("sender %+v", ev.Message.Sender)
			}
			if want := map[bool]string{false: "", true: "admin"}[koishi]; ev.Message.Sender.Role != want {
				t.Errorf("role in the message %q, want %q as the server sent it", ev.Message.Sender.Role, want)
			}
			if n := testutil.Count(b.Calls(), "guild.member.get"); n != 0 {
				t.Errorf("%d member look-ups before the message was handed on", n)
			}
			for range 2 {
				if m, err := c.Member(t.Context(), testGroup, alice.UserID); err != nil || m.Role != "admin" {
					t.Fatalf("Member = %+v, %v; want the admin role", m, err)
				}
			}
			if n := testutil.Count(b.Calls(), "guild.member.get"); !koishi && n != 1 || koishi && n > 1 {
				t.Errorf("%d member look-ups, want at most one (cached)", n)
			}

			b.PrivateMessage(bob, []qq.Segment{qq.Text("/mcs")})
			if ev := nextEvent(t, c); ev.Kind != qq.PrivateMessage || ev.Message.Sender.UserID != bob.UserID {
				t.Errorf("private %+v", ev)
			}
		})
	}
}

// Look-ups go through the caches: a second look-up asks the server nothing.
func TestLookups(t *testing.T) {
	b := startBot(t, satoristandin.Options{Token: testToken})
	c, _ := connect(t, b)
	ctx := t.Context()

	for range 2 {
		m, err := c.Member(ctx, testGroup, bob.UserID)
		if err != nil || m.UserID != bob.UserID || m.Nickname != "Bob" || m.Role != "member" {
			t.Fatalf("Member = %+v, %v", m, err)
		}
		name, err := c.GroupName(ctx, testGroup)
		if err != nil || name != "MC服务器交流群" {
			t.Fatalf("GroupName = %q, %v", name, err)
		}
	}
	if calls := b.Calls(); testutil.Count(calls, "guild.member.get") != 1 || testutil.Count(calls, "guild.get") != 1 {
		t.Errorf("calls %v, want one of each", calls)
	}

	// LLBot's quote carries the content but not the author; the message
	// itself names them: from the cache of a client that saw it, else with
	// message.get (the reply's id carries the channel for that).
	asked := b.GroupMessage(testGroup, bob, []qq.Segment{qq.Text("几点维护？")})
	nextEvent(t, c)
	fresh, _ := newClient(t, satori.Options{BaseURL: b.URL(), AccessToken: testToken}) // saw nothing
	testutil.RunInBackground(t, fresh.Run, waitLimit)
	waitUp(t, fresh.State(), true)
	b.GroupMessage(testGroup, alice, []qq.Segment{{Type: qq.SegReply, ID: asked}, qq.Text("八点")})
	reply := nextEvent(t, c).Message.Segments[0]
	if reply.Type != qq.SegReply || reply.Quoted == nil || reply.Quoted.PlainText() != "几点维护？" {
		t.Fatalf("reply %+v, quoting %+v", reply, reply.Quoted)
	}
	if m, err := c.GetMessage(ctx, reply.ID); err != nil || m.Sender.UserID != bob.UserID {
		t.Fatalf("the client that saw the quoted message: %+v, %v", m, err)
	}
	if n := testutil.Count(b.Calls(), "message.get"); n != 0 {
		t.Errorf("%d message.get calls for a message the client saw", n)
	}
	nextEvent(t, fresh)
	m, err := fresh.GetMessage(ctx, reply.ID)
	if err != nil || m.PlainText() != "几点维护？" || m.Sender.UserID != bob.UserID || m.ID != reply.ID {
		t.Errorf("GetMessage(%q) = %+v, %v", reply.ID, m, err)
	}
	if n := testutil.Count(b.Calls(), "message.get"); n != 1 {
		t.Errorf("%d message.get calls, want 1 (from the client that did not see the message)", n)
	}

	// The server's plain-text 500 is an API error: it answered.
	var api *qq.APIError
	if _, err := c.Member(ctx, testGroup, 42); !errors.As(err, &api) || api.Action != "guild.member.get" || api.Message == "" {
		t.Errorf("unknown member: %v", err)
	}
	if _, err := c.GetMessage(ctx, "no-channel"); err == nil {
		t.Error("GetMessage without a channel in the id: no error")
	}
}

// Sending: text is escaped, replies quote by the bare id, private chat goes
// to private:<QQ>.
func TestSending(t *testing.T) {
	b := startBot(t, satoristandin.Options{Token: testToken})
	c, _ := connect(t, b)
	id := b.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("/mcs")})
	ev := nextEvent(t, c)

	msg := []qq.Segment{{Type: qq.SegReply, ID: ev.Message.ID}, qq.Text("<b>已连接</b> & 在线")}
	if err := c.SendGroupMessage(t.Context(), testGroup, msg); err != nil {
		t.Fatal(err)
	}
	if err := c.SendPrivateMessage(t.Context(), alice.UserID, []qq.Segment{qq.Text("hi")}); err != nil {
		t.Fatal(err)
	}
	sent := b.Sent()
	if len(sent) != 2 {
		t.Fatalf("sent %+v", sent)
	}
	if s := sent[0]; s.ChannelID != "712345678" || s.Message[0].ID != id || s.Text != "<b>已连接</b> & 在线" ||
		!strings.Contains(s.Content, "&lt;b&gt;") {
		t.Errorf("group message %+v", s)
	}
	if s := sent[1]; s.ChannelID != "private:1019283746" || s.UserID != alice.UserID {
		t.Errorf("private message %+v", s)
	}
	err := c.SendGroupMessage(t.Context(), testGroup, []qq.Segment{{Type: qq.SegJSON, Payload: "{}"}})
	if err == nil || !strings.Contains(err.Error(), "json") {
		t.Errorf("unsendable segment: %v", err)
	}
}

// The bot's own messages and garbage frames are skipped; the next message
// still arrives.
func TestSkipsOwnMessagesAndBadFrames(t *testing.T) {
	b := startBot(t, satoristandin.Options{Token: testToken, EchoOwn: true})
	c, logs := connect(t, b)
	if err := c.SendGroupMessage(t.Context(), testGroup, []qq.Segment{qq.Text("[survival] Steve：收到")}); err != nil {
		t.Fatal(err)
	}
	b.Emit([]byte(`{"op":0,"body":{"type":"message-created","message":{"id":"1"}}}`))
	b.Emit([]byte(`not json`))
	b.GroupMessage(testGroup, bob, []qq.Segment{qq.Text("next")})
	if ev := nextEvent(t, c); ev.Message.PlainText() != "next" {
		t.Errorf("got %q, want the next message (own message and garbage skipped)", ev.Message.PlainText())
	}
	if !strings.Contains(logs.String(), "skipping a bad event") || !strings.Contains(logs.String(), "skipping a bad frame") {
		t.Errorf("no log line for the bad frames:\n%s", logs.String())
	}
}

// A wrong token: the server closes with 4004, the link never comes up and
// the reason names QQ_ACCESS_TOKEN.
func TestWrongToken(t *testing.T) {
	b := startBot(t, satoristandin.Options{Token: testToken})
	c, logs := newClient(t, satori.Options{BaseURL: b.URL(), AccessToken: "wrong"})
	testutil.RunInBackground(t, c.Run, waitLimit)
	testutil.WaitFor(t, "the failure", func() bool { return c.State().Get().LastError != "" }, waitLimit)
	last := c.State().Get().LastError
	for _, want := range []string{"4004", "QQ_ACCESS_TOKEN"} {
		if !strings.Contains(last, want) {
			t.Errorf("last error %q lacks %q", last, want)
		}
	}
	if c.State().Up() {
		t.Error("up with a wrong token")
	}
	if lines := logs.Lines(); !slices.ContainsFunc(lines, func(l string) bool {
		return strings.Contains(l, "level=WARN") && strings.Contains(l, "4004") && strings.Contains(l, "QQ_ACCESS_TOKEN")
	}) {
		t.Errorf("no warning naming 4004 and QQ_ACCESS_TOKEN:\n%s", logs.String())
	}
	// Before READY no call can name an account.
	if _, err := c.GroupName(t.Context(), testGroup); !errors.Is(err, link.ErrNotConnected) {
		t.Errorf("call before READY: %v", err)
	}
}

// QQ_URL without Koishi's /satori prefix: the event stream is not found and
// the reason says to check QQ_URL.
func TestWrongPathPrefix(t *testing.T) {
	b := startBot(t, satoristandin.Options{Token: testToken, Koishi: true})
	c, _ := newClient(t, satori.Options{BaseURL: strings.TrimSuffix(b.URL(), "/satori"), AccessToken: testToken})
	testutil.RunInBackground(t, c.Run, waitLimit)
	testutil.WaitFor(t, "the failure", func() bool { return c.State().Get().LastError != "" }, waitLimit)
	if last := c.State().Get().LastError; !strings.Contains(last, "404") || !strings.Contains(last, "QQ_URL") {
		t.Errorf("last error %q", last)
	}
}

// A server that accepts the stream but never sends READY is given up on
// after the request timeout.
func TestNoReady(t *testing.T) {
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer silent.Close()
	c, _ := newClient(t, satori.Options{BaseURL: silent.URL, RequestTimeout: 200 * time.Millisecond})
	testutil.RunInBackground(t, c.Run, waitLimit)
	testutil.WaitFor(t, "the failure", func() bool { return c.State().Get().LastError != "" }, waitLimit)
	if last := c.State().Get().LastError; !strings.Contains(last, "no READY") {
		t.Errorf("last error %q", last)
	}
}

// The client PINGs; after the server crashes and comes back it reconnects.
func TestPingsAndReconnects(t *testing.T) {
	b := startBot(t, satoristandin.Options{Token: testToken})
	c, _ := newClient(t, satori.Options{BaseURL: b.URL(), AccessToken: testToken})
	satori.SetPingInterval(c, 20*time.Millisecond)
	testutil.RunInBackground(t, c.Run, waitLimit)
	waitUp(t, c.State(), true)
	testutil.WaitFor(t, "two PINGs", func() bool { return b.Pings() >= 2 }, waitLimit)

	b.Stop()
	waitUp(t, c.State(), false)
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	waitUp(t, c.State(), true)
	b.GroupMessage(testGroup, bob, []qq.Segment{qq.Text("back")})
	if ev := nextEvent(t, c); ev.Message.PlainText() != "back" {
		t.Errorf("after the restart: %q", ev.Message.PlainText())
	}
}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "ws://127.0.0.1:5600", "127.0.0.1:5600", "http://h/?q=1"} {
		if _, err := satori.New(satori.Options{BaseURL: u}); err == nil {
			t.Errorf("New(%q): no error", u)
		}
	}
	// The error quotes the URL without the secrets inside it.
	_, err := satori.New(satori.Options{BaseURL: "http://bot:hunter22@h/?token=s3cret-token"})
	if err == nil || strings.Contains(err.Error(), "hunter22") || strings.Contains(err.Error(), "s3cret-token") {
		t.Errorf("bad URL with secrets: %v", err)
	}
}

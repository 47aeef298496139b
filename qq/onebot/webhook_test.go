package onebot_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	onebotstandin "github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq/onebot"
)

// webhookSecret is the token the webhook fixture's signature was computed
// with.
const webhookSecret = "my-secret"

// webhookClient runs a webhook-mode client that uses bot's HTTP API, behind
// a loopback server, and returns the URL to post events to. A health
// interval of 0 keeps the default.
func webhookClient(t *testing.T, bot *onebotstandin.Bot, token string, health time.Duration) (*onebot.Client, *logRecorder, string) {
	t.Helper()
	logs := &logRecorder{}
	c, err := onebot.New(onebot.Options{URL: bot.HTTPURL(), AccessToken: token, Webhook: true, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	if health > 0 {
		onebot.SetHealthInterval(c, health)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	// Registered after the server's cleanup, so Run ends (and with it any
	// handler waiting to deliver) before the server waits for its handlers.
	testutil.RunInBackground(t, c.Run, waitLimit)
	// Run opens the receiver in its own goroutine: a post before that is
	// refused with 503, as it should be, but not what these tests are about.
	testutil.WaitFor(t, "the webhook receiver to open", func() bool { return onebot.Accepting(c) }, waitLimit)
	return c, logs, srv.URL + "/onebot/webhook"
}

// post sends body to url with headers and returns the status.
func post(t *testing.T, url string, body []byte, headers map[string]string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// noEventPending fails if an event is waiting. Called after a later event
// was received, it checks what came before rather than timing.
func noEventPending(t *testing.T, c *onebot.Client) {
	t.Helper()
	if ev, ok := c.Events().Pop(); ok {
		t.Fatalf("unexpected event %+v", ev)
	}
}

func TestWebhookVerifiesTheFixtureSignature(t *testing.T) {
	var fixture struct {
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body_compact"`
	}
	if err := json.Unmarshal(readFixture(t, "http_post_webhook_request_headers.json"), &fixture); err != nil {
		t.Fatal(err)
	}
	bot := startBot(t, onebotstandin.Options{Token: webhookSecret})
	c, _, url := webhookClient(t, bot, webhookSecret, 0)

	if status := post(t, url, []byte(fixture.Body), fixture.Headers); status != http.StatusNoContent {
		t.Fatalf("signed fixture post answered %d, want 204", status)
	}
	want, _ := decodeFixture(t, "napcat_group_message_array.json")
	if ev := nextEvent(t, c); !reflect.DeepEqual(ev, want) {
		t.Fatalf("event\n got  %+v\n want %+v", ev, want)
	}

	// The same signature over a changed body is wrong.
	tampered := strings.Replace(fixture.Body, "请提前下线", "不用下线", 1)
	if status := post(t, url, []byte(tampered), fixture.Headers); status != http.StatusForbidden {
		t.Errorf("tampered post answered %d, want 403", status)
	}
}

func TestWebhookRefusesBadSignatures(t *testing.T) {
	bot := startBot(t, onebotstandin.Options{Token: webhookSecret})
	c, logs, url := webhookClient(t, bot, webhookSecret, 0)
	ctx := t.Context()

	for _, tc := range []struct {
		token, status string
	}{
		{"", "401"},      // unsigned
		{"wrong", "403"}, // signed with another secret
	} {
		poster := onebotstandin.New(onebotstandin.Options{Token: tc.token})
		err := poster.PostWebhook(ctx, url, readFixture(t, "llbot_group_message_array.json"))
		if err == nil || !strings.Contains(err.Error(), "HTTP "+tc.status) {
			t.Errorf("post signed with %q: %v; want HTTP %s", tc.token, err, tc.status)
		}
	}
	if err := bot.PostWebhook(ctx, url, readFixture(t, "napcat_group_message_array.json")); err != nil {
		t.Fatal(err)
	}
	// Events from one sender arrive in order, so the first one tells.
	if ev := nextEvent(t, c); ev.Message.ID != "1847362519" {
		t.Fatalf("first event is message %s; a refused post was delivered", ev.Message.ID)
	}
	noEventPending(t, c)

	refusals := append(logs.find(slog.LevelWarn, "without a signature"), logs.find(slog.LevelWarn, "wrong signature")...)
	if len(refusals) != 2 {
		t.Fatalf("%d refusals logged, want 2", len(refusals))
	}
	for _, attrs := range refusals {
		if !strings.HasPrefix(attrs["peer"], "127.0.0.1:") {
			t.Errorf("refusal logged without the peer address: %v", attrs)
		}
	}
}

func TestWebhookDeliversAndDropsOwnMessages(t *testing.T) {
	bot := startBot(t, onebotstandin.Options{}) // no token anywhere: unsigned posts are taken
	c, _, url := webhookClient(t, bot, "", 0)
	ctx := t.Context()
	for _, name := range []string{"napcat_message_sent_group.json", "llbot_group_message_array.json"} {
		if err := bot.PostWebhook(ctx, url, readFixture(t, name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	want, _ := decodeFixture(t, "llbot_group_message_array.json")
	if ev := nextEvent(t, c); !reflect.DeepEqual(ev, want) {
		t.Fatalf("first event\n got  %+v\n want %+v (the bot's own message must be dropped)", ev, want)
	}
	if c.SelfID() != 2401234567 {
		t.Errorf("SelfID = %d", c.SelfID())
	}
}

func TestWebhookRefusesWhatIsNotAnEvent(t *testing.T) {
	bot := startBot(t, onebotstandin.Options{})
	c, logs, url := webhookClient(t, bot, "", 0)
	for name, body := range map[string][]byte{
		"garbage":  []byte("not json"),
		"response": readFixture(t, "napcat_send_group_msg_response_ok.json"),
	} {
		if status := post(t, url, body, nil); status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, status)
		}
	}
	if n := len(logs.find(slog.LevelWarn, "bad webhook post")); n != 2 {
		t.Errorf("%d warnings for bad posts, want 2", n)
	}
	huge := bytes.Repeat([]byte(" "), 4<<20+1)
	if status := post(t, url, huge, nil); status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized post: status %d, want 413", status)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", resp.StatusCode)
	}
	noEventPending(t, c)
}

func TestWebhookReceiverOnlyWhileRunningInWebhookMode(t *testing.T) {
	bot := startBot(t, onebotstandin.Options{})
	notRunning, err := onebot.New(onebot.Options{URL: bot.HTTPURL(), Webhook: true})
	if err != nil {
		t.Fatal(err)
	}
	sse, _ := runClient(t, onebot.Options{URL: bot.HTTPURL()})
	body := readFixture(t, "napcat_group_message_array.json")
	for name, c := range map[string]*onebot.Client{"before Run": notRunning, "SSE mode": sse} {
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", name, rec.Code)
		}
	}
}

func TestWebhookStateFollowsTheAPI(t *testing.T) {
	bot := startBot(t, onebotstandin.Options{Token: testToken})
	c, logs, _ := webhookClient(t, bot, testToken, 20*time.Millisecond)
	testutil.WaitFor(t, "up after get_login_info", c.State().Up, waitLimit)
	if testutil.Count(bot.Actions(), "get_login_info") == 0 {
		t.Error("up without asking get_login_info")
	}
	if c.SelfID() != 2401234567 {
		t.Errorf("SelfID = %d, want get_login_info's user_id", c.SelfID())
	}

	bot.Stop()
	testutil.WaitFor(t, "down after a failed health check", func() bool { return !c.State().Up() }, waitLimit)
	if err := bot.Restart(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "up again", c.State().Up, waitLimit)
	if n := len(logs.find(slog.LevelWarn, "connection lost")); n != 1 {
		t.Errorf("%d \"connection lost\" warnings, want 1", n)
	}
	if n := len(logs.find(slog.LevelInfo, "reconnected")); n != 1 {
		t.Errorf("%d \"reconnected\" lines, want 1", n)
	}
}

func TestWebhookWrongTokenKeepsTheLinkDown(t *testing.T) {
	bot := startBot(t, onebotstandin.Options{Token: testToken})
	c, _, _ := webhookClient(t, bot, "wrong", 0)
	testutil.WaitFor(t, "rejection recorded", func() bool {
		last := c.State().Get().LastError
		return strings.Contains(last, "get_login_info") && strings.Contains(last, onebot.ErrTokenRejected.Error())
	}, waitLimit)
	if c.State().Up() {
		t.Error("up with a wrong token")
	}
}

// Posts without a well-formed X-Signature are refused from their headers,
// before a byte of their body is read: a post that never finishes its body
// is answered at once.
func TestWebhookRefusesUnsignedPostsBeforeTheBody(t *testing.T) {
	bot := startBot(t, onebotstandin.Options{Token: webhookSecret})
	_, _, webhook := webhookClient(t, bot, webhookSecret, 0)
	host := strings.TrimPrefix(strings.SplitN(webhook, "/onebot", 2)[0], "http://")
	for _, tc := range []struct{ header, status string }{
		{"", "401"},
		{"X-Signature: \r\n", "401"},
		{"X-Signature: md5=0123456789abcdef0123456789abcdef\r\n", "403"},
		{"X-Signature: sha1=not-hex-not-hex-not-hex-not-hex-not-hex-\r\n", "403"},
		{"X-Signature: sha1=" + strings.Repeat("ab", 19) + "\r\n", "403"}, // 38 digits
	} {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /onebot/webhook HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n%s\r\n{\"post_type\":", tc.header)
		_ = conn.SetReadDeadline(time.Now().Add(waitLimit))
		line, err := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 "+tc.status) {
			t.Errorf("%q: answered %q, %v; want %s before the body", tc.header, line, err, tc.status)
		}
	}
}

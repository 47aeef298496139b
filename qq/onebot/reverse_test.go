package onebot_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/link"
	onebotstandin "github.com/mcqq/bridge/internal/standin/onebot"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

// reverseServer runs a reverse-mode client behind a loopback HTTP server
// and returns the ws:// URL bots dial.
func reverseServer(t *testing.T, token string) (*onebot.Client, *logRecorder, string) {
	t.Helper()
	c, logs := runClient(t, onebot.Options{AccessToken: token})
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return c, logs, "ws" + strings.TrimPrefix(srv.URL, "http") + "/onebot/v11/ws"
}

// dialReverse runs bot.DialReverse in the background until the test ends;
// the returned function waits for its result.
func dialReverse(t *testing.T, bot *onebotstandin.Bot, url string) (result func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		err = bot.DialReverse(ctx, url)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func() error {
		select {
		case <-done:
			return err
		case <-time.After(waitLimit):
			t.Fatal("DialReverse did not return")
			return nil
		}
	}
}

func TestReverseRefusesBadTokensBeforeUpgrading(t *testing.T) {
	_, logs, url := reverseServer(t, testToken)
	for _, tc := range []struct {
		token      string
		wantStatus string
	}{
		{"", "401"},
		{"wrong", "403"},
	} {
		bot := onebotstandin.New(onebotstandin.Options{Token: tc.token})
		err := bot.DialReverse(t.Context(), url)
		if err == nil || !strings.Contains(err.Error(), tc.wantStatus) {
			t.Errorf("token %q: DialReverse = %v; want a refused handshake with %s", tc.token, err, tc.wantStatus)
		}
	}
	refusals := append(logs.find(slog.LevelWarn, "without an access token"), logs.find(slog.LevelWarn, "wrong access token")...)
	if len(refusals) != 2 {
		t.Fatalf("%d refusals logged, want 2", len(refusals))
	}
	for _, attrs := range refusals {
		if !strings.HasPrefix(attrs["peer"], "127.0.0.1:") {
			t.Errorf("refusal logged without the peer address: %v", attrs)
		}
	}
}

func TestReverseAcceptsOtherTokenSpellings(t *testing.T) {
	_, _, url := reverseServer(t, testToken)
	for name, dial := range map[string]func() (*websocket.Conn, *http.Response, error){
		"Token scheme": func() (*websocket.Conn, *http.Response, error) {
			return websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Token " + testToken}})
		},
		"query parameter": func() (*websocket.Conn, *http.Response, error) {
			return websocket.DefaultDialer.Dial(url+"?access_token="+testToken, nil)
		},
	} {
		conn, resp, err := dial()
		if err != nil {
			status := ""
			if resp != nil {
				status = resp.Status
			}
			t.Errorf("%s refused: %v %s", name, err, status)
			continue
		}
		conn.Close()
	}
}

func TestReverseBridgesTheBot(t *testing.T) {
	c, _, url := reverseServer(t, testToken)
	bot := onebotstandin.New(onebotstandin.Options{Token: testToken, SelfID: 3300112233})
	result := dialReverse(t, bot, url)
	testutil.WaitFor(t, "bot attached", func() bool { return c.State().Up() && bot.Connected() == 1 }, waitLimit)
	if c.SelfID() != 3300112233 {
		t.Errorf("SelfID = %d, want the X-Self-ID 3300112233", c.SelfID())
	}

	bot.GroupMessage(testGroup, alice, []qq.Segment{qq.Text("hello from QQ")})
	if ev := nextEvent(t, c); ev.GroupID != testGroup || ev.Message.PlainText() != "hello from QQ" {
		t.Fatalf("event = %+v", ev)
	}
	if err := c.SendGroupMessage(t.Context(), testGroup, []qq.Segment{qq.Text("hello from MC")}); err != nil {
		t.Fatal(err)
	}
	if sent := bot.Sent(); len(sent) != 1 || sent[0].Text != "hello from MC" || !strings.HasPrefix(string(sent[0].Raw), "[") {
		t.Fatalf("bot received %+v", sent)
	}

	// The bot goes away: state down, calls fail fast.
	bot.Stop()
	if err := result(); err == nil {
		t.Error("DialReverse returned nil after the bot's own connection was dropped")
	}
	testutil.WaitFor(t, "state down", func() bool { return !c.State().Up() }, waitLimit)
	if err := c.SendGroupMessage(t.Context(), testGroup, []qq.Segment{qq.Text("x")}); !errors.Is(err, link.ErrNotConnected) {
		t.Fatalf("send with no bot attached: %v", err)
	}
}

func TestReverseNewConnectionReplacesOld(t *testing.T) {
	c, _, url := reverseServer(t, testToken)
	first := onebotstandin.New(onebotstandin.Options{Token: testToken, SelfID: 1111111111})
	firstResult := dialReverse(t, first, url)
	testutil.WaitFor(t, "first bot attached", func() bool { return c.State().Up() && first.Connected() == 1 }, waitLimit)

	second := onebotstandin.New(onebotstandin.Options{Token: testToken, SelfID: 2222222222})
	dialReverse(t, second, url)
	err := firstResult()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure || ce.Text != "replaced" {
		t.Fatalf("first connection ended with %v; want close 1000 \"replaced\"", err)
	}
	testutil.WaitFor(t, "second bot attached", func() bool { return second.Connected() == 1 }, waitLimit)
	if err := c.SendGroupMessage(t.Context(), testGroup, []qq.Segment{qq.Text("to the new one")}); err != nil {
		t.Fatal(err)
	}
	if len(second.Sent()) != 1 || len(first.Sent()) != 0 {
		t.Fatalf("sends: first %d, second %d; want all on the new connection", len(first.Sent()), len(second.Sent()))
	}
	if !c.State().Up() || c.SelfID() != 2222222222 {
		t.Errorf("after replacement: up %v, self id %d", c.State().Up(), c.SelfID())
	}
}

func TestServeHTTPOnlyInReverseMode(t *testing.T) {
	bot := startBot(t, onebotstandin.Options{})
	forward, _ := runClient(t, onebot.Options{URL: bot.URL()})
	notRunning, err := onebot.New(onebot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*onebot.Client{"forward mode": forward, "before Run": notRunning} {
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", name, rec.Code)
		}
	}
}

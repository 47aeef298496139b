package milky

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/link"
	milkystandin "github.com/mcqq/bridge/internal/standin/milky"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

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

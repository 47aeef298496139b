package onebot

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/standin/standintest"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
)

func TestHTTPAPI(t *testing.T) {
	for _, tc := range []struct {
		flavor string
		// unknown action: HTTP status, retcode, message (docs/protocols.md#onebot-actions)
		unknownStatus  int
		unknownRetcode float64
		unknownMessage string
	}{
		{"napcat", http.StatusOK, 200, "不支持的Api send_group_message"},
		{"llbot", http.StatusNotFound, 404, "send_group_message API 不存在"},
	} {
		t.Run(tc.flavor, func(t *testing.T) {
			b := standintest.Start(t, New(Options{Token: "tok", Flavor: tc.flavor}))
			b.AddMember(712345678, qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"})
			b.SetGroupName(712345678, "MC服务器交流群")
			base := b.HTTPURL()

			status, body := httpCall(t, http.MethodPost, base+"/get_login_info", "tok", `{"echo":"mcbridge-53"}`)
			login := object(t, []byte(body))
			wantLogin := fixture(t, "get_login_info_response.json") // LLBot's envelope
			if tc.flavor == "napcat" {
				wantLogin["stream"] = "normal-action"
			}
			sameKeys(t, "get_login_info", login, wantLogin)
			if status != http.StatusOK || login["echo"] != "mcbridge-53" || login["data"].(map[string]any)["user_id"] != float64(2401234567) {
				t.Errorf("get_login_info: %d %v", status, login)
			}

			status, body = httpCall(t, http.MethodPost, base+"/send_group_message", "tok", `{}`)
			unknown := object(t, []byte(body))
			if tc.flavor == "napcat" {
				sameKeys(t, "unknown action", unknown, fixture(t, "napcat_http_response_failed_unknown_action.json"))
				if echo, _ := unknown["echo"].(string); echo == "" {
					t.Errorf("NapCat answers over HTTP with a made-up echo, got %v", unknown["echo"])
				}
			} else if _, hasEcho := unknown["echo"]; hasEcho {
				t.Errorf("LLBot sends no echo unless given one: %v", unknown)
			}
			if status != tc.unknownStatus || unknown["retcode"] != tc.unknownRetcode || unknown["message"] != tc.unknownMessage {
				t.Errorf("unknown action: %d %v", status, unknown)
			}

			for _, c := range []struct {
				what, method, path, body string
				retcode                  float64
			}{
				{"bad params", http.MethodPost, "/send_group_msg", `{"message":"x"}`, 400},
				{"failed action", http.MethodPost, "/get_group_member_info", `{"group_id":712345678,"user_id":1}`, 200},
				{"query params", http.MethodGet, "/get_group_info?group_id=712345678", "", 0},
				{"no body", http.MethodPost, "/get_login_info", "", 0},
			} {
				status, body := httpCall(t, c.method, base+c.path, "tok", c.body)
				reply := object(t, []byte(body))
				if status != http.StatusOK || reply["retcode"] != c.retcode {
					t.Errorf("%s: %d %v; want HTTP 200 with retcode %v", c.what, status, reply, c.retcode)
				}
			}

			status, body = httpCall(t, http.MethodPost, base+"/send_group_msg", "tok",
				`{"group_id":712345678,"message":[{"type":"text","data":{"text":"over HTTP"}}]}`)
			if status != http.StatusOK || object(t, []byte(body))["status"] != "ok" {
				t.Fatalf("send: %d %s", status, body)
			}
			if sent := b.Sent(); len(sent) != 1 || sent[0].GroupID != 712345678 || sent[0].Text != "over HTTP" {
				t.Errorf("Sent() = %+v", sent)
			}
			if got := b.Actions(); testutil.Count(got, "send_group_message") != 1 || testutil.Count(got, "send_group_msg") != 2 {
				t.Errorf("Actions() = %v", got)
			}
		})
	}
}

func TestHTTPRefusals(t *testing.T) {
	for _, tc := range []struct {
		flavor, tokenBody string
		badJSONStatus     int
	}{
		{"napcat", `{"message":"token verify failed!"}`, http.StatusBadRequest},
		{"llbot", `{"message":"token verify failed"}`, http.StatusOK},
	} {
		t.Run(tc.flavor, func(t *testing.T) {
			b := standintest.Start(t, New(Options{Token: "tok", Flavor: tc.flavor}))
			for _, token := range []string{"", "wrong"} {
				for _, path := range []string{"/get_login_info", "/_events"} {
					status, body := httpCall(t, http.MethodGet, b.HTTPURL()+path, token, "")
					if status != http.StatusForbidden || body != tc.tokenBody {
						t.Errorf("%s with token %q: %d %s; want 403 %s", path, token, status, body, tc.tokenBody)
					}
				}
			}
			if status, body := httpCall(t, http.MethodGet, b.HTTPURL()+"/get_login_info?access_token=tok", "", ""); status != http.StatusOK {
				t.Errorf("token as query parameter: %d %s", status, body)
			}
			status, body := httpCall(t, http.MethodPost, b.HTTPURL()+"/get_login_info", "tok", `{not json`)
			if status != tc.badJSONStatus {
				t.Errorf("bad JSON: %d %s, want HTTP %d", status, body, tc.badJSONStatus)
			}
			if tc.flavor == "llbot" && object(t, []byte(body))["retcode"] != float64(400) {
				t.Errorf("LLBot bad JSON: %s, want retcode 400", body)
			}
			if got := b.Actions(); !slices.Equal(got, []string{"get_login_info"}) {
				t.Errorf("Actions() = %v; want only the authorised call, refused ones are not actions", got)
			}
		})
	}
}

func TestHTTPSilentActionIsHeld(t *testing.T) {
	b := standintest.Start(t, New(Options{}))
	b.SetSilent("get_group_info", true)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.HTTPURL()+"/get_group_info", strings.NewReader(`{"group_id":1}`))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a silent action was answered: %s", resp.Status)
	}
	if got := b.Actions(); !slices.Equal(got, []string{"get_group_info"}) {
		t.Errorf("Actions() = %v", got)
	}
}

func TestSSE(t *testing.T) {
	alice := qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}
	b := standintest.Start(t, New(Options{Token: "tok"}))
	b.SetGroupName(712345678, "MC服务器交流群")
	stream := openSSE(t, b, "tok")
	ws := dial(t, b, "tok")
	standintest.WaitConnected(t, b, 2) // the stream counts as a connection

	id := b.GroupMessage(712345678, alice, []qq.Segment{qq.Text("hi")})
	data, err := nextSSE(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	ev := object(t, []byte(data))
	sameKeys(t, "SSE group message", ev, fixture(t, "napcat_group_message_array.json"))
	if ev["message_id"] != float64(id) {
		t.Errorf("SSE event = %v", ev)
	}
	if ws := object(t, standintest.Read(t, ws)); ws["message_id"] != float64(id) {
		t.Errorf("the WebSocket client got %v, want the same event", ws)
	}

	b.Emit([]byte("two\nlines"))
	if data, err := nextSSE(t, stream); err != nil || data != "two\nlines" {
		t.Errorf("garbage frame read back as %q, %v", data, err)
	}

	b.Stop()
	if _, err := nextSSE(t, stream); err == nil {
		t.Error("the stream went on after Stop")
	}
	if b.Connected() != 0 {
		t.Errorf("Connected() = %d after Stop", b.Connected())
	}
}

func TestSSEHeartbeats(t *testing.T) {
	// LLBot sends heartbeats to SSE clients; NapCat sends only events.
	b := standintest.Start(t, New(Options{Flavor: "llbot", HeartbeatInterval: 10 * time.Millisecond}))
	stream := openSSE(t, b, "")
	data, err := nextSSE(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	heartbeat := object(t, []byte(data))
	sameKeys(t, "SSE heartbeat", heartbeat, fixture(t, "llbot_heartbeat.json"))
	if heartbeat["meta_event_type"] != "heartbeat" || heartbeat["interval"] != float64(10) {
		t.Errorf("heartbeat = %v", heartbeat)
	}
}

func TestPostWebhook(t *testing.T) {
	testutil.VerifyNoLeaks(t)
	var fixture struct {
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body_compact"`
	}
	if err := json.Unmarshal(standintest.Fixture(t, "http_post_webhook_request_headers.json"), &fixture); err != nil {
		t.Fatal(err)
	}
	type received struct {
		header http.Header
		body   string
	}
	posts := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		posts <- received{r.Header.Clone(), string(body)}
		if r.URL.Query().Get("refuse") != "" {
			http.Error(w, "wrong X-Signature", http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	signed := New(Options{Token: "my-secret"})
	if err := signed.PostWebhook(t.Context(), srv.URL, []byte(fixture.Body)); err != nil {
		t.Fatal(err)
	}
	got := <-posts
	if got.body != fixture.Body {
		t.Errorf("body changed on the way")
	}
	for key, want := range fixture.Headers {
		if got.header.Get(key) != want {
			t.Errorf("header %s = %q, want %q (the fixture's)", key, got.header.Get(key), want)
		}
	}

	unsigned := New(Options{})
	err := unsigned.PostWebhook(t.Context(), srv.URL+"?refuse=1", []byte(`{}`))
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "wrong X-Signature") {
		t.Errorf("refused post: %v; want the status and the answer", err)
	}
	if got := <-posts; got.header.Get("X-Signature") != "" || got.header.Get("X-Self-ID") != "2401234567" {
		t.Errorf("without a token: headers %v; want X-Self-ID and no X-Signature", got.header)
	}
}

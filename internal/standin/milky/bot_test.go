package milky

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/standin/standintest"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
)

const testToken = "tok"

var alice = qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}

// httpClient is a client that keeps no connection after the test.
func httpClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func post(t *testing.T, m *Bot, api, token, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, m.URL()+"/api/"+api, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, answer
}

func jsonEqual(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: invalid JSON %s", what, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

func TestAPIAnswersLikeLLBot(t *testing.T) {
	m := standintest.Start(t, New(Options{Token: testToken}))
	const js = "application/json"

	status, body := post(t, m, "get_login_info", "", js, `{}`)
	if status != http.StatusUnauthorized {
		t.Errorf("no token: HTTP %d", status)
	}
	jsonEqual(t, "no token", body, standintest.Fixture(t, "milky_http_401_unauthorized.json"))
	if status, _ := post(t, m, "get_login_info", "wrong", js, `{}`); status != http.StatusUnauthorized {
		t.Errorf("wrong token: HTTP %d", status)
	}
	if status, _ := post(t, m, "get_login_info", testToken, "text/plain", `{}`); status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: HTTP %d", status)
	}

	status, body = post(t, m, "get_login_info", testToken, js, `{}`)
	if status != http.StatusOK {
		t.Errorf("get_login_info: HTTP %d", status)
	}
	jsonEqual(t, "get_login_info", body, standintest.Fixture(t, "milky_get_login_info_response.json"))

	status, body = post(t, m, "no_such_api", testToken, js, `{}`)
	if status != http.StatusNotFound {
		t.Errorf("unknown API: HTTP %d", status)
	}
	jsonEqual(t, "unknown API", body, standintest.Fixture(t, "milky_http_404_api_not_found.json"))

	status, body = post(t, m, "send_group_message", testToken, js, `{"group_id":1,"message":[{"type":"text","data":{"text":"x"}}]}`)
	if status != http.StatusOK {
		t.Errorf("bad params: HTTP %d", status)
	}
	jsonEqual(t, "bad params", body, standintest.Fixture(t, "milky_response_failed_bad_params.json"))

	// Milky validates QQ numbers as JSON numbers: a string is refused.
	_, body = post(t, m, "send_group_message", testToken, js, `{"group_id":"712345678","message":[{"type":"text","data":{"text":"x"}}]}`)
	if !strings.Contains(string(body), `"retcode":-400`) {
		t.Errorf("group_id as a string: %s", body)
	}
	if len(m.Sent()) != 0 {
		t.Errorf("refused messages recorded as sent: %+v", m.Sent())
	}
	want := []string{"get_login_info", "no_such_api", "send_group_message", "send_group_message"}
	if got := m.Calls(); !slices.Equal(got, want) {
		t.Errorf("Calls = %q, want %q (authorised calls only)", got, want)
	}
}

func TestSendDecodesSegments(t *testing.T) {
	m := standintest.Start(t, New(Options{}))
	request := standintest.Fixture(t, "milky_send_group_message_request.json")
	status, body := post(t, m, "send_group_message", "", "application/json", string(request))
	if status != http.StatusOK || !strings.Contains(string(body), `"status":"ok"`) || !strings.Contains(string(body), `"message_seq":`) {
		t.Fatalf("send_group_message: HTTP %d %s", status, body)
	}
	sent := m.Sent()
	if len(sent) != 1 {
		t.Fatalf("Sent = %+v", sent)
	}
	want := Sent{
		API:     "send_group_message",
		GroupID: 712345678,
		Message: []qq.Segment{
			{Type: qq.SegReply, ID: "48213"},
			qq.Text("[MC] <Steve> "),
			{Type: qq.SegAt, Target: "1019283746"},
			qq.Text(" 收到, 我马上下线"),
			{Type: qq.SegImage, URL: "https://mc.example.com/render/steve.png", Summary: "[图片]"},
		},
		Text: "[MC] <Steve>  收到, 我马上下线",
		Raw:  request,
	}
	if !reflect.DeepEqual(sent[0], want) {
		t.Errorf("Sent[0] =\n%+v\nwant\n%+v", sent[0], want)
	}

	for _, bad := range []string{
		`{"user_id":1019283746,"message":[{"type":"forward","data":{}}]}`,
		`{"user_id":1019283746,"message":[{"type":"mention","data":{"user_id":"1019283746"}}]}`,
		`{"user_id":1019283746,"message":[{"type":"image","data":{"file":"x"}}]}`,
		`{"user_id":1019283746,"message":[]}`,
	} {
		if _, body := post(t, m, "send_private_message", "", "application/json", bad); !strings.Contains(string(body), `"retcode":-400`) {
			t.Errorf("%s accepted: %s", bad, body)
		}
	}
}

// keys lists an object's keys, to compare shapes with a fixture.
func keys(t *testing.T, v any) []string {
	t.Helper()
	obj, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not an object: %v", v)
	}
	return slices.Sorted(maps.Keys(obj))
}

// checkGroupEvent checks a pushed event against the fixture's shape.
func checkGroupEvent(t *testing.T, frame []byte, seq int64) {
	t.Helper()
	var got, want map[string]any
	if err := json.Unmarshal(frame, &got); err != nil {
		t.Fatalf("event %s: %v", frame, err)
	}
	if err := json.Unmarshal(standintest.Fixture(t, "milky_message_receive_group.json"), &want); err != nil {
		t.Fatal(err)
	}
	for _, path := range [][]string{nil, {"data"}, {"data", "group"}, {"data", "group_member"}} {
		g, w := any(got), any(want)
		for _, k := range path {
			g, w = g.(map[string]any)[k], w.(map[string]any)[k]
		}
		if gk, wk := keys(t, g), keys(t, w); !slices.Equal(gk, wk) {
			t.Errorf("keys of %v: %q, want %q", path, gk, wk)
		}
	}
	data := got["data"].(map[string]any)
	if data["message_seq"] != float64(seq) || data["peer_id"] != float64(712345678) || got["event_type"] != "message_receive" {
		t.Errorf("event = %s", frame)
	}
	member := data["group_member"].(map[string]any)
	if member["card"] != alice.Card || member["role"] != "admin" || data["group"].(map[string]any)["group_name"] != "MC服务器交流群" {
		t.Errorf("member/group = %s", frame)
	}
	segs, _ := json.Marshal(data["segments"])
	want0 := `[{"data":{"text":"hi "},"type":"text"},{"data":{"name":"Bob","user_id":1357924680},"type":"mention"}]`
	if string(segs) != want0 {
		t.Errorf("segments = %s, want %s", segs, want0)
	}
}

var testSegments = []qq.Segment{qq.Text("hi "), {Type: qq.SegAt, Target: "1357924680", Name: "Bob"}}

func TestEventStreams(t *testing.T) {
	t.Run("SSE", func(t *testing.T) {
		m := standintest.Start(t, New(Options{Token: testToken}))
		m.SetGroupName(712345678, "MC服务器交流群")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.URL()+"/event?access_token="+testToken, nil)
		resp, err := httpClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("SSE: HTTP %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		testutil.WaitFor(t, "the subscriber", func() bool { return m.Connected() == 1 }, 10*time.Second)
		seq := m.GroupMessage(712345678, alice, testSegments)
		r := bufio.NewReader(resp.Body)
		var lines []string
		for len(lines) < 3 {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
		if lines[0] != "event: milky_event" || !strings.HasPrefix(lines[1], "data: {") || lines[2] != "" {
			t.Fatalf("SSE frame = %q", lines)
		}
		checkGroupEvent(t, []byte(strings.TrimPrefix(lines[1], "data: ")), seq)
	})
	t.Run("WebSocket", func(t *testing.T) {
		m := standintest.Start(t, New(Options{Token: testToken}))
		m.SetGroupName(712345678, "MC服务器交流群")
		conn := dial(t, m, "Bearer "+testToken)
		seq := m.GroupMessage(712345678, alice, testSegments)
		typ, frame, err := conn.ReadMessage()
		if err != nil || typ != websocket.TextMessage {
			t.Fatalf("read: %v %v", typ, err)
		}
		checkGroupEvent(t, frame, seq)
		m.Emit([]byte("raw"))
		if _, frame, err := conn.ReadMessage(); err != nil || string(frame) != "raw" {
			t.Errorf("Emit: %q %v", frame, err)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		m := standintest.Start(t, New(Options{Token: testToken}))
		conn := dial(t, m, "Bearer nope")
		_, _, err := conn.ReadMessage()
		if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != websocket.ClosePolicyViolation || ce.Text != "Unauthorized" {
			t.Errorf("WebSocket with a wrong token: %v, want close 1008 Unauthorized", err)
		}
		resp, err := httpClient(t).Get(m.URL() + "/event?access_token=nope")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("SSE with a wrong token: HTTP %d", resp.StatusCode)
		}
	})
	t.Run("WebSocket disabled", func(t *testing.T) {
		m := standintest.Start(t, New(Options{NoWebSocket: true}))
		_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(m.URL(), "http")+"/event", nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("upgrade with WebSocket disabled: %v", err)
		}
	})
}

func dial(t *testing.T, m *Bot, auth string) *websocket.Conn {
	t.Helper()
	h := http.Header{}
	h.Set("Authorization", auth)
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(m.URL(), "http")+"/event", h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestLookups(t *testing.T) {
	m := standintest.Start(t, New(Options{}))
	m.AddMember(712345678, alice)
	m.SetGroupName(712345678, "MC服务器交流群")
	const js = "application/json"

	_, body := post(t, m, "get_group_member_info", "", js, `{"group_id":712345678,"user_id":1019283746,"no_cache":false}`)
	if !strings.Contains(string(body), `"card":"[管理] Alice_MC"`) || !strings.Contains(string(body), `"role":"admin"`) {
		t.Errorf("member: %s", body)
	}
	if _, body := post(t, m, "get_group_member_info", "", js, `{"group_id":712345678,"user_id":1357924680}`); !strings.Contains(string(body), `"retcode":-404`) {
		t.Errorf("unknown member: %s", body)
	}
	if _, body := post(t, m, "get_group_info", "", js, `{"group_id":712345678}`); !strings.Contains(string(body), `"group_name":"MC服务器交流群"`) {
		t.Errorf("group: %s", body)
	}

	first := m.GroupMessage(712345678, alice, []qq.Segment{qq.Text("服务器什么时候维护？")})
	second := m.GroupMessage(712345678, alice, []qq.Segment{{Type: qq.SegReply, ID: strconv.FormatInt(first, 10)}, qq.Text("今晚")})
	_, body = post(t, m, "get_message", "", js, `{"message_scene":"group","peer_id":712345678,"message_seq":`+strconv.FormatInt(second, 10)+`}`)
	var answer struct {
		Data struct {
			Message struct {
				Segments []struct {
					Type string `json:"type"`
					Data struct {
						MessageSeq int64             `json:"message_seq"`
						SenderID   int64             `json:"sender_id"`
						Segments   []json.RawMessage `json:"segments"`
					} `json:"data"`
				} `json:"segments"`
			} `json:"message"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatal(err)
	}
	segs := answer.Data.Message.Segments
	if len(segs) != 2 || segs[0].Type != "reply" || segs[0].Data.MessageSeq != first || segs[0].Data.SenderID != alice.UserID || len(segs[0].Data.Segments) != 1 {
		t.Errorf("get_message: %s", body)
	}
	if _, body := post(t, m, "get_message", "", js, `{"message_scene":"group","peer_id":712345678,"message_seq":1}`); !strings.Contains(string(body), `"retcode":-404`) {
		t.Errorf("unknown message: %s", body)
	}
}

func TestStopRestart(t *testing.T) {
	if err := New(Options{}).Restart(); err == nil {
		t.Error("Restart before Start succeeded")
	}
	m := standintest.Start(t, New(Options{}))
	url := m.URL()
	conn := dial(t, m, "")
	testutil.WaitFor(t, "the subscriber", func() bool { return m.Connected() == 1 }, 10*time.Second)
	if err := m.Start("127.0.0.1:0"); err == nil {
		t.Error("second Start succeeded")
	}

	m.Stop()
	if _, _, err := conn.ReadMessage(); err == nil {
		t.Error("WebSocket still open after Stop")
	}
	if m.Connected() != 0 {
		t.Errorf("Connected = %d after Stop", m.Connected())
	}
	if resp, err := httpClient(t).Post(url+"/api/get_login_info", "application/json", strings.NewReader("{}")); err == nil {
		resp.Body.Close()
		t.Error("API answered after Stop")
	}
	m.Stop() // twice is fine

	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	if m.URL() != url {
		t.Errorf("URL after Restart = %s, want %s", m.URL(), url)
	}
	if status, _ := post(t, m, "get_login_info", "", "application/json", "{}"); status != http.StatusOK {
		t.Errorf("after Restart: HTTP %d", status)
	}
}

func TestPostWebhook(t *testing.T) {
	testutil.VerifyNoLeaks(t)
	type request struct{ auth, contentType, body string }
	got := make(chan request, 1)
	var status atomic.Int32
	status.Store(http.StatusNoContent)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(int(status.Load()))
		got <- request{r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(body)}
	}))
	defer srv.Close()

	m := New(Options{Token: testToken})
	frame := standintest.Fixture(t, "milky_message_receive_group.json")
	if err := m.PostWebhook(context.Background(), srv.URL, frame); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.auth != "Bearer "+testToken || r.contentType != "application/json" || r.body != string(frame) {
		t.Errorf("webhook request = %q %q %.40q", r.auth, r.contentType, r.body)
	}
	status.Store(http.StatusForbidden)
	if err := m.PostWebhook(context.Background(), srv.URL, frame); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("refused webhook: %v", err)
	}
	<-got
}

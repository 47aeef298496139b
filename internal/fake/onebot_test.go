package fake

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

func onebotFixture(t *testing.T, name string) map[string]any {
	t.Helper()
	return onebotObject(t, standInFixture(t, "onebot", name))
}

func onebotObject(t *testing.T, frame []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(frame, &m); err != nil {
		t.Fatalf("not a JSON object: %s", frame)
	}
	return m
}

func onebotKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// onebotSameKeys checks that got has exactly the keys of the fixture.
func onebotSameKeys(t *testing.T, what string, got, fixture map[string]any) {
	t.Helper()
	if g, w := onebotKeys(got), onebotKeys(fixture); !slices.Equal(g, w) {
		t.Errorf("%s keys\n got  %v\n want %v", what, g, w)
	}
}

// onebotDial connects like the bridge does and reads the lifecycle event.
func onebotDial(t *testing.T, b *OneBot, token string) *websocket.Conn {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	conn, _, err := websocket.DefaultDialer.Dial(b.URL(), h)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if ev := onebotObject(t, standInRead(t, conn)); ev["meta_event_type"] != "lifecycle" {
		t.Fatalf("first frame is not the lifecycle event: %v", ev)
	}
	return conn
}

// onebotCall sends one action and returns the reply, skipping heartbeats.
func onebotCall(t *testing.T, conn *websocket.Conn, frame string) map[string]any {
	t.Helper()
	if err := conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	for {
		reply := onebotObject(t, standInRead(t, conn))
		if _, isEvent := reply["post_type"]; !isEvent {
			return reply
		}
	}
}

func TestOneBotLifecycleAndHeartbeat(t *testing.T) {
	b := standInStart(t, NewOneBot(OneBotOptions{SelfID: 3300112233, HeartbeatInterval: 20 * time.Millisecond}))
	conn, _, err := websocket.DefaultDialer.Dial(b.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lifecycle := onebotObject(t, standInRead(t, conn))
	onebotSameKeys(t, "lifecycle", lifecycle, onebotFixture(t, "lifecycle_connect.json"))
	if lifecycle["sub_type"] != "connect" || lifecycle["self_id"] != float64(3300112233) {
		t.Errorf("lifecycle = %v", lifecycle)
	}
	heartbeat := onebotObject(t, standInRead(t, conn))
	onebotSameKeys(t, "heartbeat", heartbeat, onebotFixture(t, "napcat_heartbeat.json"))
	if heartbeat["meta_event_type"] != "heartbeat" || heartbeat["interval"] != float64(20) {
		t.Errorf("heartbeat = %v", heartbeat)
	}
	standInWaitConnected(t, b, 1)
}

func TestOneBotWrongTokenGets1403ThenClose(t *testing.T) {
	for _, tc := range []struct {
		flavor, fixture string
		closeCode       int
	}{
		{"napcat", "napcat_response_failed_token_ws.json", websocket.CloseNoStatusReceived},
		{"llbot", "llbot_response_failed_token_ws.json", websocket.ClosePolicyViolation},
	} {
		t.Run(tc.flavor, func(t *testing.T) {
			b := standInStart(t, NewOneBot(OneBotOptions{Token: "right", Flavor: tc.flavor}))
			for _, token := range []string{"wrong", ""} {
				h := http.Header{"Authorization": {"Bearer " + token}}
				conn, _, err := websocket.DefaultDialer.Dial(b.URL(), h)
				if err != nil {
					t.Fatalf("the upgrade itself must succeed: %v", err)
				}
				frame := onebotObject(t, standInRead(t, conn))
				if want := onebotFixture(t, tc.fixture); !reflect.DeepEqual(frame, want) {
					t.Errorf("token %q: rejection frame\n got  %v\n want %v", token, frame, want)
				}
				_, _, err = conn.ReadMessage()
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != tc.closeCode {
					t.Errorf("token %q: connection ended with %v, want close %d", token, err, tc.closeCode)
				}
				conn.Close()
			}
			if b.Connected() != 0 {
				t.Errorf("rejected connections counted: %d", b.Connected())
			}
			onebotDial(t, b, "right")
		})
	}
}

func TestOneBotTokenPrecedence(t *testing.T) {
	// NapCat prefers ?access_token=, LLBot the header (protocols §A.5).
	for flavor, wantOK := range map[string]bool{"napcat": true, "llbot": false} {
		b := standInStart(t, NewOneBot(OneBotOptions{Token: "right", Flavor: flavor}))
		conn, _, err := websocket.DefaultDialer.Dial(b.URL()+"?access_token=right", http.Header{"Authorization": {"Bearer wrong"}})
		if err != nil {
			t.Fatal(err)
		}
		first := onebotObject(t, standInRead(t, conn))
		if accepted := first["post_type"] == "meta_event"; accepted != wantOK {
			t.Errorf("%s with right query and wrong header: accepted %v, want %v", flavor, accepted, wantOK)
		}
		conn.Close()
	}
}

func TestOneBotReplyShapes(t *testing.T) {
	for _, flavor := range []string{"napcat", "llbot"} {
		t.Run(flavor, func(t *testing.T) {
			b := standInStart(t, NewOneBot(OneBotOptions{Flavor: flavor}))
			b.AddMember(712345678, qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"})
			b.SetGroupName(712345678, "MC服务器交流群")
			conn := onebotDial(t, b, "")

			unknown := onebotCall(t, conn, `{"action":"send_group_message","params":{},"echo":"mcbridge-45"}`)
			onebotSameKeys(t, "unknown action", unknown, onebotFixture(t, flavor+"_response_failed_unknown_action.json"))
			if unknown["retcode"] != float64(1404) || unknown["echo"] != "mcbridge-45" || unknown["status"] != "failed" {
				t.Errorf("unknown action reply = %v", unknown)
			}

			member := onebotCall(t, conn, `{"action":"get_group_member_info","params":{"group_id":"712345678","user_id":1019283746},"echo":"mcbridge-50"}`)
			wantMember := onebotFixture(t, flavor+"_get_group_member_info_response.json")
			onebotSameKeys(t, "member reply", member, wantMember)
			data, _ := member["data"].(map[string]any)
			onebotSameKeys(t, "member data", data, wantMember["data"].(map[string]any))
			if data["card"] != "[管理] Alice_MC" || data["role"] != "admin" {
				t.Errorf("member data = %v", data)
			}

			group := onebotCall(t, conn, `{"action":"get_group_info","params":{"group_id":712345678},"echo":"mcbridge-52"}`)
			wantGroup := onebotFixture(t, flavor+"_get_group_info_response.json")
			groupData, _ := group["data"].(map[string]any)
			onebotSameKeys(t, "group data", groupData, wantGroup["data"].(map[string]any))
			if groupData["group_name"] != "MC服务器交流群" {
				t.Errorf("group data = %v", groupData)
			}

			missing := onebotCall(t, conn, `{"action":"get_group_member_info","params":{"group_id":712345678,"user_id":1},"echo":7}`)
			if missing["retcode"] != float64(1200) || missing["echo"] != float64(7) || missing["message"] == "" {
				t.Errorf("unknown member reply = %v (the echo must come back unchanged)", missing)
			}
			badParams := onebotCall(t, conn, `{"action":"send_group_msg","params":{"message":"x"},"echo":"e"}`)
			if badParams["retcode"] != float64(1400) {
				t.Errorf("send without group_id = %v", badParams)
			}
		})
	}
}

func TestOneBotRecordsSends(t *testing.T) {
	b := standInStart(t, NewOneBot(OneBotOptions{Flavor: "llbot"}))
	conn := onebotDial(t, b, "")
	for _, frame := range []string{
		`{"action":"send_group_msg","params":{"group_id":712345678,"message":[{"type":"text","data":{"text":"[MC] <Steve> "}},{"type":"at","data":{"qq":1019283746}}]},"echo":"1"}`,
		`{"action":"send_group_msg","params":{"group_id":"712345678","message":"a[CQ:face,id=14]b"},"echo":"2"}`,
		`{"action":"send_group_msg","params":{"group_id":712345678,"message":"[MC] <Steve> a[b]c & d","auto_escape":true},"echo":"3"}`,
		`{"action":"send_msg","params":{"user_id":1019283746,"message":{"type":"text","data":{"text":"hi"}}},"echo":"4"}`,
	} {
		reply := onebotCall(t, conn, frame)
		onebotSameKeys(t, "send reply", reply, onebotFixture(t, "llbot_send_group_msg_response_ok.json"))
		if reply["status"] != "ok" {
			t.Fatalf("send refused: %v", reply)
		}
	}
	sent := b.Sent()
	if len(sent) != 4 {
		t.Fatalf("Sent() has %d entries, want 4", len(sent))
	}
	want := []Sent{
		{Action: "send_group_msg", GroupID: 712345678, Text: "[MC] <Steve> ",
			Message: []qq.Segment{qq.Text("[MC] <Steve> "), {Type: "at", Data: map[string]string{"qq": "1019283746"}}}},
		{Action: "send_group_msg", GroupID: 712345678, Text: "ab",
			Message: []qq.Segment{qq.Text("a"), {Type: "face", Data: map[string]string{"id": "14"}}, qq.Text("b")}},
		{Action: "send_group_msg", GroupID: 712345678, Text: "[MC] <Steve> a[b]c & d",
			Message: []qq.Segment{qq.Text("[MC] <Steve> a[b]c & d")}},
		{Action: "send_msg", UserID: 1019283746, Text: "hi", Message: []qq.Segment{qq.Text("hi")}},
	}
	for i := range want {
		got := sent[i]
		got.Raw = nil
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("Sent()[%d]\n got  %+v\n want %+v", i, got, want[i])
		}
	}
	if !strings.HasPrefix(string(sent[1].Raw), `"`) {
		t.Errorf("Raw = %s, want the CQ string as received", sent[1].Raw)
	}
	if got := b.Actions(); !slices.Equal(got, []string{"send_group_msg", "send_group_msg", "send_group_msg", "send_msg"}) {
		t.Errorf("Actions() = %v", got)
	}
}

func TestOneBotMessageEventShapes(t *testing.T) {
	alice := qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}
	segs := []qq.Segment{
		qq.Text("a[b] & c"),
		{Type: "image", Data: map[string]string{"file": "x.png", "sub_type": "0", "url": "https://x/?a=1&b=2"}},
	}
	for _, tc := range []struct {
		flavor, fixture string
		stringFormat    bool
	}{
		{"napcat", "napcat_group_message_array.json", false},
		{"napcat", "napcat_group_message_array.json", true},
		{"llbot", "llbot_group_message_array.json", false},
	} {
		b := standInStart(t, NewOneBot(OneBotOptions{Flavor: tc.flavor, StringFormat: tc.stringFormat}))
		b.SetGroupName(712345678, "MC服务器交流群")
		conn := onebotDial(t, b, "")
		id := b.GroupMessage(712345678, alice, segs)

		frame := standInRead(t, conn)
		ev := onebotObject(t, frame)
		onebotSameKeys(t, tc.fixture, ev, onebotFixture(t, tc.fixture))
		if ev["message_id"] != float64(id) || (tc.flavor == "llbot") != (id < 0) {
			t.Errorf("%s: message_id %v (returned %d); NapCat ids are positive, LLBot's negative here", tc.flavor, ev["message_id"], id)
		}
		if tc.stringFormat {
			if ev["message_format"] != "string" || ev["message"] != ev["raw_message"] {
				t.Errorf("string format: message %v, raw_message %v", ev["message"], ev["raw_message"])
			}
		} else {
			image := ev["message"].([]any)[1].(map[string]any)["data"].(map[string]any)
			if image["sub_type"] != float64(0) {
				t.Errorf("image sub_type = %#v, want the number 0 as the bots send it", image["sub_type"])
			}
		}
		// Whatever the shape, the client codec reads back what was pushed.
		decoded, kind, err := onebot.DecodeEvent(frame)
		if err != nil || kind != onebot.FrameGroupMessage || !reflect.DeepEqual(decoded.Message.Segments, segs) ||
			decoded.Message.Sender != alice || decoded.GroupName != "MC服务器交流群" {
			t.Errorf("%s: decoded %+v, kind %v, err %v", tc.fixture, decoded, kind, err)
		}

		got := onebotCall(t, conn, `{"action":"get_msg","params":{"message_id":`+strconv.FormatInt(id, 10)+`},"echo":"m"}`)
		data, _ := got["data"].(map[string]any)
		if data["raw_message"] != ev["raw_message"] {
			t.Errorf("get_msg returned %v", got)
		}
	}
}

func TestOneBotPrivateMessageShape(t *testing.T) {
	b := standInStart(t, NewOneBot(OneBotOptions{}))
	conn := onebotDial(t, b, "")
	b.PrivateMessage(1019283746, qq.Member{Nickname: "Alice"}, []qq.Segment{qq.Text("在吗")})
	ev := onebotObject(t, standInRead(t, conn))
	onebotSameKeys(t, "private message", ev, onebotFixture(t, "napcat_private_message_array.json"))
	if ev["sub_type"] != "friend" || ev["target_id"] != float64(1019283746) {
		t.Errorf("private message = %v", ev)
	}
}

func TestOneBotEmitReachesEveryClient(t *testing.T) {
	b := standInStart(t, NewOneBot(OneBotOptions{}))
	first, second := onebotDial(t, b, ""), onebotDial(t, b, "")
	standInWaitConnected(t, b, 2)
	b.Emit([]byte(`garbage`))
	for _, conn := range []*websocket.Conn{first, second} {
		if got := string(standInRead(t, conn)); got != "garbage" {
			t.Errorf("client got %q", got)
		}
	}
}

func TestOneBotSilentAction(t *testing.T) {
	b := standInStart(t, NewOneBot(OneBotOptions{}))
	conn := onebotDial(t, b, "")
	b.SetSilent("get_group_info", true)
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"action":"get_group_info","params":{"group_id":1},"echo":"silent"}`)); err != nil {
		t.Fatal(err)
	}
	// The next action's reply is the next frame: the silent one got none.
	reply := onebotCall(t, conn, `{"action":"get_login_info","echo":"next"}`)
	if reply["echo"] != "next" || reply["data"].(map[string]any)["user_id"] != float64(2401234567) {
		t.Fatalf("reply after a silent action = %v", reply)
	}
	if got := b.Actions(); !slices.Equal(got, []string{"get_group_info", "get_login_info"}) {
		t.Errorf("Actions() = %v; silent actions are still recorded", got)
	}
}

func TestOneBotStopAndRestart(t *testing.T) {
	b := standInStart(t, NewOneBot(OneBotOptions{}))
	conn := onebotDial(t, b, "")
	url := b.URL()
	b.Stop()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := conn.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
		t.Errorf("after Stop the client read %v, want an abnormal closure (no close frame)", err)
	}
	if b.Connected() != 0 {
		t.Errorf("Connected() = %d after Stop", b.Connected())
	}
	if _, _, err := websocket.DefaultDialer.Dial(url, nil); err == nil {
		t.Fatal("dial succeeded while stopped")
	}
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	if b.URL() != url {
		t.Errorf("URL changed across Restart: %s → %s", url, b.URL())
	}
	onebotDial(t, b, "")
	standInWaitConnected(t, b, 1)
}

func TestOneBotDialReverse(t *testing.T) {
	testutil.VerifyNoLeaks(t)
	headers := make(chan http.Header, 1)
	replies := make(chan map[string]any, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("refuse") != "" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		headers <- r.Header.Clone()
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"action":"get_login_info","params":{},"echo":"who"}`))
		for {
			_, frame, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(frame, &m) == nil && m["echo"] == "who" {
				replies <- m
			}
		}
	}))
	defer srv.Close()
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"

	b := NewOneBot(OneBotOptions{Token: "tok", SelfID: 3300112233, Flavor: "llbot"})
	if err := b.DialReverse(t.Context(), wsURL+"?refuse=1"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("refused handshake: %v; want an error with the status", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.DialReverse(ctx, wsURL) }()
	h := <-headers
	for key, want := range map[string]string{"X-Self-ID": "3300112233", "Authorization": "Bearer tok", "X-Client-Role": "Universal"} {
		if h.Get(key) != want {
			t.Errorf("header %s = %q, want %q", key, h.Get(key), want)
		}
	}
	select {
	case reply := <-replies:
		if reply["status"] != "ok" || reply["data"].(map[string]any)["user_id"] != float64(3300112233) {
			t.Errorf("reply over the reverse connection = %v", reply)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no reply over the reverse connection")
	}
	standInWaitConnected(t, b, 1)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("DialReverse after ctx ended = %v, want nil", err)
	}
	if b.Connected() != 0 {
		t.Errorf("Connected() = %d after DialReverse returned", b.Connected())
	}
}

// onebotHTTP calls the stand-in's HTTP API and returns the status and the
// body.
func onebotHTTP(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(got)
}

func TestOneBotHTTPAPI(t *testing.T) {
	for _, tc := range []struct {
		flavor string
		// unknown action: HTTP status, retcode, message (protocols §A.3)
		unknownStatus  int
		unknownRetcode float64
		unknownMessage string
	}{
		{"napcat", http.StatusOK, 200, "不支持的Api send_group_message"},
		{"llbot", http.StatusNotFound, 404, "send_group_message API 不存在"},
	} {
		t.Run(tc.flavor, func(t *testing.T) {
			b := standInStart(t, NewOneBot(OneBotOptions{Token: "tok", Flavor: tc.flavor}))
			b.AddMember(712345678, qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"})
			b.SetGroupName(712345678, "MC服务器交流群")
			base := b.HTTPURL()

			status, body := onebotHTTP(t, http.MethodPost, base+"/get_login_info", "tok", `{"echo":"mcbridge-53"}`)
			login := onebotObject(t, []byte(body))
			wantLogin := onebotFixture(t, "get_login_info_response.json") // LLBot's envelope
			if tc.flavor == "napcat" {
				wantLogin["stream"] = "normal-action"
			}
			onebotSameKeys(t, "get_login_info", login, wantLogin)
			if status != http.StatusOK || login["echo"] != "mcbridge-53" || login["data"].(map[string]any)["user_id"] != float64(2401234567) {
				t.Errorf("get_login_info: %d %v", status, login)
			}

			status, body = onebotHTTP(t, http.MethodPost, base+"/send_group_message", "tok", `{}`)
			unknown := onebotObject(t, []byte(body))
			if tc.flavor == "napcat" {
				onebotSameKeys(t, "unknown action", unknown, onebotFixture(t, "napcat_http_response_failed_unknown_action.json"))
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
				status, body := onebotHTTP(t, c.method, base+c.path, "tok", c.body)
				reply := onebotObject(t, []byte(body))
				if status != http.StatusOK || reply["retcode"] != c.retcode {
					t.Errorf("%s: %d %v; want HTTP 200 with retcode %v", c.what, status, reply, c.retcode)
				}
			}

			status, body = onebotHTTP(t, http.MethodPost, base+"/send_group_msg", "tok",
				`{"group_id":712345678,"message":[{"type":"text","data":{"text":"over HTTP"}}]}`)
			if status != http.StatusOK || onebotObject(t, []byte(body))["status"] != "ok" {
				t.Fatalf("send: %d %s", status, body)
			}
			if sent := b.Sent(); len(sent) != 1 || sent[0].GroupID != 712345678 || sent[0].Text != "over HTTP" {
				t.Errorf("Sent() = %+v", sent)
			}
			if got := b.Actions(); onebotCount(got, "send_group_message") != 1 || onebotCount(got, "send_group_msg") != 2 {
				t.Errorf("Actions() = %v", got)
			}
		})
	}
}

func onebotCount(items []string, item string) int {
	n := 0
	for _, s := range items {
		if s == item {
			n++
		}
	}
	return n
}

func TestOneBotHTTPRefusals(t *testing.T) {
	for _, tc := range []struct {
		flavor, tokenBody string
		badJSONStatus     int
	}{
		{"napcat", `{"message":"token verify failed!"}`, http.StatusBadRequest},
		{"llbot", `{"message":"token verify failed"}`, http.StatusOK},
	} {
		t.Run(tc.flavor, func(t *testing.T) {
			b := standInStart(t, NewOneBot(OneBotOptions{Token: "tok", Flavor: tc.flavor}))
			for _, token := range []string{"", "wrong"} {
				for _, path := range []string{"/get_login_info", "/_events"} {
					status, body := onebotHTTP(t, http.MethodGet, b.HTTPURL()+path, token, "")
					if status != http.StatusForbidden || body != tc.tokenBody {
						t.Errorf("%s with token %q: %d %s; want 403 %s", path, token, status, body, tc.tokenBody)
					}
				}
			}
			if status, body := onebotHTTP(t, http.MethodGet, b.HTTPURL()+"/get_login_info?access_token=tok", "", ""); status != http.StatusOK {
				t.Errorf("token as query parameter: %d %s", status, body)
			}
			status, body := onebotHTTP(t, http.MethodPost, b.HTTPURL()+"/get_login_info", "tok", `{not json`)
			if status != tc.badJSONStatus {
				t.Errorf("bad JSON: %d %s, want HTTP %d", status, body, tc.badJSONStatus)
			}
			if tc.flavor == "llbot" && onebotObject(t, []byte(body))["retcode"] != float64(400) {
				t.Errorf("LLBot bad JSON: %s, want retcode 400", body)
			}
			if got := b.Actions(); !slices.Equal(got, []string{"get_login_info"}) {
				t.Errorf("Actions() = %v; want only the authorised call, refused ones are not actions", got)
			}
		})
	}
}

func TestOneBotHTTPSilentActionIsHeld(t *testing.T) {
	b := standInStart(t, NewOneBot(OneBotOptions{}))
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

// onebotSSE opens the stand-in's event stream.
func onebotSSE(t *testing.T, b *OneBot, token string) *bufio.Reader {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.HTTPURL()+"/_events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	// The timeout covers reading the stream, so a missing event fails the
	// test instead of hanging it.
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("/_events: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	return bufio.NewReader(resp.Body)
}

// onebotNextSSE reads one event's data lines, joined by newlines.
func onebotNextSSE(t *testing.T, r *bufio.Reader) (string, error) {
	t.Helper()
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return strings.Join(data, "\n"), nil
		}
		value, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("unexpected line %q: the bots send data lines only", line)
		}
		data = append(data, value)
	}
}

func TestOneBotSSE(t *testing.T) {
	alice := qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}
	b := standInStart(t, NewOneBot(OneBotOptions{Token: "tok"}))
	b.SetGroupName(712345678, "MC服务器交流群")
	stream := onebotSSE(t, b, "tok")
	ws := onebotDial(t, b, "tok")
	standInWaitConnected(t, b, 2) // the stream counts as a connection

	id := b.GroupMessage(712345678, alice, []qq.Segment{qq.Text("hi")})
	data, err := onebotNextSSE(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	ev := onebotObject(t, []byte(data))
	onebotSameKeys(t, "SSE group message", ev, onebotFixture(t, "napcat_group_message_array.json"))
	if ev["message_id"] != float64(id) {
		t.Errorf("SSE event = %v", ev)
	}
	if ws := onebotObject(t, standInRead(t, ws)); ws["message_id"] != float64(id) {
		t.Errorf("the WebSocket client got %v, want the same event", ws)
	}

	b.Emit([]byte("two\nlines"))
	if data, err := onebotNextSSE(t, stream); err != nil || data != "two\nlines" {
		t.Errorf("garbage frame read back as %q, %v", data, err)
	}

	b.Stop()
	if _, err := onebotNextSSE(t, stream); err == nil {
		t.Error("the stream went on after Stop")
	}
	if b.Connected() != 0 {
		t.Errorf("Connected() = %d after Stop", b.Connected())
	}
}

func TestOneBotSSEHeartbeats(t *testing.T) {
	// LLBot sends heartbeats to SSE clients; NapCat sends only events.
	b := standInStart(t, NewOneBot(OneBotOptions{Flavor: "llbot", HeartbeatInterval: 10 * time.Millisecond}))
	stream := onebotSSE(t, b, "")
	data, err := onebotNextSSE(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	heartbeat := onebotObject(t, []byte(data))
	onebotSameKeys(t, "SSE heartbeat", heartbeat, onebotFixture(t, "llbot_heartbeat.json"))
	if heartbeat["meta_event_type"] != "heartbeat" || heartbeat["interval"] != float64(10) {
		t.Errorf("heartbeat = %v", heartbeat)
	}
}

func TestOneBotPostWebhook(t *testing.T) {
	testutil.VerifyNoLeaks(t)
	var fixture struct {
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body_compact"`
	}
	if err := json.Unmarshal(standInFixture(t, "onebot", "http_post_webhook_request_headers.json"), &fixture); err != nil {
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

	signed := NewOneBot(OneBotOptions{Token: "my-secret"})
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

	unsigned := NewOneBot(OneBotOptions{})
	err := unsigned.PostWebhook(t.Context(), srv.URL+"?refuse=1", []byte(`{}`))
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "wrong X-Signature") {
		t.Errorf("refused post: %v; want the status and the answer", err)
	}
	if got := <-posts; got.header.Get("X-Signature") != "" || got.header.Get("X-Self-ID") != "2401234567" {
		t.Errorf("without a token: headers %v; want X-Self-ID and no X-Signature", got.header)
	}
}

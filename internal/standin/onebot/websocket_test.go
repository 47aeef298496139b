package onebot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/standin/standintest"
	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
	qqonebot "github.com/mcqq/bridge/qq/onebot"
)

func TestLifecycleAndHeartbeat(t *testing.T) {
	b := standintest.Start(t, New(Options{SelfID: 3300112233, HeartbeatInterval: 20 * time.Millisecond}))
	conn, _, err := websocket.DefaultDialer.Dial(b.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lifecycle := object(t, standintest.Read(t, conn))
	sameKeys(t, "lifecycle", lifecycle, fixture(t, "lifecycle_connect.json"))
	if lifecycle["sub_type"] != "connect" || lifecycle["self_id"] != float64(3300112233) {
		t.Errorf("lifecycle = %v", lifecycle)
	}
	heartbeat := object(t, standintest.Read(t, conn))
	sameKeys(t, "heartbeat", heartbeat, fixture(t, "napcat_heartbeat.json"))
	if heartbeat["meta_event_type"] != "heartbeat" || heartbeat["interval"] != float64(20) {
		t.Errorf("heartbeat = %v", heartbeat)
	}
	standintest.WaitConnected(t, b, 1)
}

func TestWrongTokenGets1403ThenClose(t *testing.T) {
	for _, tc := range []struct {
		flavor, fixture string
		closeCode       int
	}{
		{"napcat", "napcat_response_failed_token_ws.json", websocket.CloseNoStatusReceived},
		{"llbot", "llbot_response_failed_token_ws.json", websocket.ClosePolicyViolation},
	} {
		t.Run(tc.flavor, func(t *testing.T) {
			b := standintest.Start(t, New(Options{Token: "right", Flavor: tc.flavor}))
			for _, token := range []string{"wrong", ""} {
				h := http.Header{"Authorization": {"Bearer " + token}}
				conn, _, err := websocket.DefaultDialer.Dial(b.URL(), h)
				if err != nil {
					t.Fatalf("the upgrade itself must succeed: %v", err)
				}
				frame := object(t, standintest.Read(t, conn))
				if want := fixture(t, tc.fixture); !reflect.DeepEqual(frame, want) {
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
			dial(t, b, "right")
		})
	}
}

func TestTokenPrecedence(t *testing.T) {
	// NapCat prefers ?access_token=, LLBot the header (docs/protocols.md#onebot-tokens).
	for flavor, wantOK := range map[string]bool{"napcat": true, "llbot": false} {
		b := standintest.Start(t, New(Options{Token: "right", Flavor: flavor}))
		conn, _, err := websocket.DefaultDialer.Dial(b.URL()+"?access_token=right", http.Header{"Authorization": {"Bearer wrong"}})
		if err != nil {
			t.Fatal(err)
		}
		first := object(t, standintest.Read(t, conn))
		if accepted := first["post_type"] == "meta_event"; accepted != wantOK {
			t.Errorf("%s with right query and wrong header: accepted %v, want %v", flavor, accepted, wantOK)
		}
		conn.Close()
	}
}

func TestReplyShapes(t *testing.T) {
	for _, flavor := range []string{"napcat", "llbot"} {
		t.Run(flavor, func(t *testing.T) {
			b := standintest.Start(t, New(Options{Flavor: flavor}))
			b.AddMember(712345678, qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"})
			b.SetGroupName(712345678, "MC服务器交流群")
			conn := dial(t, b, "")

			unknown := call(t, conn, `{"action":"send_group_message","params":{},"echo":"mcbridge-45"}`)
			sameKeys(t, "unknown action", unknown, fixture(t, flavor+"_response_failed_unknown_action.json"))
			if unknown["retcode"] != float64(1404) || unknown["echo"] != "mcbridge-45" || unknown["status"] != "failed" {
				t.Errorf("unknown action reply = %v", unknown)
			}

			member := call(t, conn, `{"action":"get_group_member_info","params":{"group_id":"712345678","user_id":1019283746},"echo":"mcbridge-50"}`)
			wantMember := fixture(t, flavor+"_get_group_member_info_response.json")
			sameKeys(t, "member reply", member, wantMember)
			data, _ := member["data"].(map[string]any)
			sameKeys(t, "member data", data, wantMember["data"].(map[string]any))
			if data["card"] != "[管理] Alice_MC" || data["role"] != "admin" {
				t.Errorf("member data = %v", data)
			}

			group := call(t, conn, `{"action":"get_group_info","params":{"group_id":712345678},"echo":"mcbridge-52"}`)
			wantGroup := fixture(t, flavor+"_get_group_info_response.json")
			groupData, _ := group["data"].(map[string]any)
			sameKeys(t, "group data", groupData, wantGroup["data"].(map[string]any))
			if groupData["group_name"] != "MC服务器交流群" {
				t.Errorf("group data = %v", groupData)
			}

			missing := call(t, conn, `{"action":"get_group_member_info","params":{"group_id":712345678,"user_id":1},"echo":7}`)
			if missing["retcode"] != float64(1200) || missing["echo"] != float64(7) || missing["message"] == "" {
				t.Errorf("unknown member reply = %v (the echo must come back unchanged)", missing)
			}
			badParams := call(t, conn, `{"action":"send_group_msg","params":{"message":"x"},"echo":"e"}`)
			if badParams["retcode"] != float64(1400) {
				t.Errorf("send without group_id = %v", badParams)
			}
			if got := b.Served("get_group_member_info"); got != 1 {
				t.Errorf("Served(get_group_member_info) = %d; want 1, the unknown member's failure left out", got)
			}
			if got := b.Served("send_group_msg"); got != 0 {
				t.Errorf("Served(send_group_msg) = %d after a refused send", got)
			}
		})
	}
}

func TestRecordsSends(t *testing.T) {
	b := standintest.Start(t, New(Options{Flavor: "llbot"}))
	conn := dial(t, b, "")
	for _, frame := range []string{
		`{"action":"send_group_msg","params":{"group_id":712345678,"message":[{"type":"text","data":{"text":"[MC] <Steve> "}},{"type":"at","data":{"qq":1019283746}}]},"echo":"1"}`,
		`{"action":"send_group_msg","params":{"group_id":"712345678","message":"a[CQ:face,id=14]b"},"echo":"2"}`,
		`{"action":"send_group_msg","params":{"group_id":712345678,"message":"[MC] <Steve> a[b]c & d","auto_escape":true},"echo":"3"}`,
		`{"action":"send_msg","params":{"user_id":1019283746,"message":{"type":"text","data":{"text":"hi"}}},"echo":"4"}`,
	} {
		reply := call(t, conn, frame)
		sameKeys(t, "send reply", reply, fixture(t, "llbot_send_group_msg_response_ok.json"))
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
			Message: []qq.Segment{qq.Text("[MC] <Steve> "), {Type: "at", Target: "1019283746"}}},
		{Action: "send_group_msg", GroupID: 712345678, Text: "ab",
			Message: []qq.Segment{qq.Text("a"), {Type: "face", ID: "14"}, qq.Text("b")}},
		{Action: "send_group_msg", GroupID: 712345678, Text: "[MC] <Steve> a[b]c & d",
			Message: []qq.Segment{qq.Text("[MC] <Steve> a[b]c & d")}},
		{Action: "send_msg", UserID: 1019283746, Text: "hi", Message: []qq.Segment{qq.Text("hi")}},
	}
	for i := range want {
		got := sent[i]
		got.Raw, got.At = nil, time.Time{}
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

func TestMessageEventShapes(t *testing.T) {
	alice := qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}
	segs := []qq.Segment{
		qq.Text("a[b] & c"),
		{Type: "image", URL: "https://x/?a=1&b=2"},
	}
	for _, tc := range []struct {
		flavor, fixture string
		stringFormat    bool
	}{
		{"napcat", "napcat_group_message_array.json", false},
		{"napcat", "napcat_group_message_array.json", true},
		{"llbot", "llbot_group_message_array.json", false},
	} {
		b := standintest.Start(t, New(Options{Flavor: tc.flavor, StringFormat: tc.stringFormat}))
		b.SetGroupName(712345678, "MC服务器交流群")
		conn := dial(t, b, "")
		id := b.GroupMessage(712345678, alice, segs)

		frame := standintest.Read(t, conn)
		ev := object(t, frame)
		sameKeys(t, tc.fixture, ev, fixture(t, tc.fixture))
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
		decoded, kind, err := qqonebot.DecodeEvent(frame)
		if err != nil || kind != qqonebot.FrameGroupMessage || !reflect.DeepEqual(decoded.Message.Segments, segs) ||
			decoded.Message.Sender != alice || decoded.GroupName != "MC服务器交流群" {
			t.Errorf("%s: decoded %+v, kind %v, err %v", tc.fixture, decoded, kind, err)
		}

		got := call(t, conn, `{"action":"get_msg","params":{"message_id":`+strconv.FormatInt(id, 10)+`},"echo":"m"}`)
		data, _ := got["data"].(map[string]any)
		if data["raw_message"] != ev["raw_message"] {
			t.Errorf("get_msg returned %v", got)
		}
	}
}

func TestPrivateMessageShape(t *testing.T) {
	b := standintest.Start(t, New(Options{}))
	conn := dial(t, b, "")
	b.PrivateMessage(1019283746, qq.Member{Nickname: "Alice"}, []qq.Segment{qq.Text("在吗")})
	ev := object(t, standintest.Read(t, conn))
	sameKeys(t, "private message", ev, fixture(t, "napcat_private_message_array.json"))
	if ev["sub_type"] != "friend" || ev["target_id"] != float64(1019283746) {
		t.Errorf("private message = %v", ev)
	}
}

func TestEmitReachesEveryClient(t *testing.T) {
	b := standintest.Start(t, New(Options{}))
	first, second := dial(t, b, ""), dial(t, b, "")
	standintest.WaitConnected(t, b, 2)
	b.Emit([]byte(`garbage`))
	for _, conn := range []*websocket.Conn{first, second} {
		if got := string(standintest.Read(t, conn)); got != "garbage" {
			t.Errorf("client got %q", got)
		}
	}
}

func TestSilentAction(t *testing.T) {
	b := standintest.Start(t, New(Options{}))
	conn := dial(t, b, "")
	b.SetSilent("get_group_info", true)
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"action":"get_group_info","params":{"group_id":1},"echo":"silent"}`)); err != nil {
		t.Fatal(err)
	}
	// The next action's reply is the next frame: the silent one got none.
	reply := call(t, conn, `{"action":"get_login_info","echo":"next"}`)
	if reply["echo"] != "next" || reply["data"].(map[string]any)["user_id"] != float64(2401234567) {
		t.Fatalf("reply after a silent action = %v", reply)
	}
	if got := b.Actions(); !slices.Equal(got, []string{"get_group_info", "get_login_info"}) {
		t.Errorf("Actions() = %v; silent actions are still recorded", got)
	}
}

func TestStopAndRestart(t *testing.T) {
	b := standintest.Start(t, New(Options{}))
	conn := dial(t, b, "")
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
	dial(t, b, "")
	standintest.WaitConnected(t, b, 1)
}

func TestDialReverse(t *testing.T) {
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

	b := New(Options{Token: "tok", SelfID: 3300112233, Flavor: "llbot"})
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
	standintest.WaitConnected(t, b, 1)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("DialReverse after ctx ended = %v, want nil", err)
	}
	if b.Connected() != 0 {
		t.Errorf("Connected() = %d after DialReverse returned", b.Connected())
	}
}

// The path a forward WebSocket is opened on decides what it carries, as in
// NapCat and LLBot: /api answers actions but sends no lifecycle event and no
// events (both bots); LLBot's /event sends events and ignores actions.
func TestSocketPathDecidesWhatItCarries(t *testing.T) {
	alice := qq.Member{UserID: 1019283746, Nickname: "Alice"}
	const action = `{"action":"get_login_info","params":{},"echo":"e1"}`

	t.Run("api", func(t *testing.T) {
		for _, flavor := range []string{"napcat", "llbot"} {
			b := standintest.Start(t, New(Options{Flavor: flavor}))
			conn, _, err := websocket.DefaultDialer.Dial(b.URL()+"api", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// The first frame is the answer: no lifecycle event came first.
			if err := conn.WriteMessage(websocket.TextMessage, []byte(action)); err != nil {
				t.Fatal(err)
			}
			if first := object(t, standintest.Read(t, conn)); first["echo"] != "e1" {
				t.Fatalf("%s /api: first frame %v; want the answer", flavor, first)
			}
			// An event pushed now is not sent: the answer to the next
			// action is the next frame.
			b.GroupMessage(712345678, alice, []qq.Segment{qq.Text("hi")})
			if err := conn.WriteMessage(websocket.TextMessage, []byte(strings.Replace(action, "e1", "e2", 1))); err != nil {
				t.Fatal(err)
			}
			if next := object(t, standintest.Read(t, conn)); next["echo"] != "e2" {
				t.Errorf("%s /api sent %v", flavor, next)
			}
		}
	})
	t.Run("event", func(t *testing.T) {
		for _, c := range []struct {
			flavor   string
			answered bool
		}{{"napcat", true}, {"llbot", false}} {
			b := standintest.Start(t, New(Options{Flavor: c.flavor}))
			conn, _, err := websocket.DefaultDialer.Dial(b.URL()+"event", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// A reader goroutine; the pong to a ping sent after the action
			// says the stand-in has read the action, and answered it if it
			// answers at all.
			pong := make(chan struct{})
			conn.SetPongHandler(func(string) error { close(pong); return nil })
			frames := make(chan map[string]any, 16)
			go func() {
				defer close(frames)
				for {
					_, f, err := conn.ReadMessage()
					if err != nil {
						return
					}
					var m map[string]any
					_ = json.Unmarshal(f, &m)
					frames <- m
				}
			}()
			if err := conn.WriteMessage(websocket.TextMessage, []byte(action)); err != nil {
				t.Fatal(err)
			}
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-pong:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s /event: no pong", c.flavor)
			}
			b.GroupMessage(712345678, alice, []qq.Segment{qq.Text("hi")})
			var seen []map[string]any
			for f := range frames {
				if f["message_type"] == "group" {
					break
				}
				seen = append(seen, f)
			}
			answered := slices.ContainsFunc(seen, func(f map[string]any) bool { return f["echo"] == "e1" })
			if answered != c.answered || len(seen) == 0 || seen[0]["meta_event_type"] != "lifecycle" {
				t.Errorf("%s /event: answered %v, want %v; frames before the event: %v", c.flavor, answered, c.answered, seen)
			}
		}
	})
}

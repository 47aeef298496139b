package queqiao

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/standin/standintest"
	"github.com/mcqq/bridge/internal/testutil"
)

// dial connects like a bot; the handshake always succeeds at the
// HTTP level, since the plugin validates after the upgrade.
func dial(t *testing.T, target string, h http.Header) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(target, h)
	if err != nil {
		t.Fatalf("dial %s: %v", target, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return v
}

// sameShape reports where got and want differ in shape: the same
// keys in every object, the same JSON types; a null on either side matches
// anything (the plugin writes null for whatever it does not know).
func sameShape(got, want any, path string) []string {
	if got == nil || want == nil {
		return nil
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{path + ": not an object"}
		}
		var diffs []string
		for k := range w {
			if _, ok := g[k]; !ok {
				diffs = append(diffs, path+"."+k+": missing")
			}
		}
		for k, gv := range g {
			wv, ok := w[k]
			if !ok {
				diffs = append(diffs, path+"."+k+": not in the fixture")
				continue
			}
			diffs = append(diffs, sameShape(gv, wv, path+"."+k)...)
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{path + ": not an array"}
		}
		var diffs []string
		for i := range min(len(g), len(w)) {
			diffs = append(diffs, sameShape(g[i], w[i], path+"[]")...)
		}
		return diffs
	default:
		if reflect.TypeOf(got) != reflect.TypeOf(want) {
			return []string{path + ": " + reflect.TypeOf(got).String() + ", fixture has " + reflect.TypeOf(want).String()}
		}
		return nil
	}
}

func TestHandshakeRejections(t *testing.T) {
	var fixture []struct {
		CloseCode   int    `json:"close_code"`
		CloseReason string `json:"close_reason"`
	}
	if err := json.Unmarshal(standintest.Fixture(t, "handshake_rejections.json"), &fixture); err != nil {
		t.Fatal(err)
	}
	if len(fixture) != 6 {
		t.Fatalf("fixture has %d rejections, want the plugin's 6", len(fixture))
	}
	q := standintest.Start(t, New(Options{ServerName: "My Server", Token: "tok"}))
	auth := "Bearer tok"
	cases := []struct {
		name   string
		header http.Header
		reason int // index into the fixture, in the plugin's order
	}{
		{"missing name", header("Authorization", auth), 0},
		{"origin minecraft", header("x-self-name", "My+Server", "x-client-origin", "Minecraft", "Authorization", auth), 1},
		{"origin checked before the name", header("x-self-name", "Lobby", "x-client-origin", "minecraft"), 1},
		{"undecodable name", header("x-self-name", "My%zzServer", "Authorization", auth), 2},
		{"name decodes to blank", header("x-self-name", "%20", "Authorization", auth), 3},
		{"wrong name", header("x-self-name", "Lobby", "Authorization", auth), 4},
		{"name checked before the token", header("x-self-name", "Lobby"), 4},
		{"wrong token", header("x-self-name", "My+Server", "Authorization", "Bearer nope"), 5},
		{"token without Bearer", header("x-self-name", "My%20Server", "Authorization", "tok"), 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := dial(t, q.URL(), tc.header)
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _, err := conn.ReadMessage()
			want := fixture[tc.reason]
			ce, ok := err.(*websocket.CloseError)
			if !ok || ce.Code != want.CloseCode || ce.Text != want.CloseReason {
				t.Errorf("got %v, want close %d %q", err, want.CloseCode, want.CloseReason)
			}
		})
	}
	if n := q.Connected(); n != 0 {
		t.Errorf("Connected() = %d after rejections", n)
	}

	accepted := []struct {
		name   string
		target string
		header http.Header
	}{
		{"headers, name URL-encoded", q.URL(), header("x-self-name", "My+Server", "Authorization", auth, "x-client-origin", "mcqq-bridge")},
		{"query parameters (0.5.0+)", q.URL() + "minecraft/ws?x-self-name=My%2BServer&Authorization=Bearer%20tok", nil},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			// An accepted connection is answered instead of closed.
			conn := dial(t, tc.target, tc.header)
			if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"api":"foo","echo":"1"}`)); err != nil {
				t.Fatal(err)
			}
			if got := string(standintest.Read(t, conn)); !strings.Contains(got, `"code":404`) {
				t.Errorf("got %s, want the unknown-API answer", got)
			}
		})
	}
}

func TestAnswersLikeThePlugin(t *testing.T) {
	q := standintest.Start(t, New(Options{}))
	conn := dial(t, q.URL(), header("x-self-name", "Server"))
	roundTrip := func(t *testing.T, request []byte) any {
		t.Helper()
		if err := conn.WriteMessage(websocket.TextMessage, request); err != nil {
			t.Fatal(err)
		}
		return decode(t, standintest.Read(t, conn))
	}

	exact := []struct{ request, response string }{
		{"api_broadcast_request.json", "api_broadcast_response.json"},
		{"api_send_title_request.json", "api_send_title_response.json"},
		{"api_send_title_missing_both_request.json", "api_send_title_missing_both_response.json"},
		{"api_send_actionbar_request.json", "api_send_actionbar_response.json"},
		{"api_send_private_msg_request.json", "api_send_private_msg_not_online_response.json"},
		{"api_send_private_msg_no_target_request.json", "api_send_private_msg_no_target_response.json"},
		{"api_send_rcon_command_request.json", "api_send_rcon_command_disabled_response.json"},
		{"api_send_command_request.json", "api_send_command_response.json"},
		{"api_unknown_request.json", "api_unknown_response.json"},
	}
	for _, tc := range exact {
		t.Run(tc.request, func(t *testing.T) {
			got := roundTrip(t, standintest.Fixture(t, tc.request))
			if want := decode(t, standintest.Fixture(t, tc.response)); !reflect.DeepEqual(got, want) {
				t.Errorf("response\n got %v\nwant %v (%s)", got, want, tc.response)
			}
		})
	}

	t.Run("rcon command", func(t *testing.T) {
		q.SetRCON(func(cmd string) string { return "There are 0 of a max of 20 players online: " })
		t.Cleanup(func() { q.SetRCON(nil) })
		got := roundTrip(t, standintest.Fixture(t, "api_send_rcon_command_request.json"))
		if want := decode(t, standintest.Fixture(t, "api_send_rcon_command_response.json")); !reflect.DeepEqual(got, want) {
			t.Errorf("response\n got %v\nwant %v", got, want)
		}
	})

	t.Run("private message to an online player", func(t *testing.T) {
		q.SetOnline("17TheWord")
		t.Cleanup(func() { q.SetOnline() })
		got := roundTrip(t, standintest.Fixture(t, "api_send_private_msg_request.json"))
		want := decode(t, standintest.Fixture(t, "api_send_private_msg_response.json"))
		if diffs := sameShape(got, want, "$"); len(diffs) > 0 {
			t.Errorf("shape differs from the fixture: %v", diffs)
		}
		target := got.(map[string]any)["data"].(map[string]any)["target_player"]
		if target == nil || target.(map[string]any)["nickname"] != "17TheWord" {
			t.Errorf("target_player %v", target)
		}
	})

	t.Run("get_status", func(t *testing.T) {
		got := roundTrip(t, standintest.Fixture(t, "api_get_status_request.json"))
		want := decode(t, standintest.Fixture(t, "api_get_status_response.json"))
		// The game sends a favicon only when the server has an icon.
		delete(want.(map[string]any)["data"].(map[string]any)["server_list_ping"].(map[string]any), "favicon")
		if diffs := sameShape(got, want, "$"); len(diffs) > 0 {
			t.Errorf("shape differs from the fixture: %v", diffs)
		}
	})

	t.Run("unparsable request loses api and echo", func(t *testing.T) {
		// The fixture's rawJsonMessage is the request that failed.
		want := decode(t, standintest.Fixture(t, "api_parse_error_response.json"))
		raw := want.(map[string]any)["data"].(map[string]any)["rawJsonMessage"].(string)
		if got := roundTrip(t, []byte(raw)); !reflect.DeepEqual(got, want) {
			t.Errorf("response\n got %v\nwant %v", got, want)
		}
		got := roundTrip(t, []byte(`{"echo":"x"`)).(map[string]any)
		if got["code"] != 500.0 || got["echo"] != nil || got["api"] != nil {
			t.Errorf("invalid JSON answered %v", got)
		}
	})

	t.Run("numeric echo comes back as a string", func(t *testing.T) {
		got := roundTrip(t, []byte(`{"api":"broadcast","data":{"message":{"text":"x"}},"echo":42}`)).(map[string]any)
		if got["echo"] != "42" {
			t.Errorf("echo %#v", got["echo"])
		}
	})

	t.Run("silent api", func(t *testing.T) {
		q.SetSilent("send_actionbar", true)
		before := len(q.Requests())
		if err := conn.WriteMessage(websocket.TextMessage, standintest.Fixture(t, "api_send_actionbar_request.json")); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(q.Requests()) == before { // received, and left unanswered
			if time.Now().After(deadline) {
				t.Fatal("the request never arrived")
			}
			time.Sleep(5 * time.Millisecond)
		}
		q.SetSilent("send_actionbar", false)
		// The next answer is to the next request: the silent one got none.
		got := roundTrip(t, standintest.Fixture(t, "api_unknown_request.json")).(map[string]any)
		if got["api"] != "foo" {
			t.Errorf("got %v, want the answer to the next request", got)
		}
	})

	apis := []string{}
	for _, r := range q.Requests() {
		apis = append(apis, r.API)
	}
	wantAPIs := []string{"broadcast", "send_title", "send_title", "send_actionbar", "send_private_msg",
		"send_private_msg", "send_rcon_command", "send_command", "foo", "send_rcon_command", "send_private_msg",
		"get_status", "send_private_msg", "broadcast", "send_actionbar", "foo"}
	if !slices.Equal(apis, wantAPIs) {
		t.Errorf("Requests() APIs\n got %v\nwant %v", apis, wantAPIs)
	}
}

func TestEventShapes(t *testing.T) {
	q := standintest.Start(t, New(Options{}))
	conn := dial(t, q.URL(), header("x-self-name", "Server"))
	standintest.WaitConnected(t, q, 1) // the handshake is checked after the 101
	cases := []struct {
		fixture string
		emit    func()
	}{
		{"event_player_chat.json", func() { q.Chat("Steve", "Hello, world!") }},
		{"event_player_command.json", func() { q.Command("Steve", "tp Steve 0 64 0") }},
		{"event_player_join.json", func() { q.Join("Steve") }},
		{"event_player_quit.json", func() { q.Quit("Steve") }},
		{"event_player_death.json", func() {
			q.Death("Steve", "death.attack.mob", []string{"Steve", "entity.minecraft.zombie:Zombie"}, "Steve was slain by Zombie")
		}},
		{"event_player_death_spigot.json", func() { q.Death("Steve", "", nil, "Steve was slain by Zombie") }},
		{"event_player_achievement.json", func() {
			q.Advancement("Steve", "minecraft:story/mine_stone", "advancements.story.mine_stone.title", "Stone Age")
		}},
		{"event_player_achievement_spigot.json", func() { q.Advancement("Steve", "minecraft:recipes/misc/stick", "", "") }},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			tc.emit()
			got := decode(t, standintest.Read(t, conn))
			want := decode(t, standintest.Fixture(t, tc.fixture))
			if diffs := sameShape(got, want, "$"); len(diffs) > 0 {
				t.Errorf("shape differs from the fixture: %v", diffs)
			}
			g, w := got.(map[string]any), want.(map[string]any)
			for _, k := range []string{"event_name", "post_type", "sub_type"} {
				if g[k] != w[k] {
					t.Errorf("%s = %v, fixture has %v", k, g[k], w[k])
				}
			}
		})
	}
}

func TestStopRestart(t *testing.T) {
	q := standintest.Start(t, New(Options{}))
	url := q.URL()
	conn := dial(t, url, header("x-self-name", "Server"))
	q.Stop()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := conn.ReadMessage(); err == nil {
		t.Fatal("connection survived Stop")
	}
	if _, _, err := websocket.DefaultDialer.Dial(url, nil); err == nil {
		t.Fatal("dial succeeded while stopped")
	}
	if err := q.Restart(); err != nil {
		t.Fatal(err)
	}
	if q.URL() != url {
		t.Errorf("URL changed from %s to %s", url, q.URL())
	}
	conn = dial(t, url, header("x-self-name", "Server"))
	standintest.WaitConnected(t, q, 1) // the handshake is checked after the 101
	q.Join("Steve")
	if frame := standintest.Read(t, conn); !strings.Contains(string(frame), "PlayerJoinEvent") {
		t.Errorf("after restart got %s", frame)
	}
}

func TestDialReverse(t *testing.T) {
	testutil.VerifyNoLeaks(t)
	headers := make(chan http.Header, 1)
	var bot *websocket.Conn
	connected := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/refuse" {
			http.Error(w, "wrong token", http.StatusForbidden)
			return
		}
		headers <- r.Header.Clone()
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		bot = c
		close(connected)
	}))
	t.Cleanup(srv.Close)
	base := "ws" + strings.TrimPrefix(srv.URL, "http")

	q := New(Options{ServerName: "My Server", Token: "tok"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	if err := q.DialReverse(ctx, base+"/refuse"); err == nil || !strings.Contains(err.Error(), "403") ||
		!strings.Contains(err.Error(), "wrong token") {
		t.Errorf("refused dial: %v, want the status and body", err)
	}

	done := make(chan error, 1)
	go func() { done <- q.DialReverse(ctx, base+"/minecraft/ws") }()
	h := <-headers
	<-connected
	defer bot.Close()
	// As the plugin's WsClient: URLEncoder name, origin minecraft, Bearer token.
	if h.Get("x-self-name") != "My+Server" || h.Get("x-client-origin") != "minecraft" || h.Get("Authorization") != "Bearer tok" {
		t.Errorf("handshake headers %v", h)
	}
	if err := bot.WriteMessage(websocket.TextMessage, []byte(`{"api":"send_command","data":{"command":"list"},"echo":"5"}`)); err != nil {
		t.Fatal(err)
	}
	if got := standintest.Read(t, bot); !strings.Contains(string(got), `"send_command is not supported now"`) {
		t.Errorf("answer over the reverse connection: %s", got)
	}
	q.Chat("Steve", "hi")
	if got := standintest.Read(t, bot); !strings.Contains(string(got), `"PlayerChatEvent"`) {
		t.Errorf("event over the reverse connection: %s", got)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("DialReverse after ctx ended: %v, want nil", err)
	}
	// The plugin closed normally.
	_, _, err := bot.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("bot read %v, want close 1000", err)
	}
}

// Shown puts the message_prefix before each broadcast as the plugin does: a
// yellow component directly followed by the message; titles, action bars
// and private messages are not chat.
func TestShownAddsThePluginsPrefix(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"", `[{"color":"yellow","text":"[鹊桥]"},[{"text":" [群名1]","color":"aqua"},{"text":" 用户","color":"green"},{"text":"说:","color":"white"},{"text":"聊天内容","color":"white"}]]`},
		{"[MC]", `[{"color":"yellow","text":"[MC]"},[{"text":" [群名1]","color":"aqua"},{"text":" 用户","color":"green"},{"text":"说:","color":"white"},{"text":"聊天内容","color":"white"}]]`},
	} {
		q := standintest.Start(t, New(Options{MessagePrefix: tc.prefix}))
		conn := dial(t, q.URL(), header("x-self-name", "Server"))
		for _, f := range []string{"api_send_title_request.json", "api_broadcast_request.json", "api_send_actionbar_request.json"} {
			if err := conn.WriteMessage(websocket.TextMessage, standintest.Fixture(t, f)); err != nil {
				t.Fatal(err)
			}
			standintest.Read(t, conn)
		}
		shown := q.Shown()
		if len(shown) != 1 || string(shown[0]) != tc.want {
			t.Errorf("prefix %q: shown %s\nwant %s", tc.prefix, shown, tc.want)
		}
	}
}

package satori

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/mcqq/bridge/internal/standin/standintest"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/satori"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testToken = "tok"
	group     = 712345678
)

var (
	alice = qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}
	bob   = qq.Member{UserID: 1357924680, Nickname: "Bob", Role: "member"}
)

func start(t *testing.T, o Options) *Bot {
	t.Helper()
	o.Token = testToken
	b := standintest.Start(t, New(o))
	b.AddMember(group, alice)
	b.AddMember(group, bob)
	b.SetGroupName(group, "MC服务器交流群")
	return b
}

// identify opens the event stream and sends IDENTIFY with token.
func identify(t *testing.T, b *Bot, token string) *websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(b.URL(), "http") + "/v1/events"
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.WriteJSON(map[string]any{"op": 3, "body": map[string]any{"token": token, "sn": 0}}); err != nil {
		t.Fatal(err)
	}
	return conn
}

func call(t *testing.T, b *Bot, method string, header map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.URL()+"/v1/"+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer)
}

func authorized(platform string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + testToken, "Satori-Platform": platform, "Satori-User-ID": "2401234567"}
}

// keyPaths lists every object key path in a JSON document ("body.user.id"),
// array elements under "[]".
func keyPaths(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(string, any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, child := range x {
				out = append(out, prefix+k)
				walk(prefix+k+".", child)
			}
		case []any:
			for _, child := range x {
				walk(prefix+"[].", child)
			}
		}
	}
	walk("", v)
	sort.Strings(out)
	return slices.Compact(out)
}

// shapedLike fails unless every key of got also appears in the fixture.
func shapedLike(t *testing.T, got []byte, fixture string) {
	t.Helper()
	want := keyPaths(t, standintest.Fixture(t, fixture))
	for _, k := range keyPaths(t, got) {
		if _, found := slices.BinarySearch(want, k); !found {
			t.Errorf("%s: key %s is not in the fixture", fixture, k)
		}
	}
}

// The event stream: a wrong token closes with 4004, the right one gets
// READY, PING gets PONG, and messages arrive shaped like the fixtures and
// decode as the bridge reads them.
func TestEventStream(t *testing.T) {
	for _, koishi := range []bool{false, true} {
		flavour := map[bool]string{false: "llbot", true: "koishi"}[koishi]
		t.Run(flavour, func(t *testing.T) {
			b := start(t, Options{Koishi: koishi})
			bad := identify(t, b, "wrong")
			_ = bad.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, _, err := bad.ReadMessage(); !websocket.IsCloseError(err, closeBadToken) {
				t.Errorf("wrong token: %v, want close 4004", err)
			}

			conn := identify(t, b, testToken)
			ready := standintest.Read(t, conn)
			shapedLike(t, ready, flavour+"_ready.json")
			standintest.WaitConnected(t, b, 1)
			if err := conn.WriteJSON(map[string]any{"op": 1, "body": map[string]any{}}); err != nil {
				t.Fatal(err)
			}
			if pong := standintest.Read(t, conn); string(pong) != `{"body":{},"op":2}` {
				t.Errorf("PONG %s", pong)
			}
			if b.Pings() != 1 {
				t.Errorf("Pings() = %d", b.Pings())
			}

			asked := b.GroupMessage(group, bob, []qq.Segment{qq.Text("几点维护？")})
			standintest.Read(t, conn)
			b.GroupMessage(group, alice, []qq.Segment{
				{Type: qq.SegReply, ID: asked},
				{Type: qq.SegAt, Target: "1357924680"},
				qq.Text(" 八点 & <b>"),
				{Type: qq.SegFace, ID: "14"},
				{Type: qq.SegImage, URL: "https://example.com/a.png?x=1&y=2"},
			})
			ev := standintest.Read(t, conn)
			shapedLike(t, ev, flavour+"_message_created_group.json")
			f, err := satori.DecodeFrame(ev)
			if err != nil {
				t.Fatal(err)
			}
			got, kind, _, err := satori.DecodeEvent(f.Body)
			if err != nil || kind != satori.KindMessage || got.GroupID != group {
				t.Fatalf("decoded %v %v %+v", kind, err, got)
			}
			wantRole := map[bool]string{false: "", true: "admin"}[koishi] // LLBot sends no roles
			if s := got.Message.Sender; s.UserID != alice.UserID || s.Card != alice.Card || s.Role != wantRole {
				t.Errorf("sender %+v", s)
			}
			segs := got.Message.Segments
			if len(segs) != 5 || segs[0].Quoted == nil || segs[0].Quoted.PlainText() != "几点维护？" ||
				segs[1].Name != "Bob" || segs[2].Text != " 八点 & <b>" || segs[3].ID != "14" ||
				segs[4].URL != "https://example.com/a.png?x=1&y=2" {
				t.Errorf("segments %+v", segs)
			}
		})
	}
}

// The API: token, login headers, GET and unknown methods are refused as
// the servers do; look-ups answer fixture-shaped objects; message.create is
// recorded decoded.
func TestAPI(t *testing.T) {
	for _, koishi := range []bool{false, true} {
		flavour, platform := "llbot", "llonebot"
		if koishi {
			flavour, platform = "koishi", "onebot"
		}
		t.Run(flavour, func(t *testing.T) {
			b := start(t, Options{Koishi: koishi})
			for name, c := range map[string]struct {
				header map[string]string
				status int
				body   string
			}{
				"wrong token": {map[string]string{"Authorization": "Bearer x", "Satori-Platform": platform, "Satori-User-ID": "2401234567"}, 403, "invalid token"},
				"no login":    {map[string]string{"Authorization": "Bearer " + testToken}, 403, "login not found"},
				"other bot":   {map[string]string{"Authorization": "Bearer " + testToken, "Satori-Platform": platform, "Satori-User-ID": "1"}, 403, "login not found"},
			} {
				if status, body := call(t, b, "guild.get", c.header, `{"guild_id":"712345678"}`); status != c.status || strings.TrimSpace(body) != c.body {
					t.Errorf("%s: %d %q", name, status, body)
				}
			}
			if status, _ := call(t, b, "guild.nothing", authorized(platform), `{}`); status != 404 {
				t.Errorf("unknown method: %d", status)
			}
			if koishi { // Koishi also reads X-Platform / X-Self-ID
				old := map[string]string{"Authorization": "Bearer " + testToken, "X-Platform": "onebot", "X-Self-ID": "2401234567"}
				if status, body := call(t, b, "guild.get", old, `{"guild_id":"712345678"}`); status != 200 {
					t.Errorf("X- headers: %d %s", status, body)
				}
			}

			status, body := call(t, b, "guild.member.get", authorized(platform), `{"guild_id":"712345678","user_id":"1019283746"}`)
			if status != 200 {
				t.Fatalf("guild.member.get: %d %s", status, body)
			}
			shapedLike(t, []byte(body), flavour+"_guild_member_get_response.json")
			if !strings.Contains(body, `"admin"`) {
				t.Errorf("member without the admin role: %s", body)
			}
			if status, body := call(t, b, "guild.member.get", authorized(platform), `{"guild_id":"712345678","user_id":"42"}`); status != 500 || body == "" {
				t.Errorf("unknown member: %d %q", status, body)
			}

			id := b.GroupMessage(group, bob, []qq.Segment{qq.Text("几点维护？")})
			status, body = call(t, b, "message.get", authorized(platform), `{"channel_id":"712345678","message_id":"`+id+`"}`)
			if status != 200 || !strings.Contains(body, "几点维护？") {
				t.Errorf("message.get: %d %s", status, body)
			}
			if !koishi {
				shapedLike(t, []byte(body), "llbot_message_get_response.json")
			}

			content := `<quote id="` + satori.EscapeAttr(id) + `"/><at id="1357924680"/> 收到 &amp; 好`
			req, _ := json.Marshal(map[string]string{"channel_id": "712345678", "content": content})
			if status, body := call(t, b, "message.create", authorized(platform), string(req)); status != 200 || !strings.HasPrefix(body, "[{") {
				t.Errorf("message.create: %d %s", status, body)
			}
			sent := b.Sent()
			want := []qq.Segment{
				{Type: qq.SegReply, ID: id},
				{Type: qq.SegAt, Target: "1357924680"},
				qq.Text(" 收到 & 好"),
			}
			if len(sent) != 1 || sent[0].GroupID != group || sent[0].Text != " 收到 & 好" || !reflect.DeepEqual(sent[0].Message, want) {
				t.Errorf("Sent() = %+v", sent)
			}
			if status, body := call(t, b, "message.create", authorized(platform), `{"channel_id":"712345678","content":"<img/>"}`); status != 500 || len(b.Sent()) != 1 {
				t.Errorf("a picture without src: %d %q", status, body)
			}
			if calls := b.Calls(); !slices.Contains(calls, "message.create") {
				t.Errorf("Calls() = %v", calls)
			}
		})
	}
}

// Stop drops the streams like a crash; Restart serves the same port again.
func TestStopAndRestart(t *testing.T) {
	b := start(t, Options{})
	conn := identify(t, b, testToken)
	standintest.Read(t, conn) // READY
	standintest.WaitConnected(t, b, 1)
	b.Stop()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := conn.ReadMessage(); err == nil {
		t.Fatal("stream still open after Stop")
	}
	if b.Connected() != 0 {
		t.Errorf("Connected() = %d after Stop", b.Connected())
	}
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	identify(t, b, testToken)
	standintest.WaitConnected(t, b, 1)
}

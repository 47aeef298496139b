package milky

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/qq"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeMessageFixture(t *testing.T, raw []byte, wantKind Kind) qq.Event {
	t.Helper()
	ev, kind, err := DecodeEvent(raw)
	if err != nil {
		t.Fatalf("DecodeEvent: %v", err)
	}
	if kind != wantKind {
		t.Fatalf("kind = %v, want %v", kind, wantKind)
	}
	if ev.SelfID != 2401234567 {
		t.Errorf("SelfID = %d", ev.SelfID)
	}
	return ev
}

func wantNonEvent(kind Kind) func(t *testing.T, raw []byte) {
	return func(t *testing.T, raw []byte) {
		ev, got, err := DecodeEvent(raw)
		if err != nil || got != kind {
			t.Fatalf("DecodeEvent = %v, %v; want kind %v", got, err, kind)
		}
		if ev.Kind != 0 || ev.SelfID != 2401234567 {
			t.Errorf("non-event decoded as %+v", ev)
		}
	}
}

// wantAnswer checks an API answer fixture: it is no event, and the client's
// envelope decoding yields data (checked by check) or the APIError retcode.
func wantAnswer(check func(t *testing.T, data json.RawMessage), retcode int64) func(t *testing.T, raw []byte) {
	return func(t *testing.T, raw []byte) {
		if _, _, err := DecodeEvent(raw); err == nil {
			t.Error("an API answer decoded as an event")
		}
		var data json.RawMessage
		err := decodeAnswer("some_api", raw, &data)
		if retcode == 0 {
			if err != nil {
				t.Fatalf("decodeAnswer: %v", err)
			}
			check(t, data)
			return
		}
		var apiErr *qq.APIError
		if !errors.As(err, &apiErr) || apiErr.Retcode != retcode || apiErr.Message == "" || apiErr.Action != "some_api" {
			t.Fatalf("decodeAnswer error = %v, want an APIError with retcode %d", err, retcode)
		}
	}
}

// wantRequest checks a request fixture against the body the client sends.
func wantRequest(send func(c *Client) error) func(t *testing.T, raw []byte) {
	return func(t *testing.T, raw []byte) {
		if _, _, err := DecodeEvent(raw); err == nil {
			t.Error("an API request decoded as an event")
		}
		srv := newReplayServer(t)
		c, err := New(Options{BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if err := send(c); err != nil {
			t.Fatal(err)
		}
		assertJSONEqual(t, srv.lastBody(), raw)
	}
}

// TestFixtures decodes every fixture in testdata: events become qq.Events or
// are classified as non-events; API answers decode through the envelope;
// request fixtures equal what the client sends.
func TestFixtures(t *testing.T) {
	cases := map[string]func(t *testing.T, raw []byte){
		"milky_message_receive_group.json": func(t *testing.T, raw []byte) {
			ev := decodeMessageFixture(t, raw, KindMessage)
			if ev.Kind != qq.GroupMessage || ev.GroupID != 712345678 || ev.GroupName != "MC服务器交流群" {
				t.Errorf("event = %v group %d %q", ev.Kind, ev.GroupID, ev.GroupName)
			}
			m := ev.Message
			if m.ID != "group:712345678:48213" {
				t.Errorf("ID = %q", m.ID)
			}
			want := qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}
			if m.Sender != want {
				t.Errorf("Sender = %+v, want %+v", m.Sender, want)
			}
			if !m.Time.Equal(time.Unix(1765432100, 0)) {
				t.Errorf("Time = %v", m.Time)
			}
			if got := segmentTypes(m.Segments); got != "reply at text face image" {
				t.Fatalf("segment types = %q", got)
			}
			reply := m.Segments[0]
			if reply.ID != "48190" || reply.Quoted == nil {
				t.Fatalf("reply = %+v", reply)
			}
			if q := reply.Quoted; q.ID != "group:712345678:48190" || q.Sender.UserID != 1357924680 || q.PlainText() != "服务器什么时候维护？" {
				t.Errorf("quoted = %+v", q)
			}
			if at := m.Segments[1]; at.Target != "1357924680" || at.Name != "Bob" {
				t.Errorf("at = %+v", at)
			}
			if m.PlainText() != " 今晚8点服务器维护, [重要] 请提前下线 & 保存" {
				t.Errorf("text = %q", m.PlainText())
			}
			if img := m.Segments[4]; img.Sticker || !strings.HasPrefix(img.URL, "https://multimedia.nt.qq.com.cn/") {
				t.Errorf("image = %+v", img)
			}
		},
		"milky_message_receive_friend.json": func(t *testing.T, raw []byte) {
			ev := decodeMessageFixture(t, raw, KindMessage)
			if ev.Kind != qq.PrivateMessage || ev.GroupID != 0 {
				t.Errorf("event = %v group %d", ev.Kind, ev.GroupID)
			}
			if ev.Message.ID != "friend:1019283746:1022" || ev.Message.Sender != (qq.Member{UserID: 1019283746, Nickname: "Alice"}) {
				t.Errorf("message = %q from %+v", ev.Message.ID, ev.Message.Sender)
			}
			if ev.Message.PlainText() != "在吗？白名单加一下 Steve" {
				t.Errorf("text = %q", ev.Message.PlainText())
			}
		},
		"milky_message_receive_temp.json": func(t *testing.T, raw []byte) {
			ev := decodeMessageFixture(t, raw, KindMessage)
			if ev.Kind != qq.PrivateMessage || ev.GroupID != 0 || ev.Message.ID != "temp:1122334455:3" || ev.Message.Sender.UserID != 1122334455 {
				t.Errorf("event = %+v", ev)
			}
		},
		"milky_message_receive_group_self.json": func(t *testing.T, raw []byte) {
			ev := decodeMessageFixture(t, raw, KindOwnMessage)
			if ev.Message.Sender.UserID != ev.SelfID {
				t.Errorf("own message from %d", ev.Message.Sender.UserID)
			}
		},
		"milky_event_bot_offline.json": wantNonEvent(KindBotOffline),
		"milky_event_group_member_decrease.json": func(t *testing.T, raw []byte) {
			ev := decodeMessageFixture(t, raw, KindMemberLeft)
			if ev.Kind != qq.MemberLeft || ev.GroupID != 712345678 || ev.UserID != 1122334455 {
				t.Errorf("member left decoded as %+v", ev)
			}
		},
		"milky_event_group_member_increase.json":    wantNonEvent(KindOther),
		"milky_event_group_name_change.json":        wantNonEvent(KindOther),
		"milky_event_group_nudge.json":              wantNonEvent(KindOther),
		"milky_event_message_recall.json":           wantNonEvent(KindOther),
		"milky_incoming_segments_catalog.json":      func(t *testing.T, raw []byte) { decodeCatalog(t, raw) },
		"milky_http_401_unauthorized.json":          wantAnswer(nil, 401),
		"milky_http_404_api_not_found.json":         wantAnswer(nil, 404),
		"milky_response_failed_bad_params.json":     wantAnswer(nil, -400),
		"milky_response_failed_not_found.json":      wantAnswer(nil, -404),
		"milky_get_login_info_response.json":        wantAnswer(wantDataField("uin", "2401234567"), 0),
		"milky_get_impl_info_response.json":         wantAnswer(wantDataField("milky_version", "1.3"), 0),
		"milky_send_group_message_response.json":    wantAnswer(wantDataField("message_seq", "48215"), 0),
		"milky_get_group_info_response.json":        wantAnswer(wantDataField("group", ""), 0),
		"milky_get_group_member_info_response.json": wantAnswer(wantDataField("member", ""), 0),
		"milky_get_group_info_request.json": wantRequest(func(c *Client) error {
			_, err := c.GroupName(context.Background(), 712345678)
			return err
		}),
		"milky_get_group_member_info_request.json": wantRequest(func(c *Client) error {
			_, err := c.Member(context.Background(), 712345678, 1019283746)
			return err
		}),
		"milky_send_group_message_request.json": wantRequest(func(c *Client) error {
			return c.SendGroupMessage(context.Background(), 712345678, fixtureOutgoing)
		}),
	}
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		seen[name] = true
		check, ok := cases[name]
		if !ok {
			t.Errorf("fixture %s has no test case", name)
			continue
		}
		t.Run(name, func(t *testing.T) { check(t, readFixture(t, name)) })
	}
	for name := range cases {
		if !seen[name] {
			t.Errorf("test case for missing fixture %s", name)
		}
	}
}

func wantDataField(key, want string) func(t *testing.T, data json.RawMessage) {
	return func(t *testing.T, data json.RawMessage) {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(data, &fields); err != nil {
			t.Fatal(err)
		}
		raw, ok := fields[key]
		if !ok {
			t.Fatalf("data has no %q: %s", key, data)
		}
		if got, _ := wirejson.Scalar(raw); want != "" && got != want {
			t.Errorf("data.%s = %q, want %q", key, got, want)
		}
	}
}

// fixtureOutgoing is milky_send_group_message_request.json in the neutral
// model, as the relay would build it.
var fixtureOutgoing = []qq.Segment{
	{Type: qq.SegReply, ID: "group:712345678:48213"},
	qq.Text("[MC] <Steve> "),
	{Type: qq.SegAt, Target: "1019283746", Name: "Alice"},
	qq.Text(" 收到, 我马上下线"),
	{Type: qq.SegImage, URL: "https://mc.example.com/render/steve.png", Summary: "[图片]"},
}

func segmentTypes(segs []qq.Segment) string {
	var types []string
	for _, s := range segs {
		types = append(types, s.Type)
	}
	return strings.Join(types, " ")
}

func TestDecodeEventEdges(t *testing.T) {
	msg := func(data string) string {
		return `{"time":5,"self_id":"2401234567","event_type":"message_receive","data":` + data + `}`
	}
	t.Run("errors", func(t *testing.T) {
		for _, raw := range []string{
			``, `{`, `[]`, `null`, `{}`, `{"event_type":""}`, `{"event_type":7}`, `{"self_id":"x","event_type":"bot_offline"}`,
			msg(`"x"`),
			msg(`{"message_scene":"group","message_seq":1,"sender_id":1,"segments":[]}`),
			msg(`{"message_scene":"group","peer_id":1,"message_seq":1,"sender_id":1}`),
			msg(`{"message_scene":"group","peer_id":1,"message_seq":1,"sender_id":1,"segments":[{"type":""}]}`),
			msg(`{"message_scene":"group","peer_id":"one","message_seq":1,"sender_id":1,"segments":[]}`),
		} {
			if _, kind, err := DecodeEvent([]byte(raw)); err == nil {
				t.Errorf("DecodeEvent(%s) = %v, want an error", raw, kind)
			}
		}
	})
	t.Run("ids as strings, envelope time as fallback", func(t *testing.T) {
		ev, kind, err := DecodeEvent([]byte(msg(`{"message_scene":"group","peer_id":"712345678","message_seq":"9","sender_id":"10001","segments":[{"type":"text","data":{"text":"hi"}}]}`)))
		if err != nil || kind != KindMessage {
			t.Fatalf("DecodeEvent = %v, %v", kind, err)
		}
		if ev.GroupID != 712345678 || ev.Message.ID != "group:712345678:9" || ev.Message.Sender.UserID != 10001 || !ev.Message.Time.Equal(time.Unix(5, 0)) {
			t.Errorf("event = %+v", ev)
		}
	})
	t.Run("unknown scene is not an error", func(t *testing.T) {
		_, kind, err := DecodeEvent([]byte(msg(`{"message_scene":"guild","peer_id":1,"message_seq":1,"sender_id":1,"segments":[]}`)))
		if err != nil || kind != KindOther {
			t.Errorf("DecodeEvent = %v, %v; want KindOther", kind, err)
		}
	})
	t.Run("unknown event type", func(t *testing.T) {
		_, kind, err := DecodeEvent([]byte(`{"event_type":"friend_request","data":{"whatever":[1,2]}}`))
		if err != nil || kind != KindOther {
			t.Errorf("DecodeEvent = %v, %v; want KindOther", kind, err)
		}
	})
}

func TestParseMessageID(t *testing.T) {
	scene, peer, seq, err := parseMessageID("temp:1122334455:-3")
	if err != nil || scene != "temp" || peer != 1122334455 || seq != -3 {
		t.Errorf("parseMessageID = %q %d %d %v", scene, peer, seq, err)
	}
	for _, bad := range []string{"", "48213", "group:1", "group:x:1", "group:1:x", "guild:1:2", "group:0:1", "group:1:2:3"} {
		if _, _, _, err := parseMessageID(bad); err == nil {
			t.Errorf("parseMessageID(%q) accepted", bad)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"event_type":"message_receive","data":{"message_scene":"group","peer_id":"1","message_seq":2,"segments":[{"type":"reply","data":{"message_seq":"1","segments":[{"type":"reply","data":{}}]}}]}}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		ev, kind, err := DecodeEvent(frame)
		if err != nil {
			return
		}
		switch kind {
		case KindMessage, KindOwnMessage:
			if ev.Kind != qq.GroupMessage && ev.Kind != qq.PrivateMessage {
				t.Fatalf("message event with kind %v", ev.Kind)
			}
			if _, _, _, err := parseMessageID(ev.Message.ID); err != nil {
				t.Fatalf("ID %q does not parse back: %v", ev.Message.ID, err)
			}
			checkSegments(t, ev.Message.Segments)
		case KindMemberLeft:
			if ev.Kind != qq.MemberLeft || ev.GroupID == 0 || ev.UserID == 0 || ev.UserID == ev.SelfID {
				t.Fatalf("member left with kind %v, group %d, user %d", ev.Kind, ev.GroupID, ev.UserID)
			}
		case KindBotOffline, KindOther:
		default:
			t.Fatalf("unknown kind %v", kind)
		}
	})
}

package milky

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/standin/standintest"
	qqmilky "github.com/mcqq/bridge/qq/milky"
)

// A member leaving: subscribers get group_member_decrease like the
// fixture, the bridge's decoder reads who left which group, and
// get_group_member_info no longer finds them there.
func TestMemberLeaves(t *testing.T) {
	m := standintest.Start(t, New(Options{}))
	m.AddMember(712345678, alice)
	m.AddMember(723456789, alice)
	conn := dial(t, m, "")
	standintest.WaitConnected(t, m, 1)
	m.MemberLeaves(712345678, alice.UserID)
	typ, frame, err := conn.ReadMessage()
	if err != nil || typ != websocket.TextMessage {
		t.Fatalf("read: %v %v", typ, err)
	}
	var got, want struct {
		SelfID    int64          `json:"self_id"`
		EventType string         `json:"event_type"`
		Data      map[string]any `json:"data"`
	}
	if json.Unmarshal(frame, &got) != nil || json.Unmarshal(standintest.Fixture(t, "milky_event_group_member_decrease.json"), &want) != nil {
		t.Fatalf("not JSON: %s", frame)
	}
	want.Data["user_id"] = float64(alice.UserID)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event %s\nwant like the fixture %+v", frame, want)
	}
	ev, kind, err := qqmilky.DecodeEvent(frame)
	if err != nil || kind != qqmilky.KindMemberLeft || ev.GroupID != 712345678 || ev.UserID != alice.UserID {
		t.Errorf("decoded %+v, kind %v, err %v", ev, kind, err)
	}
	const js = "application/json"
	if _, body := post(t, m, "get_group_member_info", "", js, `{"group_id":712345678,"user_id":1019283746}`); !strings.Contains(string(body), `"retcode":-404`) {
		t.Errorf("the member is still there: %s", body)
	}
	if _, body := post(t, m, "get_group_member_info", "", js, `{"group_id":723456789,"user_id":1019283746}`); !strings.Contains(string(body), `"retcode":0`) {
		t.Errorf("the member left the other group too: %s", body)
	}
}

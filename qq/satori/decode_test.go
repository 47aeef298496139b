package satori

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/mcqq/bridge/qq"
)

// eventBody reads an EVENT frame fixture and returns its body.
func eventBody(t *testing.T, name string) []byte {
	t.Helper()
	f, err := DecodeFrame(readFixture(t, name))
	if err != nil || f.Op != opEvent {
		t.Fatalf("%s: op %d, %v", name, f.Op, err)
	}
	return f.Body
}

func TestDecodeLLBotGroupMessage(t *testing.T) {
	ev, kind, typ, err := DecodeEvent(eventBody(t, "llbot_message_created_group.json"))
	if err != nil || kind != KindMessage || typ != "message-created" {
		t.Fatalf("kind %v type %q err %v", kind, typ, err)
	}
	if ev.Kind != qq.GroupMessage || ev.GroupID != 712345678 || ev.GroupName != "MC服务器交流群" || ev.SelfID != 2401234567 {
		t.Errorf("event %+v", ev)
	}
	m := ev.Message
	// LLBot sends no roles with a message: the client looks the sender up.
	if m.Sender != (qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC"}) {
		t.Errorf("sender %+v", m.Sender)
	}
	if m.ID != "712345678/2|712345678|48213" || !m.Time.Equal(time.UnixMilli(1765432100000)) {
		t.Errorf("id %q time %v", m.ID, m.Time)
	}
	types := []string{}
	for _, s := range m.Segments {
		types = append(types, s.Type)
	}
	if !reflect.DeepEqual(types, []string{"reply", "at", "text", "face", "image"}) {
		t.Fatalf("segments %+v", m.Segments)
	}
	if q := m.Segments[0].Quoted; q == nil || q.PlainText() != "服务器今晚几点维护？" {
		t.Errorf("quoted %+v", q)
	}
	if got := m.Segments[2].Text; got != " 今晚8点服务器维护, [重要] 请提前下线 & 保存" {
		t.Errorf("text %q", got)
	}
}

func TestDecodeKoishiGroupMessage(t *testing.T) {
	ev, kind, _, err := DecodeEvent(eventBody(t, "koishi_message_created_group.json"))
	if err != nil || kind != KindMessage {
		t.Fatalf("kind %v err %v", kind, err)
	}
	if ev.Kind != qq.GroupMessage || ev.GroupID != 712345678 {
		t.Errorf("event %+v", ev)
	}
	if ev.Message.Sender != (qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}) {
		t.Errorf("sender %+v", ev.Message.Sender)
	}
	q := ev.Message.Segments[0].Quoted
	if q == nil || q.ID != "712345678/-904512377" || q.Sender.UserID != 1357924680 || q.PlainText() != "服务器今晚几点维护？" {
		t.Errorf("quoted %+v", q)
	}
	if f := ev.Message.Segments[3]; f.Type != qq.SegFace || f.ID != "14" {
		t.Errorf("face %+v (the nested picture is not content)", f)
	}
}

func TestDecodeOtherEvents(t *testing.T) {
	ev, kind, _, err := DecodeEvent(eventBody(t, "llbot_message_created_private.json"))
	if err != nil || kind != KindMessage || ev.Kind != qq.PrivateMessage || ev.Message.Sender.UserID != 1019283746 ||
		ev.Message.ID != "private:1019283746/1|u_8Hc3kTf9Zb0Qp1sYx2WvRA|1021" || ev.Message.PlainText() != "/mcs" {
		t.Errorf("private: %v %v %+v", kind, err, ev)
	}
	if _, kind, _, err := DecodeEvent(eventBody(t, "llbot_message_created_own.json")); err != nil || kind != KindOwnMessage {
		t.Errorf("own message: %v %v", kind, err)
	}
	if _, kind, typ, err := DecodeEvent(eventBody(t, "llbot_guild_member_added.json")); err != nil || kind != KindOther || typ != "guild-member-added" {
		t.Errorf("member added: %v %q %v", kind, typ, err)
	}
	// A member leaving (LLBot's shape: guild, user and member beside the
	// login); Koishi names only ids, older servers call it
	// guild-member-deleted; the bot itself leaving is nobody's business.
	ev, kind, typ, err := DecodeEvent(eventBody(t, "llbot_guild_member_removed.json"))
	if err != nil || kind != KindMemberLeft || typ != "guild-member-removed" ||
		ev.Kind != qq.MemberLeft || ev.GroupID != 712345678 || ev.UserID != 1122334455 || ev.SelfID != 2401234567 {
		t.Errorf("member removed: %v %q %v %+v", kind, typ, err, ev)
	}
	for _, body := range []string{
		`{"type":"guild-member-removed","self_id":"2401234567","guild":{"id":"712345678"},"member":{"user":{"id":"1122334455"}}}`,
		`{"type":"guild-member-deleted","guild":{"id":"712345678"},"user":{"id":1122334455}}`,
	} {
		if ev, kind, _, err := DecodeEvent([]byte(body)); err != nil || kind != KindMemberLeft || ev.GroupID != 712345678 || ev.UserID != 1122334455 {
			t.Errorf("%s: %v %v %+v", body, kind, err, ev)
		}
	}
	if _, kind, _, err := DecodeEvent([]byte(`{"type":"guild-member-removed","self_id":"2401234567","guild":{"id":"712345678"},"user":{"id":"2401234567"}}`)); err != nil || kind != KindOther {
		t.Errorf("the bot leaving: %v %v", kind, err)
	}
	// A channel inside a QQ guild is not a group.
	guildChannel := `{"type":"message-created","message":{"id":"1","content":"x"},"user":{"id":"1"},"channel":{"id":"9001","type":0},"guild":{"id":"5"}}`
	if _, kind, _, err := DecodeEvent([]byte(guildChannel)); err != nil || kind != KindOther {
		t.Errorf("guild channel: %v %v", kind, err)
	}
	for name, bad := range map[string]string{
		"not JSON":       `{"type":`,
		"no type":        `{"message":{}}`,
		"no message":     `{"type":"message-created"}`,
		"no channel":     `{"type":"message-created","message":{"id":"1","content":"x"},"user":{"id":"1"}}`,
		"user not a QQ":  `{"type":"message-created","message":{"id":"1","content":"x"},"user":{"id":"abc"},"channel":{"id":"712345678","type":0}}`,
		"ids of objects": `{"type":"message-created","message":{"id":{}},"channel":{"id":"1"}}`,
		"left, no guild": `{"type":"guild-member-removed","user":{"id":"1122334455"}}`,
		"left, nobody":   `{"type":"guild-member-removed","guild":{"id":"712345678"}}`,
	} {
		if _, _, _, err := DecodeEvent([]byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDecodeReady(t *testing.T) {
	for name, want := range map[string]Login{
		"llbot_ready.json":  {Platform: "llonebot", UserID: "2401234567", Name: "MC桥接机器人", Online: true},
		"koishi_ready.json": {Platform: "onebot", UserID: "2401234567", Name: "MC桥接机器人", Online: true},
	} {
		f, err := DecodeFrame(readFixture(t, name))
		if err != nil || f.Op != opReady {
			t.Fatalf("%s: %v %v", name, f.Op, err)
		}
		logins, err := DecodeReady(f.Body)
		if err != nil || len(logins) != 1 || logins[0] != want {
			t.Errorf("%s: %+v %v", name, logins, err)
		}
	}
	// Satori before 1.1 named the account by self_id only.
	logins, err := DecodeReady([]byte(`{"logins":[{"platform":"onebot","self_id":"42","status":0},{"platform":"","self_id":"1"}]}`))
	if err != nil || !reflect.DeepEqual(logins, []Login{{Platform: "onebot", UserID: "42"}}) {
		t.Errorf("old READY: %+v %v", logins, err)
	}
}

// guild.member.get answers give the role by name (LLBot) or id (Koishi).
func TestDecodeMemberAnswers(t *testing.T) {
	for _, name := range []string{"llbot_guild_member_get_response.json", "koishi_guild_member_get_response.json"} {
		var m wireMember
		if err := json.Unmarshal(readFixture(t, name), &m); err != nil {
			t.Fatal(err)
		}
		if got := m.member(1019283746); got != (qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}) {
			t.Errorf("%s: %+v", name, got)
		}
	}
	for want, roles := range map[string]string{
		"owner":  `[{"id":"3","name":"admin"},{"id":"4","name":"owner"}]`,
		"admin":  `[{"id":"member"},{"id":"Admin"}]`,
		"member": `[{"id":"2","name":"member"}]`,
		"":       `[{"id":"5","name":"helper"}]`,
	} {
		var rs []wireRole
		_ = json.Unmarshal([]byte(roles), &rs)
		if got := role(rs); got != want {
			t.Errorf("role(%s) = %q, want %q", roles, got, want)
		}
	}
}

func TestMessageIDs(t *testing.T) {
	for _, c := range []struct{ id, channel, msg string }{
		{"712345678/2|712345678|48213", "712345678", "2|712345678|48213"},
		{"private:1019283746/-904512377", "private:1019283746", "-904512377"},
		{"2|712345678|48213", "", "2|712345678|48213"},
		{"a/b", "", "a/b"}, // not a channel before the slash: a bare id
	} {
		if ch, msg := splitMessageID(c.id); ch != c.channel || msg != c.msg {
			t.Errorf("splitMessageID(%q) = %q, %q", c.id, ch, msg)
		}
	}
}

package onebot

import (
	"testing"

	"github.com/mcqq/bridge/internal/standin/standintest"
	"github.com/mcqq/bridge/qq"
	qqonebot "github.com/mcqq/bridge/qq/onebot"
)

// A member leaving: every client gets group_decrease with the fixture's
// keys, the bridge's codec reads who left which group, and
// get_group_member_info no longer finds them there.
func TestMemberLeaves(t *testing.T) {
	bob := qq.Member{UserID: 1357924680, Nickname: "Bob", Role: "member"}
	b := standintest.Start(t, New(Options{}))
	b.AddMember(712345678, bob)
	b.AddMember(723456789, bob)
	conn := dial(t, b, "")
	b.MemberLeaves(712345678, bob.UserID)
	frame := standintest.Read(t, conn)
	sameKeys(t, "group_decrease", object(t, frame), fixture(t, "notice_group_decrease.json"))
	ev, kind, err := qqonebot.DecodeEvent(frame)
	if err != nil || kind != qqonebot.FrameMemberLeft || ev.GroupID != 712345678 || ev.UserID != bob.UserID {
		t.Errorf("decoded %+v, kind %v, err %v", ev, kind, err)
	}
	if got := call(t, conn, `{"action":"get_group_member_info","params":{"group_id":712345678,"user_id":1357924680},"echo":"a"}`); got["status"] != "failed" {
		t.Errorf("the member is still there: %v", got)
	}
	if got := call(t, conn, `{"action":"get_group_member_info","params":{"group_id":723456789,"user_id":1357924680},"echo":"b"}`); got["status"] != "ok" {
		t.Errorf("the member left the other group too: %v", got)
	}
}

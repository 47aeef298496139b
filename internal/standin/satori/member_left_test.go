package satori

import (
	"testing"

	"github.com/mcqq/bridge/internal/standin/standintest"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/satori"
)

// A member leaving: the stream gets guild-member-removed shaped like
// LLBot's, the bridge's decoder reads who left which group, and the member
// is no longer found there.
func TestMemberLeaves(t *testing.T) {
	for _, koishi := range []bool{false, true} {
		flavour, platform := "llbot", "llonebot"
		if koishi {
			flavour, platform = "koishi", "onebot"
		}
		t.Run(flavour, func(t *testing.T) {
			b := start(t, Options{Koishi: koishi})
			conn := identify(t, b, testToken)
			standintest.Read(t, conn) // READY
			standintest.WaitConnected(t, b, 1)
			b.MemberLeaves(group, bob.UserID)
			frame := standintest.Read(t, conn)
			if !koishi {
				shapedLike(t, frame, "llbot_guild_member_removed.json")
			}
			f, err := satori.DecodeFrame(frame)
			if err != nil {
				t.Fatal(err)
			}
			ev, kind, _, err := satori.DecodeEvent(f.Body)
			if err != nil || kind != satori.KindMemberLeft || ev.Kind != qq.MemberLeft || ev.GroupID != group || ev.UserID != bob.UserID {
				t.Errorf("decoded %v %v %+v", kind, err, ev)
			}
			if status, body := call(t, b, "guild.member.get", authorized(platform), `{"guild_id":"712345678","user_id":"1357924680"}`); status != 500 {
				t.Errorf("the member is still there: %d %s", status, body)
			}
			if status, _ := call(t, b, "guild.member.get", authorized(platform), `{"guild_id":"712345678","user_id":"1019283746"}`); status != 200 {
				t.Errorf("another member went too: %d", status)
			}
		})
	}
}

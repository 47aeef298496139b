package onebot_test

import (
	"testing"

	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

// FuzzDecodeEvent: no input panics, and a decoded frame is self-consistent.
func FuzzDecodeEvent(f *testing.F) {
	testutil.SeedFiles(f, "*.json")
	f.Add([]byte(`{"post_type":"message","message_type":"group","group_id":"1","message":[{"type":"forward","data":{"content":[{"message":[{"type":"forward","data":{"content":[]}}]}]}}]}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		ev, kind, err := onebot.DecodeEvent(frame)
		if err != nil {
			return
		}
		switch kind {
		case onebot.FrameGroupMessage:
			if ev.Kind != qq.GroupMessage || ev.GroupID == 0 {
				t.Fatalf("group message with kind %v, group %d", ev.Kind, ev.GroupID)
			}
		case onebot.FramePrivateMessage:
			if ev.Kind != qq.PrivateMessage {
				t.Fatalf("private message with kind %v", ev.Kind)
			}
		case onebot.FrameResponse:
			if _, err := onebot.DecodeResponse(frame); err != nil {
				// A response whose echo is an object cannot be matched;
				// it must fail cleanly, which it did.
				return
			}
		case onebot.FrameMemberLeft:
			if ev.Kind != qq.MemberLeft || ev.GroupID == 0 || ev.UserID == 0 || ev.UserID == ev.SelfID {
				t.Fatalf("member left with kind %v, group %d, user %d", ev.Kind, ev.GroupID, ev.UserID)
			}
		case onebot.FrameMeta, onebot.FrameIgnored:
		default:
			t.Fatalf("no error but kind %v", kind)
		}
		for _, s := range ev.Message.Segments {
			if s.Type == "" {
				t.Fatalf("segment without type: %#v", s)
			}
		}
	})
}

package botkit

import (
	"context"
	"errors"
	"testing"

	"github.com/mcqq/bridge/qq"
)

// Remember caches a group message's sender only when it is a full member
// record (with a role); a partial one would hide the card from mentions.
func TestRememberCachesWhatMessagesTell(t *testing.T) {
	l := NewLookups()
	full := qq.Member{UserID: 1019283746, Nickname: "Alice", Card: "[管理] Alice_MC", Role: "admin"}
	partial := qq.Member{UserID: 1357924680, Nickname: "Bob"} // the bot's own member look-up failed
	l.Remember(qq.Event{Kind: qq.GroupMessage, GroupID: 712345678, GroupName: "MC服务器交流群",
		Message: qq.Message{ID: "1", Sender: full, Segments: []qq.Segment{qq.Text("hi")}}})
	l.Remember(qq.Event{Kind: qq.GroupMessage, GroupID: 712345678, Message: qq.Message{ID: "2", Sender: partial}})
	l.Remember(qq.Event{Kind: qq.PrivateMessage, Message: qq.Message{ID: "3", Sender: qq.Member{UserID: 42, Role: "member"}}})

	ctx := context.Background()
	errAsked := errors.New("asked the bot")
	asked := func(context.Context) (qq.Member, error) { return qq.Member{}, errAsked }
	if m, err := l.Member(ctx, 712345678, full.UserID, asked); err != nil || m != full {
		t.Errorf("full sender = %+v, %v; want it cached", m, err)
	}
	if _, err := l.Member(ctx, 712345678, partial.UserID, asked); !errors.Is(err, errAsked) {
		t.Errorf("partial sender: %v; want a look-up", err)
	}
	if _, err := l.Member(ctx, 0, 42, asked); !errors.Is(err, errAsked) {
		t.Errorf("private sender: %v; want no member cached", err)
	}
	if name, err := l.GroupName(ctx, 712345678, func(context.Context) (string, error) { return "", errAsked }); err != nil || name != "MC服务器交流群" {
		t.Errorf("group name = %q, %v", name, err)
	}
	for _, id := range []string{"1", "2", "3"} {
		if m, err := l.Message(ctx, id, func(context.Context) (qq.Message, error) { return qq.Message{}, errAsked }); err != nil || m.ID != id {
			t.Errorf("message %s = %+v, %v; want it cached", id, m, err)
		}
	}
}

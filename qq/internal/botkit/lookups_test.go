package botkit

import (
	"context"
	"errors"
	"strings"
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

// A large received message is not kept for quoting (a flood of them would
// hold the cache's worth of megabytes); a reply quoting it fetches it.
func TestRememberSkipsLargeMessages(t *testing.T) {
	l := NewLookups()
	big := strings.Repeat("字", maxRememberedMessage/3+1)
	l.Remember(qq.Event{Kind: qq.GroupMessage, GroupID: 1, Message: qq.Message{ID: "big", Segments: []qq.Segment{qq.Text(big)}}})
	quotedBig := &qq.Message{Segments: []qq.Segment{{Type: qq.SegJSON, Payload: big}}}
	l.Remember(qq.Event{Kind: qq.GroupMessage, GroupID: 1, Message: qq.Message{ID: "quotes-big",
		Segments: []qq.Segment{{Type: qq.SegReply, Quoted: quotedBig}, qq.Text("看这个")}}})
	l.Remember(qq.Event{Kind: qq.GroupMessage, GroupID: 1, Message: qq.Message{ID: "small", Segments: []qq.Segment{qq.Text("hi")}}})

	errAsked := errors.New("asked the bot")
	for id, wantCached := range map[string]bool{"big": false, "quotes-big": false, "small": true} {
		_, err := l.Message(context.Background(), id, func(context.Context) (qq.Message, error) { return qq.Message{}, errAsked })
		if cached := err == nil; cached != wantCached {
			t.Errorf("message %s cached = %v, want %v", id, cached, wantCached)
		}
	}
}

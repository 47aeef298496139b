package relay

import (
	"context"
	"strconv"
	"time"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// renderQQ resolves the names a group message needs — mentioned members, the
// quoted message and its author, the sender when the bot sent no name, the
// group name — through the client's cached lookups, then renders it. All
// look-ups share one REQUEST_TIMEOUT budget, so a slow bot delays a message by
// at most that; a failed look-up falls back to the nickname, then the number.
func (r *Relay) renderQQ(ctx context.Context, ev qq.Event) []minecraft.Component {
	budget := lookupBudget{parent: ctx, timeout: r.o.RequestTimeout}
	defer budget.end()
	group := ev.GroupID
	msg := ev.Message

	names := map[int64]string{}
	var reply *format.Reply
	for _, s := range msg.Segments {
		switch s.Type {
		case qq.SegAt:
			id, err := strconv.ParseInt(s.Target, 10, 64)
			if err != nil || names[id] != "" {
				continue // "all", or already known
			}
			if name := r.memberName(budget.context(), group, id); name != "" {
				names[id] = name
			}
		case qq.SegReply:
			if reply == nil {
				reply = r.quoted(budget.context(), group, s)
			}
		}
	}

	sender := msg.Sender
	if sender.Card == "" && sender.Nickname == "" {
		if m, err := r.qq.Member(budget.context(), group, sender.UserID); err == nil {
			sender = m
		}
	}
	groupName := ev.GroupName
	if r.o.ShowGroupName && groupName == "" {
		if n, err := r.qq.GroupName(budget.context(), group); err == nil {
			groupName = n
		}
	}
	return format.QQToGame(format.QQMessage{
		GroupID: group, GroupName: groupName, Sender: sender, Players: r.boundPlayers(&budget, sender.UserID),
		Segments: msg.Segments, Reply: reply, Names: names,
	}, format.Options{ShowGroupName: r.o.ShowGroupName, ChatImage: r.o.ChatImage})
}

// lookupBudget is the REQUEST_TIMEOUT budget one message's look-ups share,
// started by the first look-up: most messages need none (names come with
// the event, bindings from memory), and a timer each would be work for
// nothing.
type lookupBudget struct {
	parent  context.Context
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelFunc
}

func (b *lookupBudget) context() context.Context {
	if b.ctx == nil {
		b.ctx, b.cancel = context.WithTimeout(b.parent, b.timeout)
	}
	return b.ctx
}

func (b *lookupBudget) end() {
	if b.cancel != nil {
		b.cancel()
	}
}

// needsLookup tells whether rendering ev may ask the bot something: a
// mention to name, a quoted message, a sender without a name, or the group
// name. Messages that need none are rendered at once.
func (r *Relay) needsLookup(ev qq.Event) bool {
	if ev.Message.Sender.Card == "" && ev.Message.Sender.Nickname == "" {
		return true
	}
	if r.o.ShowGroupName && ev.GroupName == "" {
		return true
	}
	for _, s := range ev.Message.Segments {
		switch s.Type {
		case qq.SegReply:
			return true
		case qq.SegAt:
			if _, err := strconv.ParseInt(s.Target, 10, 64); err == nil {
				return true
			}
		}
	}
	return false
}

// memberName is a member's card, else nickname; "" when the look-up fails
// (the formatter then uses the mention's own name or the number).
func (r *Relay) memberName(ctx context.Context, group, user int64) string {
	m, err := r.qq.Member(ctx, group, user)
	if err != nil {
		r.log.Debug("member look-up failed", "group", group, "user", user, "err", err)
		return ""
	}
	if m.Card != "" {
		return m.Card
	}
	return m.Nickname
}

// quoted finds the message a reply segment points at: inline (Milky) or
// fetched by id (OneBot get_msg). The author is named like a mention.
func (r *Relay) quoted(ctx context.Context, group int64, s qq.Segment) *format.Reply {
	id := s.ID
	if s.Quoted != nil && s.Quoted.ID != "" {
		id = s.Quoted.ID
	}
	var q qq.Message
	if s.Quoted != nil && len(s.Quoted.Segments) > 0 {
		q = *s.Quoted
		// Some bots (LLBot over Satori) quote the content without its
		// author; the message itself, usually cached, names them.
		if q.Sender.UserID == 0 && q.Sender.DisplayName() == "" && id != "" {
			if m, err := r.qq.GetMessage(ctx, id); err == nil {
				q.Sender = m.Sender
			}
		}
	} else {
		// Milky carries the quoted message inline, but without content when
		// the bot could not load it; its ID is then the one to fetch.
		m, err := r.qq.GetMessage(ctx, id)
		if err != nil {
			r.log.Debug("quoted message look-up failed", "group", group, "id", id, "err", err)
			return &format.Reply{} // unknown author and content; rendered as such
		}
		q = m
	}
	author := q.Sender.DisplayName()
	if q.Sender.Card == "" && q.Sender.UserID != 0 {
		if name := r.memberName(ctx, group, q.Sender.UserID); name != "" {
			author = name
		}
	}
	return &format.Reply{Author: author, Quoted: q.Segments}
}

package relay

import (
	"strconv"
	"time"

	"github.com/mcqq/bridge/qq"
)

// Seen remembers which QQ messages were handled, so that a replayed webhook
// post or an event the bot sends again is ignored: a command never runs
// twice and a line is never broadcast twice. FirstTime records id in chat
// ("group:<number>" or "private:<number>") and reports whether it was new;
// of any number of calls with the same chat and id exactly one gets true.
// An implementation that cannot tell (its storage failed) answers true:
// relaying twice is better than losing a message.
type Seen interface {
	FirstTime(chat, id string) bool
}

// replayed reports whether ev is a message handled before (with
// Options.Seen; without it nothing is a replay), or one sent longer ago
// than Seen remembers. Only messages the relay
// acts on are recorded: those of bridged groups and admins' private ones.
func (r *Relay) replayed(ev qq.Event) bool {
	if r.o.Seen == nil || ev.Message.ID == "" {
		return false
	}
	var chat string
	switch ev.Kind {
	case qq.GroupMessage:
		if len(r.groups[ev.GroupID]) == 0 {
			return false
		}
		chat = "group:" + strconv.FormatInt(ev.GroupID, 10)
	case qq.PrivateMessage:
		if !r.admins[ev.Message.Sender.UserID] {
			return false
		}
		chat = "private:" + strconv.FormatInt(ev.Message.Sender.UserID, 10)
	default:
		return false
	}
	if sent := ev.Message.Time; r.o.SeenFor > 0 && !sent.IsZero() && r.now().Sub(sent) > r.o.SeenFor {
		r.m.replayed()
		r.log.Warn("ignoring a message sent too long ago to tell whether it was handled (a replay?)",
			"chat", chat, "message_id", ev.Message.ID, "sent", sent.UTC().Format(time.RFC3339))
		return true
	}
	if r.o.Seen.FirstTime(chat, ev.Message.ID) {
		return false
	}
	r.m.replayed()
	r.log.Info("ignoring a message already handled (replayed or sent again)", "chat", chat, "message_id", ev.Message.ID)
	return true
}

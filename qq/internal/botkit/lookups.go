package botkit

import (
	"context"
	"errors"
	"time"

	"github.com/mcqq/bridge/internal/cache"
	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/qq"
)

// Cache sizes and lifetimes: names change rarely; a quoted message is
// usually quoted within minutes of being sent.
const (
	lookupCacheSize = 4096
	// messageCacheSize and maxRememberedMessage bound what received
	// messages kept for quoting can hold (about 16 MiB); a larger message,
	// or one pushed out, is fetched from the bot when a reply quotes it.
	messageCacheSize     = 1024
	maxRememberedMessage = 16 << 10
	memberTTL            = 10 * time.Minute
	groupTTL             = 10 * time.Minute
	messageTTL           = 30 * time.Minute
	// failureTTL: a look-up that failed (the bot never answered, or said
	// no) is not tried again for a minute; meanwhile the message falls back
	// at once to the nickname or number instead of waiting each time.
	failureTTL = time.Minute
)

// Lookups caches what the relay asks the bot again and again: group members,
// group names and messages (quoted by replies). Concurrent look-ups of one
// key share one request; a failure is remembered for a minute.
type Lookups struct {
	members  *cache.Cache[memberKey, qq.Member]
	groups   *cache.Cache[int64, string]
	messages *cache.Cache[string, qq.Message]
}

type memberKey struct{ group, user int64 }

// worthRemembering leaves out failures of a connection that is down: it
// will be back within seconds, and the names with it.
func worthRemembering(err error) bool { return !errors.Is(err, link.ErrNotConnected) }

// NewLookups returns empty caches.
func NewLookups() *Lookups {
	return &Lookups{
		members:  cache.New[memberKey, qq.Member](lookupCacheSize, memberTTL).RememberFailures(failureTTL, worthRemembering),
		groups:   cache.New[int64, string](lookupCacheSize, groupTTL).RememberFailures(failureTTL, worthRemembering),
		messages: cache.New[string, qq.Message](messageCacheSize, messageTTL).RememberFailures(failureTTL, worthRemembering),
	}
}

// Member returns the cached member, else what load returns.
func (l *Lookups) Member(ctx context.Context, group, user int64, load func(context.Context) (qq.Member, error)) (qq.Member, error) {
	return l.members.Fetch(ctx, memberKey{group, user}, load)
}

// GroupName returns the cached group name, else what load returns.
func (l *Lookups) GroupName(ctx context.Context, group int64, load func(context.Context) (string, error)) (string, error) {
	return l.groups.Fetch(ctx, group, load)
}

// Message returns the cached message, else what load returns.
func (l *Lookups) Message(ctx context.Context, id string, load func(context.Context) (qq.Message, error)) (qq.Message, error) {
	return l.messages.Fetch(ctx, id, load)
}

// ForgetMember drops the cached member of group: they left it, and a
// look-up must now ask the bot.
func (l *Lookups) ForgetMember(group, user int64) { l.members.Delete(memberKey{group, user}) }

// Remember caches what a received message tells for free: the message
// itself (for replies quoting it) unless it is large, the sender as a group
// member and the group's name.
func (l *Lookups) Remember(ev qq.Event) {
	if ev.Message.ID != "" && messageSize(ev.Message.Segments, maxRememberedMessage) <= maxRememberedMessage {
		l.messages.Put(ev.Message.ID, ev.Message)
	}
	if ev.Kind != qq.GroupMessage {
		return
	}
	// The role comes with a full member record (OneBot's sender, Milky's
	// group_member); without it the sender is partial, e.g. a OneBot bot
	// whose own member look-up failed, and not worth caching as a member.
	if m := ev.Message.Sender; m.UserID != 0 && m.Role != "" {
		l.members.Put(memberKey{ev.GroupID, m.UserID}, m)
	}
	if ev.GroupName != "" {
		l.groups.Put(ev.GroupID, ev.GroupName)
	}
}

// messageSize is about how many bytes segs hold, counted until limit is
// passed.
func messageSize(segs []qq.Segment, limit int) int {
	n := 0
	for _, s := range segs {
		n += len(s.Type) + len(s.Text) + len(s.Target) + len(s.Name) + len(s.ID) + len(s.URL) +
			len(s.Summary) + len(s.Result) + len(s.Payload)
		if s.Quoted != nil && n <= limit {
			n += messageSize(s.Quoted.Segments, limit-n)
		}
		for _, m := range s.Forward {
			if n > limit {
				break
			}
			n += messageSize(m.Segments, limit-n)
		}
		if n > limit {
			return n
		}
	}
	return n
}

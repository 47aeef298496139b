// Package milky is a loopback stand-in for a Milky implementation shaped
// after LLBot: the HTTP API under /api/, the event stream on /event as
// WebSocket or SSE, and webhook event posting.
package milky

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/mcqq/bridge/internal/standin"
	"github.com/mcqq/bridge/qq"
)

// Options configure the Milky stand-in.
type Options struct {
	// Token is required as "Authorization: Bearer …" on /api/* and (header
	// or ?access_token=) on /event, and sent with webhook posts. "" = none.
	Token string
	// SelfID is the bot's QQ number (default 2401234567, as in the fixtures).
	SelfID int64
	Logger *slog.Logger
	// NoWebSocket answers WebSocket upgrades on /event with HTTP 400, like an
	// implementation that only streams SSE, so clients must fall back.
	NoWebSocket bool
	// WebhookURL, when set, receives every pushed event as a webhook post
	// too (milky.webhook.url), synchronously.
	WebhookURL string
}

// Sent is one send_group_message / send_private_message received.
type Sent struct {
	API     string
	GroupID int64 // send_group_message
	UserID  int64 // send_private_message
	// Message is the outgoing segments decoded back to the neutral model
	// (mention → at, reply message_seq → id, image uri → url, …).
	Message []qq.Segment
	Text    string          // the text segments joined
	Raw     json.RawMessage // the request body as received
}

// Bot is a stand-in for a Milky implementation shaped after LLBot
// (docs/protocols.md#milky): it serves /api/<name>, and /event as WebSocket or SSE.
// It is safe for concurrent use.
type Bot struct {
	opts Options
	log  *slog.Logger

	// server counts every handler in flight; its run's stop channel ends
	// the event streams.
	server *standin.Server

	mu         sync.Mutex
	subs       map[*subscriber]struct{}
	members    map[[2]int64]qq.Member
	groupNames map[int64]string
	stored     map[string]map[string]any // "scene:peer:seq" → IncomingMessage
	nextSeq    int64
	sent       []Sent
	calls      []string
	silent     map[string]bool
}

// subscriber is one event-stream subscriber (WebSocket or SSE).
type subscriber struct{ frames chan []byte }

const (
	defaultSelfID = 2401234567
	botNickname   = "MC桥接机器人"
	maxBody       = 4 << 20
	// subscriberBuffer events may wait for a slow subscriber before it misses some.
	subscriberBuffer = 256
)

// New returns a stopped stand-in; call Start.
func New(o Options) *Bot {
	if o.SelfID == 0 {
		o.SelfID = defaultSelfID
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Bot{
		opts:       o,
		log:        o.Logger,
		subs:       make(map[*subscriber]struct{}),
		members:    make(map[[2]int64]qq.Member),
		groupNames: make(map[int64]string),
		stored:     make(map[string]map[string]any),
		silent:     make(map[string]bool),
		nextSeq:    48200,
	}
	m.server = standin.NewServer("milky stand-in", m.log, m.handler)
	return m
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves.
func (m *Bot) Start(addr string) error { return m.server.Start(addr) }

// URL is the base URL clients use, http://127.0.0.1:port.
func (m *Bot) URL() string { return "http://" + m.server.Address() }

// Stop drops every connection and stops listening, like a crashed bot, and
// returns once all its goroutines have ended.
func (m *Bot) Stop() { m.server.Stop() }

// Restart listens again on the port of the first Start.
func (m *Bot) Restart() error { return m.server.Restart() }

// Connected is the number of open event streams (WebSocket and SSE).
func (m *Bot) Connected() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.subs)
}

// AddMember makes a member known to get_group_member_info.
func (m *Bot) AddMember(group int64, mem qq.Member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.members[[2]int64{group, mem.UserID}] = mem
}

// SetGroupName makes a group known to get_group_info and names it in events.
func (m *Bot) SetGroupName(group int64, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.groupNames[group] = name
}

// Sent returns every send_group_message / send_private_message, in order.
func (m *Bot) Sent() []Sent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Sent(nil), m.sent...)
}

// SetSilent makes the stand-in take calls of api but never answer them, as
// a hung bot does (for timeout and health tests).
func (m *Bot) SetSilent(api string, silent bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.silent[api] = silent
}

// Calls returns the name of every authorised API call, in order.
func (m *Bot) Calls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.calls...)
}

// MemberLeaves makes user leave group: get_group_member_info no longer
// finds them there, and every subscriber gets group_member_decrease shaped
// like milky_event_group_member_decrease.json.
func (m *Bot) MemberLeaves(group, user int64) {
	m.mu.Lock()
	delete(m.members, [2]int64{group, user})
	m.mu.Unlock()
	m.emitEvent("group_member_decrease", time.Now().Unix(), map[string]any{"group_id": group, "user_id": user})
}

// GroupMessage pushes a message_receive event (group scene, shaped like
// milky_message_receive_group.json) to every event-stream subscriber and
// stores it for get_message. It returns the message_seq.
func (m *Bot) GroupMessage(group int64, sender qq.Member, segs []qq.Segment) (seq int64) {
	return m.receive("group", group, sender, segs, func(now int64) map[string]any {
		return map[string]any{"group": m.groupEntityLocked(group), "group_member": memberEntity(group, sender, now)}
	})
}

// PrivateMessage pushes a message_receive event in the friend scene and
// stores it for get_message. It returns the message_seq.
func (m *Bot) PrivateMessage(user int64, sender qq.Member, segs []qq.Segment) (seq int64) {
	return m.receive("friend", user, sender, segs, func(int64) map[string]any {
		return map[string]any{"friend": map[string]any{
			"user_id": sender.UserID, "nickname": sender.Nickname, "sex": "unknown", "qid": "", "remark": "",
			"category": map[string]any{"category_id": 0, "category_name": "我的好友"},
		}}
	})
}

// receive stores and pushes a message_receive event; entitiesLocked adds
// the scene's own fields (group and member, or friend).
func (m *Bot) receive(scene string, peer int64, sender qq.Member, segs []qq.Segment,
	entitiesLocked func(now int64) map[string]any) (seq int64) {
	m.mu.Lock()
	m.nextSeq++
	seq = m.nextSeq
	now := time.Now().Unix()
	data := map[string]any{
		"message_scene": scene,
		"peer_id":       peer,
		"message_seq":   seq,
		"sender_id":     sender.UserID,
		"time":          now,
		"segments":      m.incomingSegmentsLocked(scene, peer, segs),
	}
	maps.Copy(data, entitiesLocked(now))
	m.stored[messageKey(scene, peer, seq)] = data
	m.mu.Unlock()
	m.emitEvent("message_receive", now, data)
	return seq
}

func (m *Bot) emitEvent(eventType string, now int64, data map[string]any) {
	frame, err := json.Marshal(map[string]any{
		"time": now, "self_id": m.opts.SelfID, "event_type": eventType, "data": data,
	})
	if err != nil {
		m.log.Error("milky stand-in: cannot encode event", "err", err.Error())
		return
	}
	m.Emit(frame)
	if m.opts.WebhookURL != "" {
		if err := m.PostWebhook(context.Background(), m.opts.WebhookURL, frame); err != nil {
			m.log.Warn("milky stand-in: webhook post failed", "err", err.Error())
		}
	}
}

// Emit pushes a raw frame (a fixture, garbage) to every event-stream
// subscriber. A subscriber whose queue is full misses it (logged).
func (m *Bot) Emit(frame []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.subs {
		select {
		case s.frames <- frame:
		default:
			m.log.Warn("milky stand-in: subscriber too slow, event dropped")
		}
	}
}

// PostWebhook posts frame to url as a Milky webhook sender does: JSON body,
// "Authorization: Bearer <Token>" when a token is set. A non-2xx answer is
// an error.
func (m *Bot) PostWebhook(ctx context.Context, url string, frame []byte) error {
	h := http.Header{}
	if m.opts.Token != "" {
		h.Set("Authorization", "Bearer "+m.opts.Token)
	}
	return m.server.PostWebhook(ctx, url, frame, h)
}

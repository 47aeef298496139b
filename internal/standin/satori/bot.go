// Package satori is a loopback stand-in for a Satori server shaped after
// LLBot's (port 5600, platform "llonebot"), with a Koishi flavour (the
// satorijs server plugin under /satori over Koishi's OneBot adapter): the
// HTTP API under {base}/v1/ and the event stream at {base}/v1/events.
package satori

import (
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/mcqq/bridge/internal/standin"
	"github.com/mcqq/bridge/qq"
)

// Options configure the Satori stand-in.
type Options struct {
	// Token is required as "Authorization: Bearer …" on the API (else 403
	// "invalid token") and in IDENTIFY (else close 4004). "" = none.
	Token string
	// SelfID is the bot's QQ number (default 2401234567, as in the fixtures).
	SelfID int64
	// Koishi switches to Koishi's shapes: base path /satori, platform
	// "onebot", roles in message-created, faces with a nested <img>,
	// quotes naming their author, OneBot segments passed on as elements
	// (<mface>, <json>, <dice>, …) and numeric message ids.
	Koishi bool
	// EchoOwn reports the bot's own messages as message-created too, as a
	// server set to report them does.
	EchoOwn bool
	Logger  *slog.Logger
}

// Sent is one message.create received.
type Sent struct {
	ChannelID string
	GroupID   int64 // the channel is a group
	UserID    int64 // the channel is private:<QQ>
	Content   string
	// Message is Content decoded to the neutral model, as the OneBot
	// decoder would give it (a quote → reply{id}, with the bare id).
	Message []qq.Segment
	Text    string // the text segments joined
}

// Bot is a Satori server stand-in. It is safe for concurrent use.
type Bot struct {
	opts Options
	log  *slog.Logger

	// server counts every handler in flight and drops the event streams
	// when stopped.
	server *standin.Server

	// emitMu keeps events in the order their messages were made.
	emitMu sync.Mutex

	mu         sync.Mutex
	streams    map[*standin.Conn]struct{} // identified event streams
	members    map[[2]int64]qq.Member
	groupNames map[int64]string
	stored     map[string]stored // message id → message
	seq        int64             // last message seq
	sn         int64             // last event sn
	sent       []Sent
	calls      []string
	pings      int
}

// stored is a message message.get can return.
type stored struct {
	channel string
	sender  qq.Member
	content string
	at      time.Time
}

const (
	defaultSelfID = 2401234567
	botNickname   = "MC桥接机器人"
	maxBody       = 4 << 20
	// koishiPrefix is where Koishi's server plugin mounts Satori by default.
	koishiPrefix = "/satori"
)

// New returns a stopped stand-in; call Start.
func New(o Options) *Bot {
	if o.SelfID == 0 {
		o.SelfID = defaultSelfID
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Bot{
		opts:       o,
		log:        o.Logger,
		streams:    map[*standin.Conn]struct{}{},
		members:    map[[2]int64]qq.Member{},
		groupNames: map[int64]string{},
		stored:     map[string]stored{},
		seq:        48200,
	}
	b.server = standin.NewServer("satori stand-in", b.log, b.handler)
	return b
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves.
func (b *Bot) Start(addr string) error { return b.server.Start(addr) }

// URL is the base URL clients use (QQ_URL): http://127.0.0.1:port, plus
// /satori in the Koishi flavour.
func (b *Bot) URL() string { return "http://" + b.server.Address() + b.prefix() }

func (b *Bot) prefix() string {
	if b.opts.Koishi {
		return koishiPrefix
	}
	return ""
}

// Stop drops every connection and stops listening, like a crashed server,
// and returns once all its goroutines have ended.
func (b *Bot) Stop() { b.server.Stop() }

// Restart listens again on the port of the first Start.
func (b *Bot) Restart() error { return b.server.Restart() }

// Connected is the number of identified event streams.
func (b *Bot) Connected() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.streams)
}

// AddMember makes a member known to guild.member.get; Role gives its roles.
func (b *Bot) AddMember(group int64, m qq.Member) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.members[[2]int64{group, m.UserID}] = m
}

// SetGroupName makes a group known to guild.get and names it in events.
func (b *Bot) SetGroupName(group int64, name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.groupNames[group] = name
}

// Sent returns every message.create, in order.
func (b *Bot) Sent() []Sent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Sent(nil), b.sent...)
}

// Calls returns the method of every accepted API call, in order.
func (b *Bot) Calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.calls...)
}

// Pings is how many PINGs the event streams got.
func (b *Bot) Pings() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pings
}

// GroupMessage emits message-created for a group message from sender to
// every identified stream and stores it for message.get. It returns the
// message id, which a quote of it carries.
func (b *Bot) GroupMessage(group int64, sender qq.Member, segs []qq.Segment) (id string) {
	return b.receive(strconv.FormatInt(group, 10), group, sender, segs)
}

// PrivateMessage emits message-created for a private message from sender
// (channel private:<QQ>) and stores it. It returns the message id.
func (b *Bot) PrivateMessage(sender qq.Member, segs []qq.Segment) (id string) {
	return b.receive(privateChannel(sender.UserID), 0, sender, segs)
}

// MemberLeaves makes user leave group: guild.member.get no longer finds
// them there, and every stream gets guild-member-removed as LLBot sends it
// (guild, user and member beside the login).
func (b *Bot) MemberLeaves(group, user int64) {
	b.emitMu.Lock()
	defer b.emitMu.Unlock()
	b.mu.Lock()
	m, ok := b.members[[2]int64{group, user}]
	if !ok {
		m = qq.Member{UserID: user}
	}
	delete(b.members, [2]int64{group, user})
	b.sn++
	body := map[string]any{
		"id": b.sn, "sn": b.sn, "type": "guild-member-removed", "self_id": strconv.FormatInt(b.opts.SelfID, 10),
		"platform": b.platform(), "timestamp": time.Now().UnixMilli(),
		"login":  map[string]any{"sn": 1, "user": b.botUser(), "platform": b.platform()},
		"guild":  b.guildLocked(group),
		"user":   b.userObject(m),
		"member": map[string]any{"user": b.userObject(m), "nick": cmpOr(m.Card, m.Nickname)},
	}
	if b.opts.Koishi {
		body["guild"] = map[string]any{"id": strconv.FormatInt(group, 10)} // Koishi's events name only the id
	}
	frame := b.frame(opEvent, body)
	b.mu.Unlock()
	b.emit(frame)
}

// Emit writes a raw frame (a fixture, garbage) to every identified stream.
func (b *Bot) Emit(frame []byte) {
	b.emitMu.Lock()
	defer b.emitMu.Unlock()
	b.emit(frame)
}

// emit is Emit for a caller holding emitMu.
func (b *Bot) emit(frame []byte) {
	if frame == nil {
		return
	}
	b.mu.Lock()
	streams := make([]*standin.Conn, 0, len(b.streams))
	for c := range b.streams {
		streams = append(streams, c)
	}
	b.mu.Unlock()
	for _, c := range streams {
		if err := c.Write(frame); err != nil {
			b.log.Debug("satori stand-in: emit failed", "err", err.Error())
		}
	}
}

func privateChannel(user int64) string { return "private:" + strconv.FormatInt(user, 10) }

// nextIDLocked makes the id of a new message in channel: LLBot's
// "<chat type>|<peer>|<seq>", Koishi's OneBot message_id.
func (b *Bot) nextIDLocked(channel string, group int64) string {
	b.seq++
	switch {
	case b.opts.Koishi:
		return strconv.FormatInt(-904512391+b.seq, 10)
	case group != 0:
		return "2|" + channel + "|" + strconv.FormatInt(b.seq, 10)
	}
	return "1|u_" + strconv.FormatInt(b.seq*7919, 36) + "|" + strconv.FormatInt(b.seq, 10)
}

// receive stores a message and emits its message-created event.
func (b *Bot) receive(channel string, group int64, sender qq.Member, segs []qq.Segment) string {
	b.emitMu.Lock()
	defer b.emitMu.Unlock()
	b.mu.Lock()
	id := b.nextIDLocked(channel, group)
	msg := stored{channel: channel, sender: sender, content: b.contentLocked(channel, segs), at: time.Now()}
	b.stored[id] = msg
	frame := b.eventLocked(id, msg, group)
	b.mu.Unlock()
	b.emit(frame)
	return id
}

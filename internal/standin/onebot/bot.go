// Package onebot is a loopback stand-in for a NapCat- or LLBot-like bot
// speaking OneBot 11: forward WebSocket, reverse WebSocket dial-in, the HTTP
// API, the SSE event stream and webhook (HTTP POST) event reporting, with
// each flavor's reply shapes, retcodes and token rules.
package onebot

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/mcqq/bridge/internal/standin"
	"github.com/mcqq/bridge/qq"
)

// Options configures the OneBot 11 bot stand-in.
type Options struct {
	Token  string // access token; "" accepts everyone
	SelfID int64  // the bot's QQ number; default 2401234567
	// Flavor picks whose shapes to copy: "napcat" (default) or "llbot".
	Flavor string
	// StringFormat sends message events with message_format "string" (a
	// CQ-code string) instead of a segment array.
	StringFormat bool
	// HeartbeatInterval is the period of heartbeat meta events on WebSocket
	// connections and, for LLBot, on SSE streams (default 30 s).
	HeartbeatInterval time.Duration
	// WebhookURL, when set, also receives every pushed event as an HTTP POST
	// (the bots' "http-post" reporter), synchronously.
	WebhookURL string
	Logger     *slog.Logger
}

// Sent is one message the stand-in was asked to send.
type Sent struct {
	Action  string // send_group_msg, send_private_msg or send_msg
	GroupID int64  // 0 for private messages
	UserID  int64  // 0 for group messages
	Message []qq.Segment
	Text    string          // the text segments joined
	Raw     json.RawMessage // the message param exactly as received
	At      time.Time       // when it arrived
}

// Bot stands in for NapCat or LLBot speaking OneBot 11
// (docs/protocols.md#onebot-11). One port serves a forward WebSocket (a
// universal socket on any path but the bots' /api and LLBot's /event, see
// socketRole), the HTTP API (POST /<action>) and the SSE
// event stream (GET /_events); DialReverse is a reverse WebSocket client and
// PostWebhook an HTTP POST event reporter. Every WebSocket connection gets a
// lifecycle connect event, heartbeats and every pushed event, every SSE stream
// every pushed event (and heartbeats from LLBot); actions get replies shaped
// like the chosen flavor's. Safe for concurrent use.
type Bot struct {
	opts Options
	log  *slog.Logger

	// server counts the connection goroutines, accepted or dialled, so Stop
	// can wait for them all.
	server *standin.Server

	mu       sync.Mutex
	members  map[[2]int64]qq.Member
	groups   map[int64]string
	messages map[int64]messageEvent // for get_msg
	sent     []Sent
	lines    map[int64]int // text lines sent per group
	arrived  chan struct{} // closed and replaced at every message sent
	actions  []string
	served   map[string]int // actions answered with success
	silent   map[string]bool
	latency  map[string]time.Duration // per action; such actions are answered concurrently
	missing  map[string]bool          // actions answered as unknown
	counter  int64                    // message ids and sequences
	sse      map[*sseStream]struct{}
}

// sseStream is one open SSE stream. Emit hands it frames; done is
// closed when its handler ends, so Emit never waits for a stream that is
// gone.
type sseStream struct {
	frames chan []byte
	done   chan struct{}
}

const (
	defaultSelfID    = 2401234567
	defaultHeartbeat = 30 * time.Second
	botNickname      = "MC桥接机器人"
	retcodeBadParams = 1400
	retcodeToken     = 1403
	retcodeUnknown   = 1404
	retcodeFailed    = 1200
	// The HTTP API's codes for a bad parameter, a failed action and (LLBot)
	// an unknown action (docs/protocols.md#onebot-actions).
	httpRetcodeBadParams = 400
	httpRetcodeFailed    = 200
	httpRetcodeUnknown   = 404
	maxBody              = 4 << 20
	sseBuffer            = 64
)

// New returns a stopped stand-in; call Start or DialReverse.
func New(o Options) *Bot {
	if o.SelfID == 0 {
		o.SelfID = defaultSelfID
	}
	if o.Flavor != "llbot" {
		o.Flavor = "napcat"
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = defaultHeartbeat
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bot{
		opts:     o,
		log:      log.With("standin", "onebot", "flavor", o.Flavor),
		members:  make(map[[2]int64]qq.Member),
		groups:   make(map[int64]string),
		messages: make(map[int64]messageEvent),
		silent:   make(map[string]bool),
		served:   make(map[string]int),
		latency:  make(map[string]time.Duration),
		lines:    make(map[int64]int),
		missing:  make(map[string]bool),
		sse:      make(map[*sseStream]struct{}),
	}
	b.server = standin.NewServer("onebot stand-in", b.log, func(run *standin.Run) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { b.serveHTTP(run, w, r) })
	})
	return b
}

func (b *Bot) napcat() bool { return b.opts.Flavor == "napcat" }

// Start listens on addr ("127.0.0.1:0" picks a free port).
func (b *Bot) Start(addr string) error { return b.server.Start(addr) }

// URL is the forward WebSocket address, e.g. ws://127.0.0.1:41234/.
func (b *Bot) URL() string { return "ws://" + b.server.Address() + "/" }

// HTTPURL is the HTTP API's address on the same port, e.g.
// http://127.0.0.1:41234; the SSE stream is HTTPURL()+"/_events".
func (b *Bot) HTTPURL() string { return "http://" + b.server.Address() }

// Stop simulates a crash: it stops listening and drops every connection,
// accepted or dialled, without a close frame, and returns once all of the
// stand-in's goroutines have ended.
func (b *Bot) Stop() { b.server.Stop() }

// Restart listens again on the port of the first Start.
func (b *Bot) Restart() error { return b.server.Restart() }

// Connected is the number of open WebSocket connections and SSE streams
// that passed the token check.
func (b *Bot) Connected() int {
	b.mu.Lock()
	streams := len(b.sse)
	b.mu.Unlock()
	return b.server.Connected() + streams
}

// AddMember makes m known to get_group_member_info in group; the bot counts
// as a member of the group (get_group_list).
func (b *Bot) AddMember(group int64, m qq.Member) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.members[[2]int64{group, m.UserID}] = m
}

// MemberLeaves makes user leave group: get_group_member_info no longer
// finds them there, and every client gets a group_decrease notice
// (sub_type leave) shaped like notice_group_decrease.json.
func (b *Bot) MemberLeaves(group, user int64) {
	b.mu.Lock()
	delete(b.members, [2]int64{group, user})
	b.mu.Unlock()
	b.Emit(marshal(groupDecrease{Time: time.Now().Unix(), SelfID: b.opts.SelfID, PostType: "notice",
		GroupID: group, UserID: user, NoticeType: "group_decrease", SubType: "leave", OperatorID: user}))
}

// SetGroupName makes the group known to get_group_info and get_group_list.
func (b *Bot) SetGroupName(group int64, name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.groups[group] = name
}

// WaitLines waits until the messages sent to group hold n text lines in
// all (merged messages count each line), or fails when ctx ends. Benchmarks
// use it to see lines arrive without polling; Sent has the contents.
func (b *Bot) WaitLines(ctx context.Context, group int64, n int) error {
	for {
		b.mu.Lock()
		got := b.lines[group]
		if got >= n {
			b.mu.Unlock()
			return nil
		}
		if b.arrived == nil {
			b.arrived = make(chan struct{})
		}
		ch := b.arrived
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("onebot stand-in: %d of %d lines in group %d: %w", got, n, group, ctx.Err())
		}
	}
}

// SetLatency makes action take d to answer. Like NapCat and LLBot, which
// run calls concurrently, such actions are answered in the background, so
// several can be under way at once and later calls may be answered first.
func (b *Bot) SetLatency(action string, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.latency[action] = d
}

func (b *Bot) latencyOf(action string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.latency[action]
}

// SetUnsupported makes the stand-in answer action as an unknown action, like
// an older or other implementation that lacks it.
func (b *Bot) SetUnsupported(action string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.missing[action] = true
}

// SetSilent makes the stand-in receive action but never answer it (for
// timeout tests).
func (b *Bot) SetSilent(action string, silent bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.silent[action] = silent
}

// Served is how many times action was answered with success (a member
// found, a message sent): unlike Actions, it leaves out silenced, failed and
// still unanswered calls.
func (b *Bot) Served(action string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.served[action]
}

// Sent returns every message send request received so far, in order.
func (b *Bot) Sent() []Sent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.sent)
}

// Actions returns the name of every action received so far, in order.
func (b *Bot) Actions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.actions)
}

// GroupMessage pushes a group message event from sender to every connected
// client (WebSocket and SSE) and keeps it for get_msg. It returns the
// message_id.
func (b *Bot) GroupMessage(group int64, sender qq.Member, segs []qq.Segment) (messageID int64) {
	frame, id := b.GroupMessageFrame(group, sender, segs)
	b.Emit(frame)
	return id
}

// GroupMessageFrame is the event frame GroupMessage pushes, and its
// message_id, for a test or benchmark that emits prepared frames with Emit.
func (b *Bot) GroupMessageFrame(group int64, sender qq.Member, segs []qq.Segment) (frame []byte, messageID int64) {
	b.mu.Lock()
	ev := b.newMessageEventLocked("group", sender, segs)
	ev.GroupID, ev.GroupName = group, b.groups[group]
	b.messages[ev.MessageID] = ev
	b.mu.Unlock()
	return marshal(ev), ev.MessageID
}

// PrivateMessage pushes a private (friend) message event from sender to
// every connected client (WebSocket and SSE) and keeps it for get_msg. It
// returns the message_id.
func (b *Bot) PrivateMessage(user int64, sender qq.Member, segs []qq.Segment) (messageID int64) {
	sender.UserID = user
	sender.Card, sender.Role = "", "" // friends have no group card or role
	b.mu.Lock()
	ev := b.newMessageEventLocked("private", sender, segs)
	ev.SubType, ev.TargetID = "friend", user
	b.messages[ev.MessageID] = ev
	b.mu.Unlock()
	b.Emit(marshal(ev))
	return ev.MessageID
}

// Emit pushes a raw frame (a fixture, garbage) to every connected client:
// WebSocket connections and SSE streams. Like a write to a slow WebSocket
// client, handing a frame to a slow SSE stream waits.
func (b *Bot) Emit(frame []byte) {
	b.server.Emit(frame)
	b.mu.Lock()
	streams := slices.Collect(maps.Keys(b.sse))
	b.mu.Unlock()
	for _, s := range streams {
		select {
		case s.frames <- frame:
		case <-s.done:
		}
	}
	if b.opts.WebhookURL != "" {
		if err := b.PostWebhook(context.Background(), b.opts.WebhookURL, frame); err != nil {
			b.log.Warn("webhook post failed", "err", err.Error())
		}
	}
}

// PostWebhook posts frame to url as the HTTP POST event reporter of NapCat and
// LLBot does (docs/protocols.md#onebot-transports): Content-Type
// application/json, X-Self-ID and, when the stand-in has a token, X-Signature
// "sha1=" with the hex HMAC-SHA1 of the exact body keyed with the token. A
// failed request or an answer other than 2xx is an error with the status and
// the start of the body.
func (b *Bot) PostWebhook(ctx context.Context, url string, frame []byte) error {
	h := http.Header{}
	h.Set("X-Self-ID", strconv.FormatInt(b.opts.SelfID, 10))
	if b.opts.Token != "" {
		h.Set("X-Signature", signature(b.opts.Token, frame))
	}
	return b.server.PostWebhook(ctx, url, frame, h)
}

// signature is the X-Signature of body: "sha1=" and the hex HMAC-SHA1
// keyed with token.
func signature(token string, body []byte) string {
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write(body)
	return "sha1=" + hex.EncodeToString(mac.Sum(nil))
}

// DialReverse acts as a bot whose reverse WebSocket points at url (the
// bridge's QQ_LISTEN), with the headers NapCat and LLBot send. It returns nil
// when ctx ends, or an error when the handshake is refused (with the HTTP
// status) or the connection drops. The bridge counts the link up once it
// has accepted the connection, a moment before this side has it among the
// connections that get events: wait for Connected before emitting.
func (b *Bot) DialReverse(ctx context.Context, url string) error {
	h := http.Header{}
	h.Set("X-Self-ID", strconv.FormatInt(b.opts.SelfID, 10))
	h.Set("Authorization", "Bearer "+b.opts.Token) // sent even when empty, as both do
	h.Set("X-Client-Role", "Universal")
	if b.napcat() {
		h.Set("User-Agent", "OneBot/11")
	} else {
		h.Set("User-Agent", "LLOneBot/8.1.7")
	}
	if !b.server.Enter(nil) {
		return errors.New("onebot stand-in: stopping")
	}
	defer b.server.Leave()
	return b.server.DialAndServe(ctx, url, h, 2*time.Second, func(c *standin.Conn) error { return b.serveConn(c, universal) })
}

package onebot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcqq/bridge/internal/inbox"
	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/internal/redact"
	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/internal/ws"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

// Options configure a Client.
type Options struct {
	// URL is where the bot is reached: its forward WebSocket (ws:// or
	// wss://, e.g. ws://127.0.0.1:3001/) or its HTTP API (http:// or
	// https://, e.g. http://127.0.0.1:3000). Empty: reverse mode, the bot
	// dials ServeHTTP.
	URL string
	// AccessToken is sent as "Authorization: Bearer …" to the bot (dial,
	// HTTP actions, SSE) and required from bots dialling in; webhook posts
	// must be signed with it (X-Signature HMAC-SHA1).
	AccessToken string
	// Webhook, with an HTTP API URL only: events arrive as the bot's HTTP
	// POSTs to ServeHTTP instead of from the SSE stream {URL}/_events.
	Webhook bool
	// RequestTimeout bounds every action (default 10 s).
	RequestTimeout time.Duration
	Logger         *slog.Logger
	// Inbox bounds the events waiting for the relay (Name and Logger are
	// filled in).
	Inbox inbox.Options
}

const (
	defaultReqTimeout = link.DefaultRequestTimeout
	// retcodeTokenRejected is what NapCat and LLBot send right before
	// closing a connection with a wrong token (docs/protocols.md#onebot-tokens).
	retcodeTokenRejected = 1403
)

// Client is one OneBot 11 connection to a QQ bot. It is safe for concurrent
// use; Run must be called once.
type Client struct {
	opts    Options
	log     *slog.Logger
	state   link.State
	events  *inbox.Inbox[qq.Event]
	selfID  atomic.Int64
	running atomic.Bool

	// api is the bot's HTTP API; nil in the WebSocket modes.
	api *httpAPI
	// healthInterval is how often webhook mode checks that the API answers,
	// and how long an SSE stream may be quiet before that is checked too.
	healthInterval time.Duration

	mu  sync.Mutex
	cur *session // the attached bot connection; nil while down
	// gate binds ServeHTTP's handlers (reverse and webhook modes) to Run.
	gate botkit.Gate
	// ender lets an HTTP action that cannot reach the bot end the running
	// event session (SSE stream or webhook health check).
	ender *botkit.Ender

	lookups *botkit.Lookups
}

// session is one WebSocket to the bot with its own table of pending
// actions, so a connection that ends fails exactly its own requests.
type session struct {
	ws      *ws.Session
	pending *ws.Pending
	// rejection is the bot's message when it refused our token (1403).
	rejection atomic.Pointer[string]
}

// New checks o and returns a Client; nothing happens until Run.
func New(o Options) (*Client, error) {
	var api *httpAPI
	if o.URL != "" {
		u, err := url.Parse(o.URL)
		if err != nil {
			return nil, fmt.Errorf("onebot: QQ url %q is not a URL", redact.URL(o.URL))
		}
		switch u.Scheme {
		case "ws", "wss":
		case "http", "https":
			if api, err = newHTTPAPI(u); err != nil {
				return nil, fmt.Errorf("onebot: QQ url %q: %w", redact.URL(o.URL), err)
			}
		default:
			return nil, fmt.Errorf("onebot: QQ url %q: want ws://, wss://, http:// or https://", redact.URL(o.URL))
		}
	}
	if o.Webhook && api == nil {
		return nil, errors.New("onebot: webhook events need the bot's HTTP API as the QQ url (http:// or https://)")
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = defaultReqTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	c := &Client{
		opts:           o,
		log:            o.Logger,
		events:         botkit.NewInbox(o.Inbox, o.Logger),
		api:            api,
		healthInterval: botkit.HealthInterval,
		lookups:        botkit.NewLookups(),
	}
	c.ender = botkit.NewEnder(&c.state)
	return c, nil
}

// Events holds group and private messages from other users until the relay
// takes them. The connection's reader never waits for it.
func (c *Client) Events() *inbox.Inbox[qq.Event] { return c.events }

// State is the connection state: up while a bot connection is attached. Over
// HTTP it is up while the SSE stream is open, or, with webhooks, while the
// bot answers get_login_info (checked every 30 s); an action that cannot
// reach the bot takes it down at once.
func (c *Client) State() *link.State { return &c.state }

// SelfID is the bot's QQ number, learned from get_login_info, the reverse
// connection's or a webhook post's X-Self-ID, or events; 0 until known.
func (c *Client) SelfID() int64 { return c.selfID.Load() }

func (c *Client) learnSelfID(id int64) {
	if id > 0 {
		c.selfID.Store(id)
	}
}

// Run keeps the connection until ctx ends and then returns nil. Forward
// mode dials the bot and redials after every loss (backoff 1 s → 60 s);
// reverse mode serves connections arriving through ServeHTTP and, when ctx
// ends, closes them and waits for their handlers. HTTP mode reads the SSE
// stream, reopening it after every loss, or, with webhooks, accepts posts
// through ServeHTTP while checking that the bot's API answers.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("onebot: Run called twice")
	}
	switch {
	case c.api != nil:
		c.runHTTP(ctx)
	case c.opts.URL != "":
		link.Supervise(ctx, c.log, &c.state, c.forwardSession)
	default:
		c.gate.Open(ctx)
		<-ctx.Done()
		c.gate.Close()
		c.state.Set(false, nil)
	}
	return nil
}

// forwardSession is one dial of the bot; link.Supervise calls it again after
// it returns.
func (c *Client) forwardSession(ctx context.Context, up func()) error {
	header := http.Header{}
	botkit.Authorize(header, c.opts.AccessToken)
	conn, err := ws.Dial(ctx, c.opts.URL, header, ws.Options{Logger: c.log})
	if err != nil {
		return err // "dial tcp host:port: …" or "handshake: 404 …" say what failed
	}
	s, _ := c.attach(conn, false)
	// NapCat and LLBot accept the WebSocket before checking the token, so
	// the link counts as up only once the bot has said something other than
	// a token rejection: its lifecycle event, or the answer to a first call.
	// A bot that refuses the token then never looks up, and its retries do
	// not log a "reconnected" line each.
	var once sync.Once
	markUp := func() {
		if s.rejection.Load() == nil {
			once.Do(up)
		}
	}
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		if c.checkLogin(ctx) == nil {
			markUp()
		}
	}()
	err = conn.Run(ctx, func(frame []byte) {
		c.handleFrame(s, frame)
		markUp()
	})
	c.detach(s, false, nil)
	<-probeDone
	if msg := s.rejection.Load(); msg != nil {
		return fmt.Errorf("%w: %s", ErrTokenRejected, *msg)
	}
	if err != nil {
		return fmt.Errorf("connection closed: %w", err)
	}
	return nil
}

// attach makes conn the connection actions go to, and with up (reverse
// mode) sets the link up in the same step. It returns the session for conn
// and the one it displaced (reverse mode), if any.
func (c *Client) attach(conn *ws.Session, up bool) (s, displaced *session) {
	s = &session{ws: conn, pending: ws.NewPending("mcb-")}
	c.mu.Lock()
	defer c.mu.Unlock()
	displaced, c.cur = c.cur, s
	if up {
		c.state.Set(true, nil)
	}
	return s, displaced
}

// detach forgets s if it is still the current connection, reporting whether
// it was, and fails the actions still waiting on it. With down (reverse
// mode) a current s also takes the link down with err, in the same step, so
// a connection that just ended cannot mark the link down after a successor
// has attached and marked it up.
func (c *Client) detach(s *session, down bool, err error) (wasCurrent bool) {
	c.mu.Lock()
	wasCurrent = c.cur == s
	if wasCurrent {
		c.cur = nil
		if down {
			c.state.Set(false, err)
		}
	}
	c.mu.Unlock()
	s.pending.FailAll()
	return wasCurrent
}

func (c *Client) current() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// handleFrame runs in the connection's reader goroutine and never blocks. s
// is nil on the SSE stream, which carries no replies to our actions.
func (c *Client) handleFrame(s *session, frame []byte) {
	ev, kind, err := DecodeEvent(frame)
	if err != nil {
		c.log.Warn("skipping bad frame from the QQ bot", "err", err.Error(), "frame", safetext.Excerpt(frame, 200))
		return
	}
	if kind != FrameResponse {
		c.handleEvent(ev, kind, len(frame))
		return
	}
	if s == nil {
		c.log.Debug("ignoring an action response on the event stream", "frame", safetext.Excerpt(frame, 200))
		return
	}
	c.handleResponse(s, frame)
}

// handleEvent learns the bot's QQ number from every event and queues
// messages from others, and members leaving, in Events; size is the
// frame's length. It reports
// false only for a message the relay no longer takes (shutting down).
func (c *Client) handleEvent(ev qq.Event, kind FrameKind, size int) bool {
	c.learnSelfID(ev.SelfID)
	if kind == FrameMemberLeft {
		if self := c.SelfID(); self != 0 && ev.UserID == self {
			return true // the bot itself left, from an event without self_id
		}
		c.lookups.ForgetMember(ev.GroupID, ev.UserID)
		return c.events.Push(ev, size)
	}
	if kind != FrameGroupMessage && kind != FramePrivateMessage {
		return true
	}
	if self := c.SelfID(); self != 0 && ev.Message.Sender.UserID == self {
		return true // own message from an event that did not carry self_id
	}
	c.lookups.Remember(ev)
	return c.events.Push(ev, size)
}

func (c *Client) handleResponse(s *session, frame []byte) {
	r, err := DecodeResponse(frame)
	if err != nil {
		c.log.Warn("skipping bad response from the QQ bot", "err", err.Error(), "frame", safetext.Excerpt(frame, 200))
		return
	}
	if s.pending.Resolve(r.Echo, frame) {
		return
	}
	if r.Retcode == retcodeTokenRejected {
		msg := r.Message
		s.rejection.Store(&msg)
		// The session ends with ErrTokenRejected, which link.Supervise
		// reports with a hint; one line is enough.
		c.log.Debug("the QQ bot rejected the access token", "message", msg)
		return
	}
	c.log.Debug("response without a waiting request (late or unknown echo)", "echo", r.Echo)
}

type request struct {
	Action string `json:"action"`
	Params any    `json:"params"`
	Echo   string `json:"echo"`
}

// call runs one action, over the WebSocket or the HTTP API, and returns its
// data. On a WebSocket it fails at once while no bot is connected; either
// way it fails after RequestTimeout when no reply comes.
func (c *Client) call(ctx context.Context, action string, params any) (json.RawMessage, error) {
	timeout := c.opts.RequestTimeout
	ctx, cancel := context.WithTimeoutCause(ctx, timeout,
		fmt.Errorf("no reply within %s: %w", timeout, context.DeadlineExceeded))
	defer cancel()
	var frame []byte
	var err error
	if c.api != nil {
		frame, err = c.postAction(ctx, action, params)
	} else {
		frame, err = c.sendAction(ctx, action, params)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	r, err := DecodeResponse(frame)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	if err := r.Err(action); err != nil {
		return nil, err
	}
	return r.Data, nil
}

// sendAction sends one action on the current WebSocket and waits for the
// reply with the same echo.
func (c *Client) sendAction(ctx context.Context, action string, params any) ([]byte, error) {
	s := c.current()
	if s == nil {
		return nil, botkit.ErrNotConnected
	}
	frame, err := ws.Call(ctx, s.ws, s.pending, func(echo string) ([]byte, error) {
		return json.Marshal(request{Action: action, Params: params, Echo: echo})
	})
	if errors.Is(err, ws.ErrClosed) {
		return nil, fmt.Errorf("connection lost: %w", botkit.ErrNotConnected)
	}
	return frame, err
}

// SendGroupMessage sends msg to a group (send_group_msg), always as a
// segment array.
func (c *Client) SendGroupMessage(ctx context.Context, group int64, msg []qq.Segment) error {
	if len(msg) == 0 {
		return errors.New("send_group_msg: empty message")
	}
	_, err := c.call(ctx, "send_group_msg", struct {
		GroupID int64        `json:"group_id"`
		Message []outSegment `json:"message"`
	}{group, outSegments(msg)})
	return err
}

// SendPrivateMessage sends msg to a user (send_private_msg).
func (c *Client) SendPrivateMessage(ctx context.Context, user int64, msg []qq.Segment) error {
	if len(msg) == 0 {
		return errors.New("send_private_msg: empty message")
	}
	_, err := c.call(ctx, "send_private_msg", struct {
		UserID  int64        `json:"user_id"`
		Message []outSegment `json:"message"`
	}{user, outSegments(msg)})
	return err
}

// Member looks up a group member (get_group_member_info), cached for ten
// minutes and refreshed by the member's own messages.
func (c *Client) Member(ctx context.Context, group, user int64) (qq.Member, error) {
	return c.lookups.Member(ctx, group, user, func(ctx context.Context) (qq.Member, error) {
		data, err := c.call(ctx, "get_group_member_info", struct {
			GroupID int64 `json:"group_id"`
			UserID  int64 `json:"user_id"`
			NoCache bool  `json:"no_cache"` // our cache is enough; NapCat defaults to true
		}{group, user, false})
		if err != nil {
			return qq.Member{}, err
		}
		var w wireSender
		if err := json.Unmarshal(data, &w); err != nil {
			return qq.Member{}, fmt.Errorf("get_group_member_info: %w", err)
		}
		m := qq.Member{UserID: int64(w.UserID), Nickname: string(w.Nickname), Card: string(w.Card), Role: string(w.Role)}
		if m.UserID == 0 {
			m.UserID = user
		}
		return m, nil
	})
}

// GroupName looks up a group's name (get_group_info), cached for ten
// minutes and refreshed by the group's messages.
func (c *Client) GroupName(ctx context.Context, group int64) (string, error) {
	return c.lookups.GroupName(ctx, group, func(ctx context.Context) (string, error) {
		data, err := c.call(ctx, "get_group_info", struct {
			GroupID int64 `json:"group_id"`
		}{group})
		if err != nil {
			return "", err
		}
		var w struct {
			GroupName wirejson.String `json:"group_name"`
		}
		if err := json.Unmarshal(data, &w); err != nil {
			return "", fmt.Errorf("get_group_info: %w", err)
		}
		return string(w.GroupName), nil
	})
}

// Groups lists the groups the bot is in (get_group_list), uncached: -check
// asks it once.
func (c *Client) Groups(ctx context.Context) ([]int64, error) {
	data, err := c.call(ctx, "get_group_list", struct{}{})
	if err != nil {
		return nil, err
	}
	var list []struct {
		GroupID wirejson.Int `json:"group_id"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("get_group_list: %w", err)
	}
	groups := make([]int64, len(list))
	for i, g := range list {
		groups[i] = int64(g.GroupID)
	}
	return groups, nil
}

// GetMessage fetches a message by its message_id (get_msg), e.g. the one a
// reply quotes. Messages seen on the connection and fetched ones are cached
// for thirty minutes.
func (c *Client) GetMessage(ctx context.Context, id string) (qq.Message, error) {
	if id == "" {
		return qq.Message{}, errors.New("get_msg: empty message id")
	}
	return c.lookups.Message(ctx, id, func(ctx context.Context) (qq.Message, error) {
		// Ids are numbers on the wire; pass anything else through as is.
		var param any = id
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			param = n
		}
		data, err := c.call(ctx, "get_msg", struct {
			MessageID any `json:"message_id"`
		}{param})
		if err != nil {
			return qq.Message{}, err
		}
		m, err := DecodeMessage(data)
		if err != nil {
			return qq.Message{}, fmt.Errorf("get_msg: %w", err)
		}
		if m.ID == "" {
			m.ID = id
		}
		return m, nil
	})
}

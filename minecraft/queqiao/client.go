// Package queqiao speaks the QueQiao V2 WebSocket protocol (the 鹊桥
// Minecraft plugin/mod) for one Minecraft server: decoding its events and
// responses, calling its APIs, and keeping the connection alive in forward
// mode (the bridge dials the plugin) or reverse mode (the plugin dials the
// bridge's Listener).
package queqiao

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/inbox"
	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/internal/redact"
	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/internal/ws"
	"github.com/mcqq/bridge/minecraft"
)

// Options configure one server's QueQiao connection.
type Options struct {
	// Name is the plugin's server_name (MC_<n>_NAME): sent as x-self-name
	// and used as Event.Server.
	Name string
	// URL is the plugin's WebSocket server (forward mode), e.g.
	// ws://127.0.0.1:8080. Empty: reverse mode, sessions come from a Listener.
	URL string
	// Token is the plugin's access_token; "" when it has none.
	Token string
	// GameVersion overrides the game version used for text-component
	// spelling (MC_<n>_GAME_VERSION); "" learns it from the plugin.
	GameVersion string
	// RequestTimeout bounds each API call (default 10 s).
	RequestTimeout time.Duration
	Logger         *slog.Logger
	// Inbox bounds the events waiting for the relay (Name and Logger are
	// filled in).
	Inbox inbox.Options
}

// ErrAlreadyConnected is returned by Attach when the server already has a
// connection.
var ErrAlreadyConnected = errors.New("already connected")

// errStopped is returned by Attach once Run has returned.
var errStopped = errors.New("client stopped")

// clientOrigin is our x-client-origin; the plugin only refuses "minecraft".
const clientOrigin = "mcqq-bridge"

// Client is the connection to one server's QueQiao plugin. Run owns the
// connection; every other method is safe to call from any goroutine and
// fails fast with link.ErrNotConnected while the connection is down.
type Client struct {
	opts   Options
	log    *slog.Logger
	events *inbox.Inbox[minecraft.Event]
	// timedOut is the cause of a request's timeout, made once: a blast
	// starts thousands of requests.
	timedOut error
	state    link.State
	running  atomic.Bool

	// stopped is cancelled when Run ends, ending reverse-mode sessions;
	// from then on Attach refuses new ones. Cancelled and checked under mu,
	// so attached.Wait in Run sees every session Attach let in.
	stopped      context.Context
	stopAttached context.CancelFunc
	attached     sync.WaitGroup // reverse-mode sessions in Attach

	mu         sync.Mutex
	session    *conn  // the connection in use, nil when there is none
	ready      bool   // the plugin accepted session; requests may use it
	gameVer    string // last game version learned from the plugin
	overridden bool   // GameVersion fixes the style
	style      minecraft.Style
}

// conn is one WebSocket to the plugin with its own table of requests in
// flight, so an answer without echo can be matched to the oldest request of
// this connection and a connection that ends fails exactly its own requests.
type conn struct {
	ws      *ws.Session
	pending *ws.Pending
}

// New validates o and returns a client; it does no I/O.
func New(o Options) (*Client, error) {
	if o.Name == "" {
		return nil, errors.New("queqiao: server name is required")
	}
	if o.URL != "" {
		u, err := url.Parse(o.URL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return nil, fmt.Errorf("queqiao %s: URL %q: want ws://host:port", o.Name, redact.URL(o.URL))
		}
	}
	if o.RequestTimeout < 0 {
		return nil, fmt.Errorf("queqiao %s: negative request timeout %s", o.Name, o.RequestTimeout)
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = link.DefaultRequestTimeout
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("conn", "queqiao", "server", o.Name)
	if o.Inbox.Name == "" {
		o.Inbox.Name = "mc:" + o.Name
	}
	if o.Inbox.Logger == nil {
		o.Inbox.Logger = log
	}
	c := &Client{
		opts:     o,
		log:      log,
		events:   inbox.New[minecraft.Event](o.Inbox),
		timedOut: fmt.Errorf("no answer within %s: %w", o.RequestTimeout, context.DeadlineExceeded),
	}
	if o.GameVersion != "" {
		st, ok := minecraft.StyleFor(o.GameVersion)
		if !ok {
			return nil, fmt.Errorf("queqiao %s: game version %q: want e.g. 1.21.4", o.Name, o.GameVersion)
		}
		c.style, c.overridden = st, true
	}
	c.stopped, c.stopAttached = context.WithCancel(context.Background())
	return c, nil
}

// Name is the server's configured name.
func (c *Client) Name() string { return c.opts.Name }

// Events holds the server's game events until the relay takes them. The
// connection's reader never waits for it.
func (c *Client) Events() *inbox.Inbox[minecraft.Event] { return c.events }

// State is the connection state.
func (c *Client) State() *link.State { return &c.state }

// Style is the text-component spelling for this server: from GameVersion
// when set, else from the last game version the plugin reported (events or
// get_status), else the legacy camelCase spelling.
func (c *Client) Style() minecraft.Style {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.style
}

// learnVersion records a reported server_version if it names a game
// version; Velocity's proxy version and the log reader's "unknown" do not.
func (c *Client) learnVersion(v string) {
	st, ok := minecraft.StyleFor(v)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v == c.gameVer {
		return
	}
	c.gameVer = v
	if !c.overridden {
		if st != c.style {
			c.log.Info("text component style learned from the server", "version", v, "style", st.String())
		}
		c.style = st
	}
}

// Run keeps the connection until ctx ends and returns nil then. Forward mode
// dials the plugin and redials with backoff; reverse mode serves the sessions
// a Listener attaches. Run may be called once.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return fmt.Errorf("queqiao %s: Run called twice", c.opts.Name)
	}
	defer c.stopAttached()
	if c.opts.URL != "" {
		link.Supervise(ctx, c.log, &c.state, c.dial)
		return nil
	}
	<-ctx.Done()
	c.mu.Lock()
	c.stopAttached()
	c.mu.Unlock()
	c.attached.Wait()
	return nil
}

// dial is one forward-mode connection attempt (a link.Session).
func (c *Client) dial(ctx context.Context, up func()) error {
	h := http.Header{}
	// The plugin URL-decodes the name (Java URLDecoder), so encode it.
	h.Set("x-self-name", url.QueryEscape(c.opts.Name))
	h.Set("x-client-origin", clientOrigin)
	if c.opts.Token != "" {
		h.Set("Authorization", "Bearer "+c.opts.Token)
	}
	s, err := ws.Dial(ctx, c.opts.URL, h, ws.Options{Logger: c.log})
	if err != nil {
		return err // "dial tcp host:port: …" or "handshake: 401 …" say what failed
	}
	return c.serve(ctx, s, up)
}

// Attach runs s, a reverse connection the plugin opened and a Listener
// upgraded, as this server's connection until it ends or Run returns. It
// refuses (closing s) when the client is in forward mode or the server
// already has a connection (ErrAlreadyConnected).
func (c *Client) Attach(ctx context.Context, s *ws.Session) error {
	if c.opts.URL != "" {
		s.Close(websocket.ClosePolicyViolation, "server is configured for forward mode")
		return fmt.Errorf("queqiao %s: forward mode (dials %s); reverse connections are not accepted", c.opts.Name, redact.URL(c.opts.URL))
	}
	c.mu.Lock()
	if c.stopped.Err() != nil {
		c.mu.Unlock()
		s.Close(websocket.CloseGoingAway, "bridge is shutting down")
		return fmt.Errorf("queqiao %s: %w", c.opts.Name, errStopped)
	}
	c.attached.Add(1)
	c.mu.Unlock()
	defer c.attached.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.stopped, cancel)
	defer stop()

	wasUp := false
	err := c.serve(ctx, s, func() {
		wasUp = true
		c.state.Set(true, nil)
		c.log.Info("plugin connected", "peer", s.RemoteAddr())
	})
	switch {
	case errors.Is(err, ErrAlreadyConnected):
	case err != nil && !wasUp:
		c.log.Warn("plugin connection failed", "peer", s.RemoteAddr(), "err", err.Error())
	case err != nil:
		c.log.Warn("plugin disconnected", "peer", s.RemoteAddr(), "err", err.Error())
	case wasUp:
		c.log.Info("plugin disconnected", "peer", s.RemoteAddr())
	}
	return err
}

// connected reports whether the server has a connection (Listener's
// duplicate check before upgrading).
func (c *Client) connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session != nil
}

// serve runs one session: it confirms the plugin accepted the handshake,
// calls up, and returns why the session ended (nil when ctx ended). The
// state is down again when it returns.
func (c *Client) serve(ctx context.Context, s *ws.Session, up func()) (err error) {
	cn := &conn{ws: s, pending: ws.NewOrderedPending("mcb-")}
	c.mu.Lock()
	if c.session != nil {
		c.mu.Unlock()
		s.Close(websocket.ClosePolicyViolation, "already connected")
		return fmt.Errorf("queqiao %s: %w", c.opts.Name, ErrAlreadyConnected)
	}
	c.session = cn
	c.mu.Unlock()
	defer func() {
		// Down before the slot is free: a reverse connection replacing this
		// one must never be shown down afterwards.
		c.state.Set(false, err)
		c.mu.Lock()
		c.session, c.ready = nil, false
		c.mu.Unlock()
		cn.pending.FailAll()
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ended := make(chan error, 1)
	go func() {
		ended <- s.Run(ctx, func(frame []byte) { c.handleFrame(cn, frame) })
	}()

	// The plugin validates the handshake only after the upgrade and refuses
	// with close 1008 (docs/protocols.md#queqiao-handshake), so the connection
	// counts as up once the plugin has answered something. get_status also
	// tells the game version.
	if !c.probe(ctx, cn) {
		cancel()
		return sessionError(<-ended)
	}
	c.mu.Lock()
	c.ready = true
	c.mu.Unlock()
	up()
	return sessionError(<-ended)
}

// probe asks get_status on a fresh session. It reports false when the
// session ended (or ctx did) before any answer; an error reply (a plugin
// older than 0.5.0 answers 404) or no reply at all (a plugin with
// enable: false never answers) still counts as accepted.
func (c *Client) probe(ctx context.Context, cn *conn) bool {
	resp, err := c.request(ctx, cn, "get_status", nil)
	switch {
	case err == nil:
		_, _ = c.learnStatus(resp.Data) // a plugin without get_status data is still a plugin
		return true
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		c.log.Warn("plugin does not answer requests; is QueQiao enabled in its config.yml?")
		return true
	default:
		var apiErr *minecraft.APIError
		return errors.As(err, &apiErr)
	}
}

// RejectedError is the plugin refusing the handshake (close 1008), e.g.
// "Authorization Header is wrong" for a token that is not its access_token,
// or "X-Self-name Header is wrong" for a name that is not its server_name.
type RejectedError struct {
	Reason string // the plugin's close reason
}

func (e *RejectedError) Error() string { return "rejected by plugin: " + e.Reason }

// sessionError names why a session ended, reading the plugin's close
// reason; nil stays nil (ctx ended).
func sessionError(err error) error {
	if err == nil {
		return nil
	}
	code, reason, ok := ws.CloseText(err)
	switch {
	case !ok || code == websocket.CloseAbnormalClosure: // 1006: no close frame, the socket just died
		return fmt.Errorf("connection lost: %w", err)
	case code == websocket.ClosePolicyViolation:
		return &RejectedError{Reason: reason}
	case reason != "":
		return fmt.Errorf("plugin closed the connection (%d %s)", code, reason)
	default:
		return fmt.Errorf("plugin closed the connection (%d)", code)
	}
}

// answerEcho returns the echo of a response that has one; ok is false for
// events, answers without echo and frames that do not decode.
func answerEcho(frame []byte) (echo string, ok bool) {
	postType, e, fast := peekAnswerFast(frame)
	if !fast {
		var peek struct {
			PostType wirejson.String `json:"post_type"`
			Echo     wirejson.String `json:"echo"`
		}
		if json.Unmarshal(frame, &peek) != nil {
			return "", false
		}
		postType, e = peek.PostType, peek.Echo
	}
	return string(e), e != "" && strings.EqualFold(string(postType), "response")
}

// handleFrame runs in the session's reader and never blocks: responses go to
// their waiting request, events to Events, bad frames are logged and
// skipped.
func (c *Client) handleFrame(cn *conn, frame []byte) {
	// Most frames are answers with an echo: they need no more than that
	// here, as the waiting request reads the rest.
	if echo, ok := answerEcho(frame); ok {
		if !cn.pending.Resolve(echo, frame) {
			c.log.Debug("response to no waiting request", "echo", echo)
		}
		return
	}
	f, err := DecodeFrame(frame)
	if err != nil {
		c.log.Warn("skipping frame", "err", err.Error(), "frame", safetext.Excerpt(frame, 200))
		return
	}
	if f.Kind == ResponseFrame {
		c.handleResponse(cn, f.Response, frame)
		return
	}
	ev := f.Event
	c.learnVersion(ev.ServerVersion)
	ev.Server = c.opts.Name
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	c.events.Push(ev, len(frame))
}

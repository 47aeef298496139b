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
	opts    Options
	log     *slog.Logger
	events  *inbox.Inbox[minecraft.Event]
	state   link.State
	running atomic.Bool

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
		opts:   o,
		log:    log,
		events: inbox.New[minecraft.Event](o.Inbox),
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
		return fmt.Errorf("dial %s: %w", redact.URL(c.opts.URL), err)
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
	// with close 1008 (§1.2), so the connection counts as up once the
	// plugin has answered something. get_status also tells the game version.
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

// handleFrame runs in the session's reader and never blocks: responses go to
// their waiting request, events to Events, bad frames are logged and
// skipped.
func (c *Client) handleFrame(cn *conn, frame []byte) {
	// Most frames are answers with an echo: they need no more than that
	// here, as the waiting request reads the rest.
	var peek struct {
		PostType flexString `json:"post_type"`
		Echo     flexString `json:"echo"`
	}
	if json.Unmarshal(frame, &peek) == nil && peek.Echo != "" && strings.EqualFold(string(peek.PostType), "response") {
		if !cn.pending.Resolve(string(peek.Echo), frame) {
			c.log.Debug("response to no waiting request", "echo", string(peek.Echo))
		}
		return
	}
	f, err := DecodeFrame(frame)
	if err != nil {
		c.log.Warn("skipping frame", "err", err.Error(), "frame", excerpt(frame))
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

// handleResponse hands an answer to its request. The plugin's error reply
// for a request it could not process (a component the game's codec rejects,
// say) has no echo; it quotes the raw request, whose echo is used when it
// can be read, else the reply belongs to the oldest request outstanding,
// since the plugin answers a connection's requests strictly in order. Either
// way that request fails at once instead of waiting for its timeout.
func (c *Client) handleResponse(cn *conn, r Response, frame []byte) {
	if r.Echo != "" {
		if !cn.pending.Resolve(r.Echo, frame) {
			c.log.Debug("response to no waiting request", "echo", r.Echo, "api", r.API)
		}
		return
	}
	if echo := quotedEcho(r.Data); echo != "" {
		if cn.pending.Resolve(echo, frame) {
			c.log.Warn("plugin could not process a request", "code", r.Code, "message", r.Message)
		} else {
			c.log.Warn("plugin could not process a request no longer waited for", "code", r.Code, "message", r.Message)
		}
		return
	}
	if _, ok := cn.pending.ResolveOldest(frame); ok {
		c.log.Warn("plugin could not process a request; failing the oldest one outstanding",
			"code", r.Code, "message", r.Message)
		return
	}
	c.log.Warn("plugin could not process a request no longer waited for", "code", r.Code, "message", r.Message)
}

// quotedEcho reads the echo of the raw request the plugin quotes in its
// parse-error reply ({"rawJsonMessage": "<request>"}); "" when there is none.
func quotedEcho(data json.RawMessage) string {
	var d struct {
		Raw string `json:"rawJsonMessage"`
	}
	if json.Unmarshal(data, &d) != nil || d.Raw == "" {
		return ""
	}
	var req struct {
		Echo flexString `json:"echo"`
	}
	if json.Unmarshal([]byte(d.Raw), &req) != nil {
		return ""
	}
	return string(req.Echo)
}

func excerpt(b []byte) string {
	const limit = 200
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}

// request is the envelope of an API call (§2.1).
type request struct {
	API  string `json:"api"`
	Data any    `json:"data,omitempty"`
	Echo string `json:"echo"`
}

// live returns the connection requests may use, or an error wrapping
// link.ErrNotConnected.
func (c *Client) live(api string) (*conn, error) {
	c.mu.Lock()
	cn, ready := c.session, c.ready
	c.mu.Unlock()
	if cn == nil || !ready {
		return nil, fmt.Errorf("queqiao %s %s: %w", c.opts.Name, api, link.ErrNotConnected)
	}
	return cn, nil
}

// call sends one request on the live connection and waits for its answer.
func (c *Client) call(ctx context.Context, api string, data any) (Response, error) {
	cn, err := c.live(api)
	if err != nil {
		return Response{}, err
	}
	return c.request(ctx, cn, api, data)
}

// request sends one request on cn and waits for its response, at most
// RequestTimeout.
func (c *Client) request(ctx context.Context, cn *conn, api string, data any) (Response, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	r, err := c.start(ctx, cn, api, data)
	if err != nil {
		return Response{}, err
	}
	return c.wait(ctx, r, api)
}

func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, c.opts.RequestTimeout,
		fmt.Errorf("no answer within %s: %w", c.opts.RequestTimeout, context.DeadlineExceeded))
}

// start sends one request on cn without waiting for the answer.
func (c *Client) start(ctx context.Context, cn *conn, api string, data any) (*ws.Request, error) {
	r, err := ws.Start(ctx, cn.ws, cn.pending, func(echo string) ([]byte, error) {
		return json.Marshal(request{API: api, Data: data, Echo: echo})
	})
	if err != nil {
		return nil, c.requestError(api, err)
	}
	return r, nil
}

// wait waits for the answer to r and reads it.
func (c *Client) wait(ctx context.Context, r *ws.Request, api string) (Response, error) {
	raw, err := r.Wait(ctx)
	if err != nil {
		return Response{}, c.requestError(api, err)
	}
	resp, err := decodeResponse(raw) // handleFrame saw it is a response
	if err != nil {
		return Response{}, fmt.Errorf("queqiao %s %s: %w", c.opts.Name, api, err)
	}
	if resp.API == "" {
		resp.API = api // absent before plugin 0.3.3, null on the parse-error path
	}
	if err := resp.Err(); err != nil {
		return resp, fmt.Errorf("queqiao %s: %w", c.opts.Name, err)
	}
	return resp, nil
}

func (c *Client) requestError(api string, err error) error {
	if errors.Is(err, ws.ErrClosed) {
		err = fmt.Errorf("connection closed before the answer: %w", link.ErrNotConnected)
	}
	return fmt.Errorf("queqiao %s %s: %w", c.opts.Name, api, err)
}

// errEmptyMessage refuses a message the game's component parser would
// reject, without bothering the plugin.
var errEmptyMessage = fmt.Errorf("empty message: %w", minecraft.ErrInvalidMessage)

// message encodes components in the server's spelling.
func (c *Client) message(msg []minecraft.Component) (json.RawMessage, error) {
	if len(msg) == 0 {
		return nil, fmt.Errorf("queqiao %s: %w", c.opts.Name, errEmptyMessage)
	}
	b, err := minecraft.Marshal(msg, c.Style())
	if err != nil {
		return nil, fmt.Errorf("queqiao %s: encoding message: %w: %w", c.opts.Name, minecraft.ErrInvalidMessage, err)
	}
	return b, nil
}

// messageData is the data of the APIs whose only field is the message.
type messageData struct {
	Message json.RawMessage `json:"message"`
}

// sendMessage calls api with msg as its only data field.
func (c *Client) sendMessage(ctx context.Context, api string, msg []minecraft.Component) error {
	m, err := c.message(msg)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, api, messageData{m})
	return err
}

// Broadcast shows msg to every player, after the plugin's message_prefix.
func (c *Client) Broadcast(ctx context.Context, msg []minecraft.Component) error {
	return c.Broadcasts(ctx, [][]minecraft.Component{msg})[0]
}

// Broadcasts shows each message to every player, in order, with all of
// them in flight at once on the one connection: the plugin works through a
// connection's requests strictly in order, so a batch costs about one round
// trip instead of one per message. errs[i] is msgs[i]'s outcome, nil when
// the plugin showed it. Each request gets RequestTimeout from the moment the
// one before it was answered. Once one goes unanswered, those behind it that
// have no answer yet end with minecraft.ErrQueuedBehind: the plugin had not
// got to them, which is no failure of theirs.
func (c *Client) Broadcasts(ctx context.Context, msgs [][]minecraft.Component) (errs []error) {
	errs = make([]error, len(msgs))
	cn, err := c.live("broadcast")
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	reqs := make([]*ws.Request, len(msgs))
	for i, msg := range msgs {
		m, err := c.message(msg)
		if err != nil {
			errs[i] = err
			continue
		}
		if reqs[i], err = c.start(ctx, cn, "broadcast", messageData{m}); err != nil {
			for j := i; j < len(msgs); j++ { // not sent: they wait for the next try
				errs[j] = err
			}
			break
		}
	}
	stuck := false
	for i, r := range reqs {
		if r == nil {
			continue
		}
		if stuck {
			_, errs[i] = c.wait(doneContext, r, "broadcast") // an answer already here still counts
			if errors.Is(errs[i], context.Canceled) {
				errs[i] = fmt.Errorf("queqiao %s broadcast: %w", c.opts.Name, minecraft.ErrQueuedBehind)
			}
			continue
		}
		rctx, cancel := c.withTimeout(ctx)
		_, errs[i] = c.wait(rctx, r, "broadcast")
		cancel()
		stuck = errors.Is(errs[i], context.DeadlineExceeded)
	}
	return errs
}

// doneContext is already cancelled: waiting with it takes only an answer
// that has arrived.
var doneContext = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// Title shows a title and/or subtitle to every player (fade in 1 s, stay
// 3.5 s, fade out 1 s). An empty part is sent as null; the plugin refuses
// both being empty.
func (c *Client) Title(ctx context.Context, title, subtitle []minecraft.Component) error {
	data := struct {
		Title    json.RawMessage `json:"title"` // nil marshals as null
		Subtitle json.RawMessage `json:"subtitle"`
		FadeIn   int             `json:"fade_in"`
		Stay     int             `json:"stay"`
		FadeOut  int             `json:"fade_out"`
	}{FadeIn: 20, Stay: 70, FadeOut: 20}
	var err error
	if len(title) > 0 {
		if data.Title, err = c.message(title); err != nil {
			return err
		}
	}
	if len(subtitle) > 0 {
		if data.Subtitle, err = c.message(subtitle); err != nil {
			return err
		}
	}
	_, err = c.call(ctx, "send_title", data)
	return err
}

// ActionBar shows msg above every player's hotbar.
func (c *Client) ActionBar(ctx context.Context, msg []minecraft.Component) error {
	return c.sendMessage(ctx, "send_actionbar", msg)
}

// PrivateMessage sends msg to one player by name. A player who is not
// online gives an error wrapping minecraft.ErrPlayerOffline.
func (c *Client) PrivateMessage(ctx context.Context, player string, msg []minecraft.Component) error {
	if player == "" {
		return fmt.Errorf("queqiao %s send_private_msg: empty player name", c.opts.Name)
	}
	m, err := c.message(msg)
	if err != nil {
		return err
	}
	// uuid must be null, never "": the plugin rejects "" with a 500 (§3.4).
	resp, err := c.call(ctx, "send_private_msg", struct {
		UUID     *string         `json:"uuid"`
		Nickname string          `json:"nickname"`
		Message  json.RawMessage `json:"message"`
	}{Nickname: player, Message: m})
	if err != nil {
		return err
	}
	// An offline player is a 200 SUCCESS whose target_player is null.
	var result struct {
		TargetPlayer json.RawMessage `json:"target_player"`
		Message      string          `json:"message"`
	}
	if len(resp.Data) > 0 {
		if err := json.Unmarshal(resp.Data, &result); err != nil {
			return fmt.Errorf("queqiao %s send_private_msg: reading result: %w", c.opts.Name, err)
		}
	}
	if isNull(result.TargetPlayer) {
		return fmt.Errorf("queqiao %s send_private_msg to %s: %s: %w",
			c.opts.Name, player, result.Message, minecraft.ErrPlayerOffline)
	}
	return nil
}

// RunCommand runs a console command through the plugin's own RCON client
// (send_rcon_command) and returns its output. The command has no leading
// "/"; control characters are refused.
func (c *Client) RunCommand(ctx context.Context, cmd string) (string, error) {
	if err := minecraft.ValidateCommand(cmd); err != nil {
		return "", fmt.Errorf("queqiao %s send_rcon_command: %w", c.opts.Name, err)
	}
	resp, err := c.call(ctx, "send_rcon_command", struct {
		Command string `json:"command"`
	}{cmd})
	if err != nil {
		return "", err
	}
	if len(resp.Data) == 0 {
		return "", nil
	}
	var out string
	if err := json.Unmarshal(resp.Data, &out); err != nil {
		return string(resp.Data), nil // not a string: show it as the plugin sent it
	}
	return out, nil
}

// Status asks the plugin for the server's version and player counts
// (get_status, plugin 0.5.0+).
func (c *Client) Status(ctx context.Context) (minecraft.Status, error) {
	resp, err := c.call(ctx, "get_status", nil)
	if err != nil {
		return minecraft.Status{}, err
	}
	st, err := c.learnStatus(resp.Data)
	if err != nil {
		return st, fmt.Errorf("queqiao %s get_status: %w", c.opts.Name, err)
	}
	return st, nil
}

// learnStatus decodes a get_status payload and learns the game version
// from it.
func (c *Client) learnStatus(data json.RawMessage) (minecraft.Status, error) {
	var w struct {
		ServerVersion flexString `json:"server_version"`
		Ping          struct {
			Version struct {
				Name flexString `json:"name"`
			} `json:"version"`
			// Numbers here pass through a Gson map and arrive as floats.
			Players struct {
				Max    flexNumber `json:"max"`
				Online flexNumber `json:"online"`
				Sample []struct {
					Name flexString `json:"name"`
				} `json:"sample"`
			} `json:"players"`
		} `json:"server_list_ping"`
	}
	if isNull(data) {
		return minecraft.Status{}, errors.New("empty status")
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return minecraft.Status{}, fmt.Errorf("reading status: %w", err)
	}
	st := minecraft.Status{
		Version:       string(w.ServerVersion),
		OnlinePlayers: int(w.Ping.Players.Online),
		MaxPlayers:    int(w.Ping.Players.Max),
	}
	if _, ok := minecraft.StyleFor(st.Version); !ok && w.Ping.Version.Name != "" {
		st.Version = string(w.Ping.Version.Name)
	}
	for _, p := range w.Ping.Players.Sample {
		st.Players = append(st.Players, string(p.Name))
	}
	c.learnVersion(st.Version)
	return st, nil
}

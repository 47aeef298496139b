package fake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

// OneBotOptions configures the OneBot 11 bot stand-in.
type OneBotOptions struct {
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
}

// OneBot stands in for NapCat or LLBot speaking OneBot 11 (protocols §A–E).
// One port serves a forward WebSocket (one universal socket on any path),
// the HTTP API (POST /<action>) and the SSE event stream (GET /_events);
// DialReverse is a reverse WebSocket client and PostWebhook an HTTP POST
// event reporter. Every WebSocket connection gets a lifecycle connect
// event, heartbeats and every pushed event, every SSE stream every pushed
// event (and heartbeats from LLBot); actions get replies shaped like the
// chosen flavor's. Safe for concurrent use.
type OneBot struct {
	opts OneBotOptions
	log  *slog.Logger

	// server counts the connection goroutines, accepted or dialled, so Stop
	// can wait for them all.
	server *standInServer

	mu       sync.Mutex
	members  map[[2]int64]qq.Member
	groups   map[int64]string
	messages map[int64]onebotMessageEvent // for get_msg
	sent     []Sent
	actions  []string
	silent   map[string]bool
	counter  int64 // message ids and sequences
	sse      map[*onebotSSEStream]struct{}
}

// onebotSSEStream is one open SSE stream. Emit hands it frames; done is
// closed when its handler ends, so Emit never waits for a stream that is
// gone.
type onebotSSEStream struct {
	frames chan []byte
	done   chan struct{}
}

const (
	onebotDefaultSelfID    = 2401234567
	onebotDefaultHeartbeat = 30 * time.Second
	onebotBotNickname      = "MC桥接机器人"
	onebotRetcodeBadParams = 1400
	onebotRetcodeToken     = 1403
	onebotRetcodeUnknown   = 1404
	onebotRetcodeFailed    = 1200
	// The HTTP API's codes for a bad parameter, a failed action and (LLBot)
	// an unknown action (protocols §B).
	onebotHTTPRetcodeBadParams = 400
	onebotHTTPRetcodeFailed    = 200
	onebotHTTPRetcodeUnknown   = 404
	onebotMaxBody              = 4 << 20
	onebotSSEBuffer            = 64
)

// NewOneBot returns a stopped stand-in; call Start or DialReverse.
func NewOneBot(o OneBotOptions) *OneBot {
	if o.SelfID == 0 {
		o.SelfID = onebotDefaultSelfID
	}
	if o.Flavor != "llbot" {
		o.Flavor = "napcat"
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = onebotDefaultHeartbeat
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &OneBot{
		opts:     o,
		log:      log.With("fake", "onebot", "flavor", o.Flavor),
		members:  make(map[[2]int64]qq.Member),
		groups:   make(map[int64]string),
		messages: make(map[int64]onebotMessageEvent),
		silent:   make(map[string]bool),
		sse:      make(map[*onebotSSEStream]struct{}),
	}
	b.server = newStandInServer("onebot stand-in", b.log, func(run *standInRun) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { b.serveHTTP(run, w, r) })
	})
	return b
}

func (b *OneBot) napcat() bool { return b.opts.Flavor == "napcat" }

// Start listens on addr ("127.0.0.1:0" picks a free port).
func (b *OneBot) Start(addr string) error { return b.server.start(addr) }

// URL is the forward WebSocket address, e.g. ws://127.0.0.1:41234/.
func (b *OneBot) URL() string { return "ws://" + b.server.address() + "/" }

// HTTPURL is the HTTP API's address on the same port, e.g.
// http://127.0.0.1:41234; the SSE stream is HTTPURL()+"/_events".
func (b *OneBot) HTTPURL() string { return "http://" + b.server.address() }

// Stop simulates a crash: it stops listening and drops every connection,
// accepted or dialled, without a close frame, and returns once all of the
// stand-in's goroutines have ended.
func (b *OneBot) Stop() { b.server.stop() }

// Restart listens again on the port of the first Start.
func (b *OneBot) Restart() error { return b.server.restart() }

// Connected is the number of open WebSocket connections and SSE streams
// that passed the token check.
func (b *OneBot) Connected() int {
	b.mu.Lock()
	streams := len(b.sse)
	b.mu.Unlock()
	return b.server.connected() + streams
}

// AddMember makes m known to get_group_member_info in group.
func (b *OneBot) AddMember(group int64, m qq.Member) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.members[[2]int64{group, m.UserID}] = m
}

// SetGroupName makes the group known to get_group_info.
func (b *OneBot) SetGroupName(group int64, name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.groups[group] = name
}

// SetSilent makes the stand-in receive action but never answer it (for
// timeout tests).
func (b *OneBot) SetSilent(action string, silent bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.silent[action] = silent
}

// Sent returns every message send request received so far, in order.
func (b *OneBot) Sent() []Sent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.sent)
}

// Actions returns the name of every action received so far, in order.
func (b *OneBot) Actions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.actions)
}

// GroupMessage pushes a group message event from sender to every connected
// client (WebSocket and SSE) and keeps it for get_msg. It returns the
// message_id.
func (b *OneBot) GroupMessage(group int64, sender qq.Member, segs []qq.Segment) (messageID int64) {
	b.mu.Lock()
	ev := b.newMessageEventLocked("group", sender, segs)
	ev.GroupID, ev.GroupName = group, b.groups[group]
	b.messages[ev.MessageID] = ev
	b.mu.Unlock()
	b.Emit(onebotMarshal(ev))
	return ev.MessageID
}

// PrivateMessage pushes a private (friend) message event from sender to
// every connected client (WebSocket and SSE) and keeps it for get_msg. It
// returns the message_id.
func (b *OneBot) PrivateMessage(user int64, sender qq.Member, segs []qq.Segment) (messageID int64) {
	sender.UserID = user
	sender.Card, sender.Role = "", "" // friends have no group card or role
	b.mu.Lock()
	ev := b.newMessageEventLocked("private", sender, segs)
	ev.SubType, ev.TargetID = "friend", user
	b.messages[ev.MessageID] = ev
	b.mu.Unlock()
	b.Emit(onebotMarshal(ev))
	return ev.MessageID
}

// Emit pushes a raw frame (a fixture, garbage) to every connected client:
// WebSocket connections and SSE streams. Like a write to a slow WebSocket
// client, handing a frame to a slow SSE stream waits.
func (b *OneBot) Emit(frame []byte) {
	b.server.emit(frame)
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

// PostWebhook posts frame to url as the HTTP POST event reporter of NapCat
// and LLBot does (protocols §A.4): Content-Type application/json, X-Self-ID
// and, when the stand-in has a token, X-Signature "sha1=" with the hex
// HMAC-SHA1 of the exact body keyed with the token. A failed request or an
// answer other than 2xx is an error with the status and the start of the
// body.
func (b *OneBot) PostWebhook(ctx context.Context, url string, frame []byte) error {
	h := http.Header{}
	h.Set("X-Self-ID", strconv.FormatInt(b.opts.SelfID, 10))
	if b.opts.Token != "" {
		h.Set("X-Signature", onebotSignature(b.opts.Token, frame))
	}
	return b.server.postWebhook(ctx, url, frame, h)
}

// onebotSignature is the X-Signature of body: "sha1=" and the hex HMAC-SHA1
// keyed with token.
func onebotSignature(token string, body []byte) string {
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write(body)
	return "sha1=" + hex.EncodeToString(mac.Sum(nil))
}

// DialReverse acts as a bot whose reverse WebSocket points at url (the
// bridge's QQ_LISTEN), with the headers NapCat and LLBot send. It returns nil
// when ctx ends, or an error when the handshake is refused (with the HTTP
// status) or the connection drops.
func (b *OneBot) DialReverse(ctx context.Context, url string) error {
	h := http.Header{}
	h.Set("X-Self-ID", strconv.FormatInt(b.opts.SelfID, 10))
	h.Set("Authorization", "Bearer "+b.opts.Token) // sent even when empty, as both do
	h.Set("X-Client-Role", "Universal")
	if b.napcat() {
		h.Set("User-Agent", "OneBot/11")
	} else {
		h.Set("User-Agent", "LLOneBot/8.1.7")
	}
	if !b.server.enter(nil) {
		return errors.New("onebot stand-in: stopping")
	}
	defer b.server.leave()
	return b.server.dialAndServe(ctx, url, h, 2*time.Second, b.serveConn)
}

// serveHTTP serves one request on the stand-in's port, as NapCat with its
// WebSocket, HTTP and HTTP SSE servers sharing a port would (LLBot alike): a
// WebSocket upgrade on any path is the forward universal socket, GET
// /_events the SSE stream, anything else an HTTP API action. A wrong token
// gets 403 {"message":"token verify failed!"} over HTTP (LLBot without the
// "!").
func (b *OneBot) serveHTTP(run *standInRun, w http.ResponseWriter, r *http.Request) {
	if websocket.IsWebSocketUpgrade(r) {
		b.serveWebSocket(run, w, r)
		return
	}
	if b.opts.Token != "" && b.presentedToken(r) != b.opts.Token {
		b.log.Debug("refusing HTTP request: wrong token", "peer", r.RemoteAddr, "path", r.URL.Path)
		if b.napcat() {
			w.Header().Set("Content-Type", "text/html; charset=utf-8") // express res.send of a string
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"message":"token verify failed!"}`)
			return
		}
		onebotWriteJSON(w, http.StatusForbidden, map[string]string{"message": "token verify failed"})
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/_events" {
		b.serveSSE(run, w, r)
		return
	}
	b.serveAction(run, w, r)
}

// serveWebSocket is the forward WebSocket server. Like NapCat and LLBot it
// upgrades first and refuses a wrong token afterwards, with a 1403 frame.
func (b *OneBot) serveWebSocket(run *standInRun, w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		b.log.Debug("upgrade failed", "err", err)
		return
	}
	if b.opts.Token != "" && b.presentedToken(r) != b.opts.Token {
		b.log.Debug("refusing connection: wrong token", "peer", r.RemoteAddr)
		b.rejectToken(ws)
		return
	}
	b.server.serveAccepted(run, &standInConn{ws: ws}, b.serveConn)
}

// presentedToken reads the token the way the flavor does (protocols §A.5):
// only the Bearer scheme works, NapCat prefers the query parameter, LLBot
// the header.
func (b *OneBot) presentedToken(r *http.Request) string {
	header := r.Header.Get("Authorization")
	if i := strings.LastIndex(header, "Bearer "); i >= 0 {
		header = header[i+len("Bearer "):]
	}
	query := r.URL.Query().Get("access_token")
	if b.napcat() {
		if query != "" {
			return query
		}
		return header
	}
	if r.Header.Get("Authorization") != "" {
		return header
	}
	return query
}

// rejectToken sends the 1403 frame and closes: NapCat without a close code
// (the client sees 1005), LLBot with 1008.
func (b *OneBot) rejectToken(ws *websocket.Conn) {
	conn := &standInConn{ws: ws}
	resp := b.failure(nil, onebotRetcodeToken, "token验证失败")
	if b.napcat() {
		resp.Echo = json.RawMessage("null")
	}
	_ = conn.write(onebotMarshal(resp))
	if b.napcat() {
		conn.close(websocket.CloseNoStatusReceived, "") // 1005 is formatted as an empty payload
	} else {
		conn.close(websocket.ClosePolicyViolation, "invalid access token")
	}
}

// serveConn sends the lifecycle event, then heartbeats while it answers
// actions, until the connection fails.
func (b *OneBot) serveConn(c *standInConn) error {
	if err := c.write(onebotMarshal(b.lifecycleEvent())); err != nil {
		return err
	}
	done := make(chan struct{})
	heartbeats := make(chan struct{})
	go func() {
		defer close(heartbeats)
		t := time.NewTicker(b.opts.HeartbeatInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if c.write(onebotMarshal(b.heartbeatEvent())) != nil {
					return
				}
			}
		}
	}()
	defer func() {
		close(done)
		<-heartbeats
	}()
	for {
		typ, frame, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		if typ != websocket.TextMessage {
			continue
		}
		reply, ok := b.answer(frame)
		if !ok {
			continue
		}
		if err := c.write(onebotMarshal(reply)); err != nil {
			return err
		}
	}
}

// onebotResponse has the field order of both implementations. LLBot omits
// echo when the request had none and never sends stream.
type onebotResponse struct {
	Status  string          `json:"status"`
	Retcode int             `json:"retcode"`
	Data    any             `json:"data"`
	Message string          `json:"message"`
	Wording string          `json:"wording"`
	Echo    json.RawMessage `json:"echo,omitempty"`
	Stream  string          `json:"stream,omitempty"`
}

func (b *OneBot) envelope(echo json.RawMessage) onebotResponse {
	r := onebotResponse{Echo: echo}
	if b.napcat() {
		r.Stream = "normal-action"
		if len(echo) == 0 {
			r.Echo = json.RawMessage(`""`)
		}
	}
	return r
}

func (b *OneBot) success(echo json.RawMessage, data any) onebotResponse {
	r := b.envelope(echo)
	r.Status, r.Data = "ok", data
	return r
}

func (b *OneBot) failure(echo json.RawMessage, retcode int, message string) onebotResponse {
	r := b.envelope(echo)
	r.Status, r.Retcode, r.Message, r.Wording = "failed", retcode, message, message
	return r
}

// onebotFailure is an action error: its retcode and message.
type onebotFailure struct {
	retcode int
	message string
}

func (f *onebotFailure) Error() string { return f.message }

func onebotBadParams(format string, args ...any) error {
	return &onebotFailure{onebotRetcodeBadParams, fmt.Sprintf(format, args...)}
}

// answer handles one action frame from a WebSocket; ok is false when no
// reply is sent.
func (b *OneBot) answer(frame []byte) (reply onebotResponse, ok bool) {
	var req struct {
		Action string          `json:"action"`
		Params json.RawMessage `json:"params"`
		Echo   json.RawMessage `json:"echo"`
	}
	if err := json.Unmarshal(frame, &req); err != nil {
		return b.failure(nil, onebotRetcodeBadParams, "json解析失败: "+err.Error()), true
	}
	return b.act(req.Action, req.Params, req.Echo, false)
}

// act records and runs one action and builds its reply; ok is false when
// the action is silenced. overHTTP selects the HTTP API's retcodes and
// wording (protocols §A.3, §B).
func (b *OneBot) act(action string, params, echo json.RawMessage, overHTTP bool) (reply onebotResponse, ok bool) {
	b.mu.Lock()
	b.actions = append(b.actions, action)
	silent := b.silent[action]
	b.mu.Unlock()
	b.log.Debug("action", "action", action, "http", overHTTP)
	if silent {
		return onebotResponse{}, false
	}
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	data, err := b.execute(action, params)
	if err == nil {
		return b.success(echo, data), true
	}
	f, isFailure := errors.AsType[*onebotFailure](err)
	if !isFailure {
		f = &onebotFailure{onebotRetcodeFailed, err.Error()}
	}
	retcode, message := f.retcode, f.message
	if overHTTP {
		retcode, message = b.httpFailure(action, f)
	}
	return b.failure(echo, retcode, message), true
}

// httpFailure is the HTTP API's retcode and message for a failure the
// WebSocket reports with f.
func (b *OneBot) httpFailure(action string, f *onebotFailure) (retcode int, message string) {
	switch f.retcode {
	case onebotRetcodeBadParams:
		return onebotHTTPRetcodeBadParams, f.message
	case onebotRetcodeUnknown:
		if b.napcat() {
			return onebotHTTPRetcodeFailed, "不支持的Api " + action
		}
		return onebotHTTPRetcodeUnknown, f.message
	}
	return onebotHTTPRetcodeFailed, f.message
}

// serveAction answers an HTTP API request /<action> (protocols §A.3). The
// params are the JSON body of a POST (NapCat also merges the query into it)
// or the query of a GET; a body that is not a JSON object is NapCat's HTTP
// 400 "Invalid JSON", LLBot's retcode 400. Only LLBot's unknown action gets
// an HTTP status other than 200: 404. NapCat makes up an echo when none was
// sent. A silenced action is held unanswered until the client gives up or
// the stand-in stops.
func (b *OneBot) serveAction(run *standInRun, w http.ResponseWriter, r *http.Request) {
	action, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	params, err := b.httpParams(w, r)
	if err != nil {
		if b.napcat() {
			http.Error(w, "Invalid JSON", http.StatusBadRequest)
		} else {
			onebotWriteJSON(w, http.StatusOK, b.failure(nil, onebotHTTPRetcodeBadParams, "请求体解析失败: "+err.Error()))
		}
		return
	}
	echo := params["echo"]
	if echo == nil && b.napcat() {
		echo = onebotMarshal(strconv.FormatInt(time.Now().UnixNano(), 36))
	}
	reply, ok := b.act(action, onebotMarshal(params), echo, true)
	if !ok {
		select {
		case <-r.Context().Done():
		case <-run.stop:
		}
		return
	}
	status := http.StatusOK
	if reply.Retcode == onebotHTTPRetcodeUnknown {
		status = http.StatusNotFound
	}
	onebotWriteJSON(w, status, reply)
}

// httpParams collects an HTTP action's params as the flavor does.
func (b *OneBot) httpParams(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	var params map[string]json.RawMessage
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, onebotMaxBody))
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &params); err != nil {
				return nil, err
			}
		}
	}
	if params == nil { // no body, or "null"
		params = make(map[string]json.RawMessage)
	}
	if r.Method != http.MethodPost || b.napcat() {
		for key, values := range r.URL.Query() {
			params[key] = onebotMarshal(values[0])
		}
	}
	return params, nil
}

func onebotWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(onebotMarshal(v))
}

// serveSSE streams every pushed event as a "data: <json>" frame, as
// NapCat's HTTP SSE server and LLBot do; LLBot also sends heartbeat events
// on it. The stream ends when the client goes or the stand-in stops.
func (b *OneBot) serveSSE(run *standInRun, w http.ResponseWriter, r *http.Request) {
	// Subscribed before the headers go out, so an event pushed as soon as
	// the client sees the stream open is not missed.
	stream := &onebotSSEStream{frames: make(chan []byte, onebotSSEBuffer), done: make(chan struct{})}
	b.mu.Lock()
	b.sse[stream] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.sse, stream)
		b.mu.Unlock()
		close(stream.done)
	}()

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	var heartbeats <-chan time.Time
	if !b.napcat() {
		t := time.NewTicker(b.opts.HeartbeatInterval)
		defer t.Stop()
		heartbeats = t.C
	}
	for {
		var frame []byte
		select {
		case frame = <-stream.frames:
		case <-heartbeats:
			frame = onebotMarshal(b.heartbeatEvent())
		case <-run.stop:
			return
		case <-r.Context().Done():
			return
		}
		_ = rc.SetWriteDeadline(time.Now().Add(standInWriteWait))
		if _, err := w.Write(onebotSSEFrame(frame)); err != nil || rc.Flush() != nil {
			return
		}
	}
}

// onebotSSEFrame encodes one event as the bots do, "data: <json>" and a
// blank line; a frame of several lines (garbage) gets one data line each,
// as SSE requires.
func onebotSSEFrame(frame []byte) []byte {
	var out bytes.Buffer
	for line := range bytes.Lines(frame) {
		out.WriteString("data: ")
		out.Write(bytes.TrimRight(line, "\r\n"))
		out.WriteByte('\n')
	}
	if len(frame) == 0 {
		out.WriteString("data: \n")
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func (b *OneBot) execute(action string, params json.RawMessage) (any, error) {
	switch action {
	case "send_group_msg", "send_private_msg", "send_msg":
		return b.actionSend(action, params)
	case "get_group_member_info":
		return b.actionMemberInfo(params)
	case "get_group_info":
		return b.actionGroupInfo(params)
	case "get_msg":
		return b.actionGetMessage(params)
	case "get_login_info":
		return map[string]any{"user_id": b.opts.SelfID, "nickname": onebotBotNickname}, nil
	}
	if b.napcat() {
		return nil, &onebotFailure{onebotRetcodeUnknown, "不支持的API " + action}
	}
	return nil, &onebotFailure{onebotRetcodeUnknown, action + " API 不存在"}
}

// onebotParams holds every parameter the handled actions take. Ids may be
// numbers or numeric strings in both implementations.
type onebotParams struct {
	MessageType string          `json:"message_type"`
	GroupID     onebotID        `json:"group_id"`
	UserID      onebotID        `json:"user_id"`
	MessageID   onebotID        `json:"message_id"`
	Message     json.RawMessage `json:"message"`
	AutoEscape  bool            `json:"auto_escape"`
}

type onebotID int64

func (id *onebotID) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*id = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an id: %s", b)
	}
	*id = onebotID(v)
	return nil
}

func onebotDecodeParams(params json.RawMessage) (onebotParams, error) {
	var p onebotParams
	if err := json.Unmarshal(params, &p); err != nil {
		return p, onebotBadParams("参数解析失败: %v", err)
	}
	return p, nil
}

func (b *OneBot) actionSend(action string, params json.RawMessage) (any, error) {
	p, err := onebotDecodeParams(params)
	if err != nil {
		return nil, err
	}
	group, user := int64(p.GroupID), int64(p.UserID)
	switch {
	case action == "send_group_msg" || action == "send_msg" && group != 0 && p.MessageType != "private":
		if group == 0 {
			return nil, onebotBadParams("Key: group_id, Message: Expected required property")
		}
		user = 0
	default:
		if user == 0 {
			return nil, onebotBadParams("Key: user_id, Message: Expected required property")
		}
		group = 0
	}
	segs, err := onebotDecodeOutgoing(p.Message, p.AutoEscape)
	if err != nil {
		return nil, err
	}
	var text strings.Builder
	for _, s := range segs {
		if s.Type == qq.SegText {
			text.WriteString(s.Data["text"])
		}
	}
	bot := qq.Member{UserID: b.opts.SelfID, Nickname: onebotBotNickname, Role: "member"}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent = append(b.sent, Sent{Action: action, GroupID: group, UserID: user, Message: segs,
		Text: text.String(), Raw: p.Message})
	kind := "group"
	if group == 0 {
		kind = "private"
	}
	ev := b.newMessageEventLocked(kind, bot, segs)
	ev.GroupID, ev.GroupName = group, b.groups[group]
	b.messages[ev.MessageID] = ev
	return map[string]any{"message_id": ev.MessageID}, nil
}

// onebotDecodeOutgoing reads a message param the way the bots accept it: a
// segment array, a single segment, or a CQ string (literal text with
// auto_escape).
func onebotDecodeOutgoing(raw json.RawMessage, autoEscape bool) ([]qq.Segment, error) {
	trimmed := strings.TrimSpace(string(raw))
	var wire []struct {
		Type string                     `json:"type"`
		Data map[string]json.RawMessage `json:"data"`
	}
	switch {
	case trimmed == "" || trimmed == "null":
		return nil, onebotBadParams("Key: message, Message: Expected required property")
	case strings.HasPrefix(trimmed, `"`):
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, onebotBadParams("message: %v", err)
		}
		if autoEscape {
			return []qq.Segment{qq.Text(s)}, nil
		}
		return onebot.ParseCQ(s), nil
	case strings.HasPrefix(trimmed, "{"):
		raw = json.RawMessage("[" + trimmed + "]")
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, onebotBadParams("message: %v", err)
	}
	segs := make([]qq.Segment, 0, len(wire))
	for _, w := range wire {
		if w.Type == "" {
			return nil, onebotBadParams("message: segment without type")
		}
		seg := qq.Segment{Type: w.Type, Data: map[string]string{}}
		for k, v := range w.Data {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = string(v) // numbers and booleans as written
			}
			seg.Data[k] = s
		}
		segs = append(segs, seg)
	}
	return segs, nil
}

func (b *OneBot) actionMemberInfo(params json.RawMessage) (any, error) {
	p, err := onebotDecodeParams(params)
	if err != nil {
		return nil, err
	}
	group, user := int64(p.GroupID), int64(p.UserID)
	b.mu.Lock()
	m, ok := b.members[[2]int64{group, user}]
	b.mu.Unlock()
	if !ok {
		if b.napcat() {
			return nil, fmt.Errorf("群(%d)成员%d不存在", group, user)
		}
		return nil, errors.New("群成员未找到")
	}
	info := onebotMemberInfo{GroupID: group, UserID: user, Nickname: m.Nickname, Card: m.Card,
		Sex: "unknown", Level: "1", QQLevel: 1, JoinTime: 1650000000, LastSentTime: time.Now().Unix(),
		CardChangeable: true, Role: onebotOr(m.Role, "member")}
	if !b.napcat() {
		info.CardOrNickname = onebotOr(m.Card, m.Nickname)
	}
	return info, nil
}

// onebotMemberInfo is get_group_member_info data in the implementations'
// field order (fixtures *_get_group_member_info_response.json).
type onebotMemberInfo struct {
	GroupID         int64  `json:"group_id"`
	UserID          int64  `json:"user_id"`
	Nickname        string `json:"nickname"`
	Card            string `json:"card"`
	CardOrNickname  string `json:"card_or_nickname,omitempty"` // LLBot only
	Sex             string `json:"sex"`
	Age             int    `json:"age"`
	Area            string `json:"area"`
	Level           string `json:"level"`
	QQLevel         int    `json:"qq_level"`
	JoinTime        int64  `json:"join_time"`
	LastSentTime    int64  `json:"last_sent_time"`
	TitleExpireTime int64  `json:"title_expire_time"`
	Unfriendly      bool   `json:"unfriendly"`
	CardChangeable  bool   `json:"card_changeable"`
	IsRobot         bool   `json:"is_robot"`
	ShutUpTimestamp int64  `json:"shut_up_timestamp"`
	Role            string `json:"role"`
	Title           string `json:"title"`
}

func (b *OneBot) actionGroupInfo(params json.RawMessage) (any, error) {
	p, err := onebotDecodeParams(params)
	if err != nil {
		return nil, err
	}
	group := int64(p.GroupID)
	b.mu.Lock()
	name, ok := b.groups[group]
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("群%d不存在", group)
	}
	if b.napcat() {
		return struct {
			GroupAllShut   int    `json:"group_all_shut"`
			GroupRemark    string `json:"group_remark"`
			GroupID        int64  `json:"group_id"`
			GroupName      string `json:"group_name"`
			MemberCount    int    `json:"member_count"`
			MaxMemberCount int    `json:"max_member_count"`
		}{0, "", group, name, 187, 500}, nil
	}
	return map[string]any{
		"group_id": group, "group_name": name, "group_memo": "", "group_create_time": 1600000000,
		"member_count": 187, "max_member_count": 500, "remark_name": "",
		"avatar_url": fmt.Sprintf("https://p.qlogo.cn/gh/%d/%d/0", group, group),
		"owner_id":   1000000001, "is_top": false, "shut_up_all_timestamp": 0, "shut_up_me_timestamp": 0,
	}, nil
}

func (b *OneBot) actionGetMessage(params json.RawMessage) (any, error) {
	p, err := onebotDecodeParams(params)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	ev, ok := b.messages[int64(p.MessageID)]
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("消息%d不存在", int64(p.MessageID))
	}
	if !b.napcat() { // LLBot adds these to get_msg replies
		ev.RealID = &ev.MessageSeq
		ev.Status = "normal"
	}
	return ev, nil
}

// onebotMessageEvent is a message event in the implementations' field order
// (fixtures napcat_group_message_array.json, llbot_group_message_array.json,
// napcat_private_message_array.json).
type onebotMessageEvent struct {
	SelfID        int64        `json:"self_id"`
	UserID        int64        `json:"user_id"`
	Time          int64        `json:"time"`
	MessageID     int64        `json:"message_id"`
	MessageSeq    int64        `json:"message_seq"`
	RealID        *int64       `json:"real_id,omitempty"`  // NapCat (= message_id); LLBot only in get_msg
	RealSeq       string       `json:"real_seq,omitempty"` // NapCat only: the QQ sequence as a string
	MessageType   string       `json:"message_type"`
	Sender        onebotSender `json:"sender"`
	RawMessage    string       `json:"raw_message"`
	Font          int          `json:"font"`
	SubType       string       `json:"sub_type"`
	Message       any          `json:"message"`
	MessageFormat string       `json:"message_format"`
	PostType      string       `json:"post_type"`
	GroupID       int64        `json:"group_id,omitempty"`
	GroupName     string       `json:"group_name,omitempty"`
	TargetID      int64        `json:"target_id,omitempty"` // private messages: the peer
	Status        string       `json:"status,omitempty"`    // LLBot get_msg only
}

type onebotSender struct {
	UserID   int64  `json:"user_id"`
	Nickname string `json:"nickname"`
	Card     string `json:"card"`
	Role     string `json:"role,omitempty"`
}

// newMessageEventLocked builds a message event with fresh ids: NapCat's
// positive short ids with message_seq = real_id = message_id and the QQ
// sequence as the string real_seq; LLBot's possibly negative ids with the
// QQ sequence as message_seq.
func (b *OneBot) newMessageEventLocked(messageType string, sender qq.Member, segs []qq.Segment) onebotMessageEvent {
	b.counter++
	seq := 48213 + b.counter
	ev := onebotMessageEvent{
		SelfID: b.opts.SelfID, UserID: sender.UserID, Time: time.Now().Unix(),
		MessageType: messageType,
		Sender:      onebotSender{UserID: sender.UserID, Nickname: sender.Nickname, Card: sender.Card, Role: sender.Role},
		RawMessage:  onebot.EncodeCQ(segs), Font: 14, SubType: "normal", PostType: "message",
		Message: onebotWireSegments(segs), MessageFormat: "array",
	}
	if b.napcat() {
		ev.MessageID = 1847362519 + b.counter
		ev.MessageSeq = ev.MessageID
		ev.RealID = &ev.MessageID
		ev.RealSeq = strconv.FormatInt(seq, 10)
	} else {
		ev.MessageID = -904512391 - b.counter
		ev.MessageSeq = seq
	}
	if b.opts.StringFormat {
		ev.Message, ev.MessageFormat = ev.RawMessage, "string"
	}
	return ev
}

// onebotNumericKeys are segment data keys the implementations send as JSON
// numbers (fixtures *_incoming_segments_catalog.json); sending them that way
// keeps clients honest about accepting both.
var onebotNumericKeys = map[string]bool{"sub_type": true, "subType": true, "emoji_package_id": true, "scene_type": true}

type onebotWireSegment struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

func onebotWireSegments(segs []qq.Segment) []onebotWireSegment {
	out := make([]onebotWireSegment, 0, len(segs))
	for _, s := range segs {
		data := make(map[string]any, len(s.Data))
		for k, v := range s.Data {
			data[k] = v
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && onebotNumericKeys[k] {
				data[k] = n
			}
			if s.Type == qq.SegFace && k == "raw" && json.Valid([]byte(v)) {
				data[k] = json.RawMessage(v) // NapCat sends the NT face object itself
			}
		}
		out = append(out, onebotWireSegment{Type: s.Type, Data: data})
	}
	return out
}

func (b *OneBot) lifecycleEvent() any {
	return struct {
		Time          int64  `json:"time"`
		SelfID        int64  `json:"self_id"`
		PostType      string `json:"post_type"`
		MetaEventType string `json:"meta_event_type"`
		SubType       string `json:"sub_type"`
	}{time.Now().Unix(), b.opts.SelfID, "meta_event", "lifecycle", "connect"}
}

func (b *OneBot) heartbeatEvent() any {
	type status struct {
		Online bool `json:"online"`
		Good   bool `json:"good"`
	}
	return struct {
		Time          int64  `json:"time"`
		SelfID        int64  `json:"self_id"`
		PostType      string `json:"post_type"`
		MetaEventType string `json:"meta_event_type"`
		Interval      int64  `json:"interval"`
		Status        status `json:"status"`
	}{time.Now().Unix(), b.opts.SelfID, "meta_event", "heartbeat", b.opts.HeartbeatInterval.Milliseconds(), status{true, true}}
}

// onebotMarshal encodes frames built from the types above, which always
// marshal.
func onebotMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("onebot stand-in: marshal %T: %v", v, err))
	}
	return b
}

func onebotOr(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}

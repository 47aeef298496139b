package fake

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mcqq/bridge/internal/ws"
	"github.com/mcqq/bridge/qq"
)

// MilkyOptions configure the Milky stand-in.
type MilkyOptions struct {
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

// MilkySent is one send_group_message / send_private_message received.
type MilkySent struct {
	API     string
	GroupID int64 // send_group_message
	UserID  int64 // send_private_message
	// Message is the outgoing segments decoded back to the neutral model
	// (mention → at, reply message_seq → id, image uri → url, …).
	Message []qq.Segment
	Text    string          // the text segments joined
	Raw     json.RawMessage // the request body as received
}

// Milky is a stand-in for a Milky implementation shaped after LLBot
// (protocols §F): it serves /api/<name>, and /event as WebSocket or SSE.
// It is safe for concurrent use.
type Milky struct {
	opts MilkyOptions
	log  *slog.Logger

	// server counts every handler in flight; its run's stop channel ends
	// the event streams.
	server *standInServer

	mu         sync.Mutex
	subs       map[*milkySub]struct{}
	members    map[[2]int64]qq.Member
	groupNames map[int64]string
	stored     map[string]map[string]any // "scene:peer:seq" → IncomingMessage
	nextSeq    int64
	sent       []MilkySent
	calls      []string
}

// milkySub is one event-stream subscriber (WebSocket or SSE).
type milkySub struct{ frames chan []byte }

const (
	milkyDefaultSelfID = 2401234567
	milkyNickname      = "MC桥接机器人"
	milkyMaxBody       = 4 << 20
	// milkySubBuffer events may wait for a slow subscriber before it misses some.
	milkySubBuffer = 256
)

// NewMilky returns a stopped stand-in; call Start.
func NewMilky(o MilkyOptions) *Milky {
	if o.SelfID == 0 {
		o.SelfID = milkyDefaultSelfID
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Milky{
		opts:       o,
		log:        o.Logger,
		subs:       make(map[*milkySub]struct{}),
		members:    make(map[[2]int64]qq.Member),
		groupNames: make(map[int64]string),
		stored:     make(map[string]map[string]any),
		nextSeq:    48200,
	}
	m.server = newStandInServer("fake milky", m.log, m.handler)
	return m
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves.
func (m *Milky) Start(addr string) error { return m.server.start(addr) }

// URL is the base URL clients use, http://127.0.0.1:port.
func (m *Milky) URL() string { return "http://" + m.server.address() }

// Stop drops every connection and stops listening, like a crashed bot, and
// returns once all its goroutines have ended.
func (m *Milky) Stop() { m.server.stop() }

// Restart listens again on the port of the first Start.
func (m *Milky) Restart() error { return m.server.restart() }

// Connected is the number of open event streams (WebSocket and SSE).
func (m *Milky) Connected() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.subs)
}

// AddMember makes a member known to get_group_member_info.
func (m *Milky) AddMember(group int64, mem qq.Member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.members[[2]int64{group, mem.UserID}] = mem
}

// SetGroupName makes a group known to get_group_info and names it in events.
func (m *Milky) SetGroupName(group int64, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.groupNames[group] = name
}

// Sent returns every send_group_message / send_private_message, in order.
func (m *Milky) Sent() []MilkySent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]MilkySent(nil), m.sent...)
}

// Calls returns the name of every authorised API call, in order.
func (m *Milky) Calls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.calls...)
}

// GroupMessage pushes a message_receive event (group scene, shaped like
// milky_message_receive_group.json) to every event-stream subscriber and
// stores it for get_message. It returns the message_seq.
func (m *Milky) GroupMessage(group int64, sender qq.Member, segs []qq.Segment) (seq int64) {
	return m.receive("group", group, sender, segs, func(now int64) map[string]any {
		return map[string]any{"group": m.groupEntityLocked(group), "group_member": milkyMemberEntity(group, sender, now)}
	})
}

// PrivateMessage pushes a message_receive event in the friend scene and
// stores it for get_message. It returns the message_seq.
func (m *Milky) PrivateMessage(user int64, sender qq.Member, segs []qq.Segment) (seq int64) {
	return m.receive("friend", user, sender, segs, func(int64) map[string]any {
		return map[string]any{"friend": map[string]any{
			"user_id": sender.UserID, "nickname": sender.Nickname, "sex": "unknown", "qid": "", "remark": "",
			"category": map[string]any{"category_id": 0, "category_name": "我的好友"},
		}}
	})
}

// receive stores and pushes a message_receive event; entitiesLocked adds
// the scene's own fields (group and member, or friend).
func (m *Milky) receive(scene string, peer int64, sender qq.Member, segs []qq.Segment,
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
	m.stored[milkyMessageKey(scene, peer, seq)] = data
	m.mu.Unlock()
	m.emitEvent("message_receive", now, data)
	return seq
}

func (m *Milky) emitEvent(eventType string, now int64, data map[string]any) {
	frame, err := json.Marshal(map[string]any{
		"time": now, "self_id": m.opts.SelfID, "event_type": eventType, "data": data,
	})
	if err != nil {
		m.log.Error("fake milky: cannot encode event", "err", err.Error())
		return
	}
	m.Emit(frame)
	if m.opts.WebhookURL != "" {
		if err := m.PostWebhook(context.Background(), m.opts.WebhookURL, frame); err != nil {
			m.log.Warn("fake milky: webhook post failed", "err", err.Error())
		}
	}
}

// Emit pushes a raw frame (a fixture, garbage) to every event-stream
// subscriber. A subscriber whose queue is full misses it (logged).
func (m *Milky) Emit(frame []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.subs {
		select {
		case s.frames <- frame:
		default:
			m.log.Warn("fake milky: subscriber too slow, event dropped")
		}
	}
}

// PostWebhook posts frame to url as a Milky webhook sender does: JSON body,
// "Authorization: Bearer <Token>" when a token is set. A non-2xx answer is
// an error.
func (m *Milky) PostWebhook(ctx context.Context, url string, frame []byte) error {
	h := http.Header{}
	if m.opts.Token != "" {
		h.Set("Authorization", "Bearer "+m.opts.Token)
	}
	return m.server.postWebhook(ctx, url, frame, h)
}

func (m *Milky) subscribe() *milkySub {
	s := &milkySub{frames: make(chan []byte, milkySubBuffer)}
	m.mu.Lock()
	m.subs[s] = struct{}{}
	m.mu.Unlock()
	return s
}

func (m *Milky) unsubscribe(s *milkySub) {
	m.mu.Lock()
	delete(m.subs, s)
	m.mu.Unlock()
}

// handler serves one run; the server counts each request in and refuses
// those that come once Stop has begun.
func (m *Milky) handler(run *standInRun) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{name}", m.serveAPI)
	mux.HandleFunc("/event", func(w http.ResponseWriter, r *http.Request) {
		if websocket.IsWebSocketUpgrade(r) {
			m.serveWebSocket(w, r, run)
		} else {
			m.serveSSE(w, r, run)
		}
	})
	return mux
}

// streamAuthorized checks the event-stream token: header or query.
func (m *Milky) streamAuthorized(r *http.Request) bool {
	if m.opts.Token == "" {
		return true
	}
	if q := r.URL.Query().Get("access_token"); q != "" {
		return milkyTokenEqual(q, m.opts.Token)
	}
	return milkyBearerOK(r, m.opts.Token)
}

func milkyBearerOK(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && milkyTokenEqual(got, token)
}

func milkyTokenEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// serveWebSocket streams events as text frames. Like LLBot, a wrong token
// is refused after the upgrade with close 1008 "Unauthorized".
func (m *Milky) serveWebSocket(w http.ResponseWriter, r *http.Request, run *standInRun) {
	if m.opts.NoWebSocket {
		http.Error(w, "WebSocket is not enabled; use SSE", http.StatusBadRequest)
		return
	}
	if !m.streamAuthorized(r) {
		sess, err := ws.Accept(w, r, ws.Options{})
		if err == nil {
			m.log.Info("fake milky: WebSocket refused: bad token", "peer", r.RemoteAddr)
			sess.Close(websocket.ClosePolicyViolation, "Unauthorized")
		}
		return
	}
	// Subscribed before the handshake answer, so an event emitted as soon as
	// the client sees the stream open is not missed.
	sub := m.subscribe()
	defer m.unsubscribe(sub)
	sess, err := ws.Accept(w, r, ws.Options{})
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for {
			select {
			case f := <-sub.frames:
				if sess.Send(ctx, f) != nil {
					return
				}
			case <-run.stop:
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	_ = sess.Run(ctx, func([]byte) {}) // Milky clients send nothing
	cancel()
	<-forwarded
}

// serveSSE streams events as "event: milky_event" / "data: <json>" frames.
func (m *Milky) serveSSE(w http.ResponseWriter, r *http.Request, run *standInRun) {
	if !m.streamAuthorized(r) {
		milkyFail(w, http.StatusUnauthorized, 401, "Unauthorized")
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	sub := m.subscribe()
	defer m.unsubscribe(sub)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	for {
		select {
		case f := <-sub.frames:
			if _, err := w.Write(milkySSEFrame(f)); err != nil {
				return
			}
			flusher.Flush()
		case <-run.stop:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// milkySSEFrame encodes one event: JSON compacted onto one data line as the
// implementations send it; anything else line by line, as SSE requires.
func milkySSEFrame(frame []byte) []byte {
	var b bytes.Buffer
	b.WriteString("event: milky_event\n")
	var compact bytes.Buffer
	if json.Compact(&compact, frame) == nil {
		frame = compact.Bytes()
	}
	for line := range bytes.Lines(frame) {
		b.WriteString("data: ")
		b.Write(bytes.TrimRight(line, "\r\n"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// serveAPI answers POST /api/<name> like LLBot: 401/415/404 with a JSON
// body, else 200 with the {status, retcode, data|message} envelope.
func (m *Milky) serveAPI(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if m.opts.Token != "" && !milkyBearerOK(r, m.opts.Token) {
		m.log.Info("fake milky: API call refused: bad token", "api", name, "peer", r.RemoteAddr)
		milkyFail(w, http.StatusUnauthorized, 401, "Unauthorized")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		milkyFail(w, http.StatusUnsupportedMediaType, 415, "Unsupported Media Type")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, milkyMaxBody))
	if err != nil {
		milkyFail(w, http.StatusOK, -400, "Invalid payload: "+err.Error())
		return
	}
	m.mu.Lock()
	m.calls = append(m.calls, name)
	m.mu.Unlock()

	var data any
	switch name {
	case "get_login_info":
		data = map[string]any{"uin": m.opts.SelfID, "nickname": milkyNickname}
	case "get_impl_info":
		data = map[string]any{
			"impl_name": "LuckyLilliaBot", "impl_version": "8.1.7", "qq_protocol_version": "9.9.25-42905",
			"qq_protocol_type": "linux", "milky_version": "1.3",
		}
	case "send_group_message", "send_private_message":
		data, err = m.apiSend(name, body)
	case "get_group_info":
		data, err = m.apiGroupInfo(body)
	case "get_group_member_info":
		data, err = m.apiMemberInfo(body)
	case "get_message":
		data, err = m.apiGetMessage(body)
	default:
		milkyFail(w, http.StatusNotFound, 404, "API not found")
		return
	}
	if err != nil {
		var fail *milkyAPIFailure
		if !errors.As(err, &fail) {
			fail = &milkyAPIFailure{-500, err.Error()}
		}
		milkyFail(w, http.StatusOK, fail.retcode, fail.message)
		return
	}
	milkyJSON(w, http.StatusOK, map[string]any{"status": "ok", "retcode": 0, "data": data})
}

// milkyAPIFailure is a failed envelope: -400 bad params, -404 not found.
type milkyAPIFailure struct {
	retcode int
	message string
}

func (f *milkyAPIFailure) Error() string { return f.message }

func milkyInvalid(format string, args ...any) error {
	return &milkyAPIFailure{-400, "Invalid payload: " + fmt.Sprintf(format, args...)}
}

// milkyParams decodes the request body strictly: QQ numbers must be JSON
// numbers ≥ 10001, as Milky's schema (zUin) demands.
func milkyParams(body []byte, dst any) error {
	if err := json.Unmarshal(body, dst); err != nil {
		return milkyInvalid("%v", err)
	}
	return nil
}

func milkyCheckUin(field string, v int64) error {
	if v < 10001 {
		return milkyInvalid("[too_small] %s: Too small: expected number to be >=10001", field)
	}
	return nil
}

func (m *Milky) apiSend(api string, body []byte) (any, error) {
	var p struct {
		GroupID *int64            `json:"group_id"`
		UserID  *int64            `json:"user_id"`
		Message []json.RawMessage `json:"message"`
	}
	if err := milkyParams(body, &p); err != nil {
		return nil, err
	}
	sent := MilkySent{API: api, Raw: json.RawMessage(bytes.Clone(body))}
	scene, peer := "group", int64(0)
	if api == "send_group_message" {
		if p.GroupID == nil {
			return nil, milkyInvalid("group_id: Required")
		}
		sent.GroupID, peer = *p.GroupID, *p.GroupID
		if err := milkyCheckUin("group_id", peer); err != nil {
			return nil, err
		}
	} else {
		if p.UserID == nil {
			return nil, milkyInvalid("user_id: Required")
		}
		sent.UserID, peer, scene = *p.UserID, *p.UserID, "friend"
		if err := milkyCheckUin("user_id", peer); err != nil {
			return nil, err
		}
	}
	if len(p.Message) == 0 {
		return nil, milkyInvalid("message: Too small: expected array to have >=1 items")
	}
	for i, raw := range p.Message {
		seg, err := milkyOutgoingSegment(raw)
		if err != nil {
			return nil, milkyInvalid("message.%d: %v", i, err)
		}
		sent.Message = append(sent.Message, seg)
		if seg.Type == qq.SegText {
			sent.Text += seg.Data["text"]
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextSeq++
	now := time.Now().Unix()
	m.sent = append(m.sent, sent)
	// Stored as the bot's own message, so a later get_message finds it.
	m.stored[milkyMessageKey(scene, peer, m.nextSeq)] = map[string]any{
		"message_scene": scene, "peer_id": peer, "message_seq": m.nextSeq, "sender_id": m.opts.SelfID,
		"time": now, "segments": m.incomingSegmentsLocked(scene, peer, sent.Message),
	}
	return map[string]any{"message_seq": m.nextSeq, "time": now}, nil
}

// milkyOutgoingSegment decodes one OutgoingSegment the way the bot reads it
// and returns it in the neutral model.
func milkyOutgoingSegment(raw json.RawMessage) (qq.Segment, error) {
	var seg struct {
		Type string `json:"type"`
		Data struct {
			Text       *string `json:"text"`
			UserID     *int64  `json:"user_id"`
			FaceID     *string `json:"face_id"`
			IsLarge    bool    `json:"is_large"`
			MessageSeq *int64  `json:"message_seq"`
			URI        *string `json:"uri"`
			SubType    string  `json:"sub_type"`
			Summary    string  `json:"summary"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &seg); err != nil {
		return qq.Segment{}, err
	}
	d := seg.Data
	required := func(ok bool, field string) error {
		if !ok {
			return fmt.Errorf("%s.%s: Required", seg.Type, field)
		}
		return nil
	}
	switch seg.Type {
	case "text":
		if err := required(d.Text != nil, "text"); err != nil {
			return qq.Segment{}, err
		}
		return qq.Text(*d.Text), nil
	case "mention":
		if err := required(d.UserID != nil, "user_id"); err != nil {
			return qq.Segment{}, err
		}
		if err := milkyCheckUin("user_id", *d.UserID); err != nil {
			return qq.Segment{}, err
		}
		return qq.Segment{Type: qq.SegAt, Data: map[string]string{"qq": strconv.FormatInt(*d.UserID, 10)}}, nil
	case "mention_all":
		return qq.Segment{Type: qq.SegAt, Data: map[string]string{"qq": "all"}}, nil
	case "face":
		if err := required(d.FaceID != nil, "face_id"); err != nil {
			return qq.Segment{}, err
		}
		return qq.Segment{Type: qq.SegFace, Data: map[string]string{"id": *d.FaceID, "is_large": strconv.FormatBool(d.IsLarge)}}, nil
	case "reply":
		if err := required(d.MessageSeq != nil, "message_seq"); err != nil {
			return qq.Segment{}, err
		}
		return qq.Segment{Type: qq.SegReply, Data: map[string]string{"id": strconv.FormatInt(*d.MessageSeq, 10)}}, nil
	case "image":
		if err := required(d.URI != nil, "uri"); err != nil {
			return qq.Segment{}, err
		}
		sub := "0"
		switch d.SubType {
		case "", "normal":
		case "sticker":
			sub = "1"
		default:
			return qq.Segment{}, fmt.Errorf("image.sub_type: invalid option %q", d.SubType)
		}
		data := map[string]string{"url": *d.URI, "sub_type": sub}
		if d.Summary != "" {
			data["summary"] = d.Summary
		}
		return qq.Segment{Type: qq.SegImage, Data: data}, nil
	case "record", "video":
		if err := required(d.URI != nil, "uri"); err != nil {
			return qq.Segment{}, err
		}
		return qq.Segment{Type: seg.Type, Data: map[string]string{"url": *d.URI}}, nil
	}
	return qq.Segment{}, fmt.Errorf("type: unsupported segment type %q", seg.Type)
}

func (m *Milky) apiGroupInfo(body []byte) (any, error) {
	var p struct {
		GroupID int64 `json:"group_id"`
	}
	if err := milkyParams(body, &p); err != nil {
		return nil, err
	}
	if err := milkyCheckUin("group_id", p.GroupID); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.groupNames[p.GroupID]; !ok {
		return nil, &milkyAPIFailure{-404, "Group not found"}
	}
	return map[string]any{"group": m.groupEntityLocked(p.GroupID)}, nil
}

func (m *Milky) apiMemberInfo(body []byte) (any, error) {
	var p struct {
		GroupID int64 `json:"group_id"`
		UserID  int64 `json:"user_id"`
	}
	if err := milkyParams(body, &p); err != nil {
		return nil, err
	}
	if err := milkyCheckUin("group_id", p.GroupID); err != nil {
		return nil, err
	}
	if err := milkyCheckUin("user_id", p.UserID); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mem, ok := m.members[[2]int64{p.GroupID, p.UserID}]
	if !ok {
		return nil, &milkyAPIFailure{-404, "Member not found"}
	}
	return map[string]any{"member": milkyMemberEntity(p.GroupID, mem, time.Now().Unix())}, nil
}

func (m *Milky) apiGetMessage(body []byte) (any, error) {
	var p struct {
		Scene string `json:"message_scene"`
		Peer  int64  `json:"peer_id"`
		Seq   int64  `json:"message_seq"`
	}
	if err := milkyParams(body, &p); err != nil {
		return nil, err
	}
	switch p.Scene {
	case "group", "friend", "temp":
	default:
		return nil, milkyInvalid("message_scene: Invalid option %q", p.Scene)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	msg, ok := m.stored[milkyMessageKey(p.Scene, p.Peer, p.Seq)]
	if !ok {
		return nil, &milkyAPIFailure{-404, "Message not found"}
	}
	return map[string]any{"message": msg}, nil
}

func milkyMessageKey(scene string, peer, seq int64) string {
	return scene + ":" + strconv.FormatInt(peer, 10) + ":" + strconv.FormatInt(seq, 10)
}

func (m *Milky) groupEntityLocked(group int64) map[string]any {
	name, ok := m.groupNames[group]
	if !ok {
		name = "群" + strconv.FormatInt(group, 10)
	}
	count := 1 // the bot
	for key := range m.members {
		if key[0] == group {
			count++
		}
	}
	return map[string]any{
		"group_id": group, "group_name": name, "member_count": count, "max_member_count": 500,
		"remark": "", "created_time": 1600000000, "description": "", "question": "", "announcement": "",
	}
}

func milkyMemberEntity(group int64, mem qq.Member, now int64) map[string]any {
	role := mem.Role
	if role == "" {
		role = "member"
	}
	return map[string]any{
		"user_id": mem.UserID, "nickname": mem.Nickname, "sex": "unknown", "group_id": group,
		"card": mem.Card, "title": "", "level": 1, "role": role, "join_time": 1650000000, "last_sent_time": now,
	}
}

// incomingSegmentsLocked encodes neutral segments the way an implementation
// delivers them (Milky IncomingSegment, milky_incoming_segments_catalog.json).
// A reply quotes the stored message it points at, inline, as LLBot does.
func (m *Milky) incomingSegmentsLocked(scene string, peer int64, segs []qq.Segment) []map[string]any {
	out := make([]map[string]any, 0, len(segs))
	for _, s := range segs {
		typ, data := milkyIncomingSegment(s)
		if typ == "reply" {
			quoted := []map[string]any{}
			var sender, at int64
			seq, _ := data["message_seq"].(int64)
			if q, ok := m.stored[milkyMessageKey(scene, peer, seq)]; ok {
				sender, _ = q["sender_id"].(int64)
				at, _ = q["time"].(int64)
				if segs, ok := q["segments"].([]map[string]any); ok {
					quoted = segs
				}
			}
			data["sender_id"], data["time"], data["segments"] = sender, at, quoted
		}
		out = append(out, map[string]any{"type": typ, "data": data})
	}
	return out
}

// milkyIncomingSegment maps one neutral segment to a Milky incoming segment.
func milkyIncomingSegment(s qq.Segment) (string, map[string]any) {
	get := s.Get
	num := func(k string) int64 { v, _ := strconv.ParseInt(get(k), 10, 64); return v }
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	resource := milkyResourceID(get("url"))
	switch s.Type {
	case qq.SegText:
		return "text", map[string]any{"text": get("text")}
	case qq.SegAt:
		if get("qq") == "all" {
			return "mention_all", map[string]any{}
		}
		return "mention", map[string]any{"user_id": num("qq"), "name": get("name")}
	case qq.SegFace:
		return "face", map[string]any{"face_id": get("id"), "is_large": get("is_large") == "true"}
	case qq.SegReply:
		return "reply", map[string]any{"message_seq": num("id")}
	case qq.SegImage:
		sub := "normal"
		if t := get("sub_type"); t != "" && t != "0" {
			sub = "sticker"
		}
		return "image", map[string]any{
			"resource_id": resource, "temp_url": get("url"), "width": 1080, "height": 1920,
			"summary": or(get("summary"), "[图片]"), "sub_type": sub,
		}
	case qq.SegRecord:
		return "record", map[string]any{"resource_id": resource, "temp_url": get("url"), "duration": 7}
	case qq.SegVideo:
		return "video", map[string]any{"resource_id": resource, "temp_url": get("url"), "width": 1280, "height": 720, "duration": 31}
	case qq.SegFile:
		return "file", map[string]any{"file_id": or(get("file_id"), "/fake-file"), "file_name": get("name"), "file_size": num("size")}
	case qq.SegForward:
		preview := []string{}
		for _, msg := range s.Forward {
			preview = append(preview, msg.PlainText())
		}
		return "forward", map[string]any{
			"forward_id": get("id"), "title": or(get("title"), "群聊的聊天记录"), "preview": preview,
			"summary": or(get("summary"), fmt.Sprintf("查看%d条转发消息", len(preview))),
		}
	case qq.SegMFace:
		return "market_face", map[string]any{
			"emoji_package_id": num("emoji_package_id"), "emoji_id": get("emoji_id"), "key": get("key"),
			"summary": or(get("summary"), "[动画表情]"), "url": get("url"),
		}
	case qq.SegJSON:
		var card struct {
			App string `json:"app"`
		}
		_ = json.Unmarshal([]byte(get("data")), &card)
		return "light_app", map[string]any{"app_name": card.App, "json_payload": get("data")}
	case qq.SegXML:
		return "xml", map[string]any{"service_id": 1, "xml_payload": get("data")}
	case qq.SegMarkdown:
		return "markdown", map[string]any{"content": get("content")}
	}
	data := make(map[string]any, len(s.Data))
	for k, v := range s.Data {
		data[k] = v
	}
	return s.Type, data
}

// milkyResourceID makes a stable opaque resource_id for a media URL.
func milkyResourceID(url string) string {
	h := fnv.New64a()
	h.Write([]byte(url))
	return "Eh" + strconv.FormatUint(h.Sum64(), 36)
}

func milkyFail(w http.ResponseWriter, status, retcode int, message string) {
	milkyJSON(w, status, map[string]any{"status": "failed", "retcode": retcode, "message": message})
}

func milkyJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

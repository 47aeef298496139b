package fake

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// QueQiaoOptions configures the QueQiao plugin stand-in.
type QueQiaoOptions struct {
	ServerName string // the plugin's server_name, checked against x-self-name; default "Server"
	Token      string // the plugin's access_token; "" disables the check
	Version    string // server_version in events and get_status; default "1.21.1"
	ServerType string // server_type; default "fabric"
	Logger     *slog.Logger
}

// Request is one API request the stand-in received.
type Request struct {
	API  string
	Data json.RawMessage
	Echo string // "" when the request had none
}

// QueQiao stands in for the QueQiao plugin (QueQiaoTool 0.6.8, protocol V2):
// in forward mode it is the WebSocket server the bridge dials; DialReverse
// makes it dial the bridge like websocket_client does. It validates the
// handshake after the upgrade and answers requests with the plugin's exact
// codes, messages and null-filled shapes. Safe for concurrent use.
type QueQiao struct {
	opts QueQiaoOptions
	log  *slog.Logger

	// server tracks the accepted and dialled connections; it counts only
	// the server's own goroutines, as DialReverse runs on the caller's.
	server *standInServer

	mu       sync.Mutex
	requests []Request
	arrived  chan struct{} // closed and replaced at every new request
	online   []string
	rcon     func(cmd string) string
	silent   map[string]bool
}

// NewQueQiao returns a stopped stand-in; call Start or DialReverse.
func NewQueQiao(o QueQiaoOptions) *QueQiao {
	if o.ServerName == "" {
		o.ServerName = "Server"
	}
	if o.Version == "" {
		o.Version = "1.21.1"
	}
	if o.ServerType == "" {
		o.ServerType = "fabric"
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &QueQiao{
		opts:   o,
		log:    log.With("fake", "queqiao", "server", o.ServerName),
		silent: make(map[string]bool),
	}
	q.server = newStandInServer("queqiao stand-in", q.log, func(run *standInRun) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { q.serveHTTP(run, w, r) })
	})
	return q
}

// Start listens on addr ("127.0.0.1:0" picks a free port). Any request path
// is accepted, as the plugin ignores it.
func (q *QueQiao) Start(addr string) error { return q.server.start(addr) }

// URL is the forward-mode address, e.g. ws://127.0.0.1:41234/.
func (q *QueQiao) URL() string { return "ws://" + q.server.address() + "/" }

// Stop simulates a crash: it stops listening and drops every connection,
// accepted or dialled, without a close frame. It returns once the server's
// goroutines have ended.
func (q *QueQiao) Stop() { q.server.stop() }

// Restart listens again on the port of the first Start.
func (q *QueQiao) Restart() error { return q.server.restart() }

// Connected is the number of open connections that passed the handshake.
func (q *QueQiao) Connected() int { return q.server.connected() }

// Requests returns every API request received so far, in order.
func (q *QueQiao) Requests() []Request {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.requests)
}

// SetOnline sets the players online (send_private_msg targets and the
// get_status counts).
func (q *QueQiao) SetOnline(players ...string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.online = slices.Clone(players)
}

// SetRCON sets what answers send_rcon_command; nil gives the plugin's reply
// for a disabled RCON.
func (q *QueQiao) SetRCON(fn func(cmd string) string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rcon = fn
}

// WaitRequests waits until n requests of api have arrived (across restarts),
// or fails when ctx ends. Benchmarks use it to see a message arrive without
// polling; Requests has the contents.
func (q *QueQiao) WaitRequests(ctx context.Context, api string, n int) error {
	for {
		q.mu.Lock()
		got := 0
		for i := range q.requests {
			if q.requests[i].API == api {
				got++
			}
		}
		if got >= n {
			q.mu.Unlock()
			return nil
		}
		if q.arrived == nil {
			q.arrived = make(chan struct{})
		}
		ch := q.arrived
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("queqiao stand-in: %d of %d %s requests: %w", got, n, api, ctx.Err())
		}
	}
}

// SetSilent makes the stand-in never answer api (for timeout tests).
func (q *QueQiao) SetSilent(api string, silent bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.silent[api] = silent
}

// serveHTTP upgrades first and validates afterwards, as Java-WebSocket's
// onOpen does: a refused bot sees 101 and then close 1008 with a reason.
func (q *QueQiao) serveHTTP(run *standInRun, w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		q.log.Debug("upgrade failed", "err", err)
		return
	}
	conn := &standInConn{ws: ws}
	if reason := q.handshakeRejection(r); reason != "" {
		q.log.Debug("refusing connection", "peer", r.RemoteAddr, "reason", reason)
		conn.close(websocket.ClosePolicyViolation, reason)
		return
	}
	q.server.serveAccepted(run, conn, q.readRequests)
}

// handshakeRejection returns the close reason the plugin would give, in the
// plugin's order of checks (fixture handshake_rejections.json), or "".
func (q *QueQiao) handshakeRejection(r *http.Request) string {
	// Since 0.5.0 each field may come as a query parameter; the header wins.
	field := func(name string) string {
		if v := r.Header.Get(name); v != "" {
			return v
		}
		return r.URL.Query().Get(name)
	}
	rawName := field("x-self-name")
	if rawName == "" {
		return "Missing X-Self-name Header"
	}
	if strings.EqualFold(field("x-client-origin"), "minecraft") {
		return "X-Client-Origin Header cannot be minecraft"
	}
	name, err := url.QueryUnescape(rawName) // Java URLDecoder: "+" is a space
	if err != nil {
		return "X-Self-name Header decode failed"
	}
	if strings.TrimSpace(name) == "" {
		return "X-Self-name Header cannot be empty"
	}
	if name != q.opts.ServerName {
		return "X-Self-name Header is wrong"
	}
	if q.opts.Token != "" && field("Authorization") != "Bearer "+q.opts.Token {
		return "Authorization Header is wrong"
	}
	return ""
}

// DialReverse acts as the plugin's websocket_client dialling url (the
// bridge's MC_LISTEN). It returns nil when ctx ends, or an error when the
// handshake is refused (with the HTTP status and body) or the connection
// drops.
func (q *QueQiao) DialReverse(ctx context.Context, target string) error {
	h := http.Header{}
	h.Set("x-self-name", url.QueryEscape(q.opts.ServerName)) // URLEncoder: space → "+"
	h.Set("x-client-origin", "minecraft")
	if q.opts.Token != "" {
		h.Set("Authorization", "Bearer "+q.opts.Token)
	}
	return q.server.dialAndServe(ctx, target, h, 10*time.Second, q.readRequests)
}

// readRequests answers requests on conn until it fails.
func (q *QueQiao) readRequests(c *standInConn) error {
	for {
		typ, frame, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		if typ != websocket.TextMessage {
			continue // the plugin ignores binary frames
		}
		resp, ok := q.answer(frame)
		if !ok {
			continue
		}
		out, err := json.Marshal(resp)
		if err != nil {
			return err
		}
		if err := c.write(out); err != nil {
			return err
		}
	}
}

// queqiaoResponse has the plugin's field order and keeps nulls
// (Gson serializeNulls, protocol §2.2).
type queqiaoResponse struct {
	API      *string `json:"api"`
	Code     int     `json:"code"`
	PostType string  `json:"post_type"`
	Status   string  `json:"status"`
	Message  string  `json:"message"`
	Data     any     `json:"data"`
	Echo     *string `json:"echo"`
}

// queqiaoParseFailure is the plugin's catch-all for any exception while
// parsing or executing a request: 500, api and echo null.
var queqiaoParseFailure = errors.New("解析消息失败")

// answer handles one request frame; ok is false when nothing is sent back.
func (q *QueQiao) answer(frame []byte) (queqiaoResponse, bool) {
	var req struct {
		API  *string         `json:"api"`
		Data json.RawMessage `json:"data"`
		Echo json.RawMessage `json:"echo"`
	}
	if err := json.Unmarshal(frame, &req); err != nil || req.API == nil {
		return queqiaoFailure(frame), true
	}
	api := *req.API
	// The echo is read into a Java String: numbers and booleans become text.
	var echo *string
	if e := strings.TrimSpace(string(req.Echo)); e != "" && e != "null" {
		var s string
		if json.Unmarshal(req.Echo, &s) != nil {
			s = e
		}
		echo = &s
	}
	q.mu.Lock()
	q.requests = append(q.requests, Request{API: api, Data: req.Data, Echo: queqiaoDeref(echo)})
	if q.arrived != nil {
		close(q.arrived)
		q.arrived = nil
	}
	silent := q.silent[api]
	q.mu.Unlock()
	q.log.Debug("request", "api", api, "echo", queqiaoDeref(echo))
	if silent {
		return queqiaoResponse{}, false
	}

	code, message, data, err := q.execute(api, req.Data)
	if errors.Is(err, queqiaoParseFailure) {
		q.log.Debug("request failed", "api", api, "err", err)
		return queqiaoFailure(frame), true
	}
	status := "SUCCESS"
	if code != http.StatusOK {
		status = "FAILED"
	}
	return queqiaoResponse{API: &api, Code: code, PostType: "response", Status: status,
		Message: message, Data: data, Echo: echo}, true
}

func queqiaoFailure(frame []byte) queqiaoResponse {
	return queqiaoResponse{Code: 500, PostType: "response", Status: "FAILED",
		Message: queqiaoParseFailure.Error(), Data: map[string]string{"rawJsonMessage": string(frame)}}
}

func queqiaoDeref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

var queqiaoUUIDRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// execute runs one API (QueQiaoTool HandleProtocolMessage): the status code,
// message and data, or queqiaoParseFailure.
func (q *QueQiao) execute(api string, raw json.RawMessage) (int, string, any, error) {
	needData := func(v any) error {
		if len(raw) == 0 || string(raw) == "null" {
			return fmt.Errorf("%w: %s without data", queqiaoParseFailure, api)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("%w: %v", queqiaoParseFailure, err)
		}
		return nil
	}
	isNull := func(m json.RawMessage) bool { return len(m) == 0 || string(m) == "null" }

	switch api {
	case "broadcast", "send_msg", "send_actionbar":
		var d struct{ Message json.RawMessage }
		if err := needData(&d); err != nil {
			return 0, "", nil, err
		}
		if isNull(d.Message) { // the game's component parser throws on null
			return 0, "", nil, fmt.Errorf("%w: null message", queqiaoParseFailure)
		}
		return 200, "success", nil, nil

	case "send_title":
		var d struct{ Title, Subtitle json.RawMessage }
		if err := needData(&d); err != nil {
			return 0, "", nil, err
		}
		if isNull(d.Title) && isNull(d.Subtitle) {
			return 400, "Title and Subtitle cannot both be null", nil, nil
		}
		return 200, "success", nil, nil

	case "send_private_msg":
		var d struct {
			UUID     *string `json:"uuid"`
			Nickname string  `json:"nickname"`
			Message  json.RawMessage
		}
		if err := needData(&d); err != nil {
			return 0, "", nil, err
		}
		if d.UUID != nil && !queqiaoUUIDRE.MatchString(*d.UUID) { // "" included
			return 0, "", nil, fmt.Errorf("%w: invalid uuid %q", queqiaoParseFailure, *d.UUID)
		}
		const noTarget = "Target player is null."
		if d.UUID == nil && d.Nickname == "" {
			return 400, noTarget, map[string]any{"target_player": nil, "message": noTarget}, nil
		}
		if isNull(d.Message) {
			return 0, "", nil, fmt.Errorf("%w: null message", queqiaoParseFailure)
		}
		if name, ok := q.findOnline(d.UUID, d.Nickname); ok {
			return 200, "success", map[string]any{"target_player": queqiaoPlayerOf(name),
				"message": "Send private message success."}, nil
		}
		// Offline is a success whose target_player is null (protocol §3.4).
		return 200, "success", map[string]any{"target_player": nil, "message": noTarget}, nil

	case "send_rcon_command":
		var d struct{ Command string }
		if err := needData(&d); err != nil {
			return 0, "", nil, err
		}
		q.mu.Lock()
		run := q.rcon
		q.mu.Unlock()
		if run == nil {
			const disabled = "Rcon 功能未在配置文件中启用"
			return 400, disabled, map[string]string{"command": d.Command, "error": disabled}, nil
		}
		return 200, "success", run(d.Command), nil

	case "send_command":
		return 500, "send_command is not supported now", nil, nil

	case "get_status":
		return 200, "success", q.status(), nil
	}
	return 404, "未知的API：" + api, nil, nil
}

func (q *QueQiao) findOnline(uuid *string, nickname string) (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, p := range q.online {
		if (uuid != nil && strings.EqualFold(*uuid, queqiaoOfflineUUID(p))) || (uuid == nil && p == nickname) {
			return p, true
		}
	}
	return "", false
}

// status is the get_status payload. Numbers from the game's status JSON
// pass through a generic Gson map and come out as floats ("20.0").
func (q *QueQiao) status() any {
	q.mu.Lock()
	online := slices.Clone(q.online)
	q.mu.Unlock()
	sample := make([]map[string]string, 0, len(online))
	for _, p := range online {
		sample = append(sample, map[string]string{"name": p, "id": queqiaoOfflineUUID(p)})
	}
	players := map[string]any{"max": json.Number("20.0"), "online": json.Number(fmt.Sprintf("%d.0", len(online)))}
	if len(sample) > 0 {
		players["sample"] = sample
	}
	return map[string]any{
		"timestamp":      time.Now().UnixMilli(),
		"server_type":    q.opts.ServerType,
		"server_version": q.opts.Version,
		"server_list_ping": map[string]any{
			"available": true, "host": "127.0.0.1", "port": 25565, "reason": "ok", "error": nil,
			"version":            map[string]any{"name": q.opts.Version, "protocol": json.Number("767.0")},
			"players":            players,
			"description":        "A Minecraft Server",
			"enforcesSecureChat": true,
		},
		"cpu_information": map[string]any{"cpu_cores": 4, "load_average": json.Number("-1.0"),
			"system_load": json.Number("3.5"), "process_load": json.Number("1.2")},
		"memory_information": map[string]any{
			"physical_memory": map[string]any{"total": 8 << 30, "free": 4 << 30, "used": 4 << 30, "percentage": 50.0},
			"jvm_memory":      map[string]any{"total": 1 << 30, "free": 1 << 29, "max": 2 << 30, "used": 1 << 29, "percentage": 25.0},
		},
	}
}

// queqiaoOfflineUUID is the UUID an offline-mode server gives name
// (version 3, from "OfflinePlayer:<name>").
func queqiaoOfflineUUID(name string) string {
	b := md5.Sum([]byte("OfflinePlayer:" + name))
	b[6] = b[6]&0x0f | 0x30
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// queqiaoPlayer is the V2 player object as Fabric fills it (protocol §4.2).
type queqiaoPlayer struct {
	Nickname           string  `json:"nickname"`
	UUID               string  `json:"uuid"`
	Address            string  `json:"address"`
	Health             float64 `json:"health"`
	MaxHealth          float64 `json:"max_health"`
	ExperienceLevel    int     `json:"experience_level"`
	ExperienceProgress float64 `json:"experience_progress"`
	TotalExperience    int     `json:"total_experience"`
	IsOp               bool    `json:"is_op"`
	WalkSpeed          float64 `json:"walk_speed"`
	X                  float64 `json:"x"`
	Y                  float64 `json:"y"`
	Z                  float64 `json:"z"`
}

func queqiaoPlayerOf(name string) queqiaoPlayer {
	return queqiaoPlayer{Nickname: name, UUID: queqiaoOfflineUUID(name), Address: "127.0.0.1",
		Health: 20, MaxHealth: 20, WalkSpeed: 0.10000000149011612, X: 0.5, Y: 64, Z: 0.5}
}

// queqiaoEventBase holds the fields every V2 event ends with (Gson writes
// subclass fields first).
type queqiaoEventBase struct {
	EventName     string `json:"event_name"`
	PostType      string `json:"post_type"`
	SubType       string `json:"sub_type"`
	Timestamp     int64  `json:"timestamp"`
	ServerName    string `json:"server_name"`
	ServerVersion string `json:"server_version"`
	ServerType    string `json:"server_type"`
}

func (q *QueQiao) base(eventName, postType, subType string) queqiaoEventBase {
	return queqiaoEventBase{EventName: eventName, PostType: postType, SubType: subType,
		Timestamp: time.Now().Unix(), ServerName: q.opts.ServerName,
		ServerVersion: q.opts.Version, ServerType: q.opts.ServerType}
}

// queqiaoTranslate is the recursive Translate model (plugin ≥ 0.4.1).
type queqiaoTranslate struct {
	Key  *string            `json:"key"`
	Args []queqiaoTranslate `json:"args"` // null for a literal, [] for a key without arguments
	Text string             `json:"text"`
}

func queqiaoLiteral(text string) queqiaoTranslate { return queqiaoTranslate{Text: text} }

func queqiaoKeyed(key, text string, args ...queqiaoTranslate) queqiaoTranslate {
	return queqiaoTranslate{Key: &key, Args: append([]queqiaoTranslate{}, args...), Text: text}
}

// Emit sends a raw frame (a fixture, garbage) to every connection.
func (q *QueQiao) Emit(frame []byte) { q.server.emit(frame) }

func (q *QueQiao) emitJSON(v any) {
	frame, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own fixed types are marshalled
	}
	q.Emit(frame)
}

// Chat sends a PlayerChatEvent.
func (q *QueQiao) Chat(player, text string) {
	q.emitJSON(struct {
		Message    string        `json:"message"`
		Player     queqiaoPlayer `json:"player"`
		MessageID  string        `json:"message_id"`
		RawMessage string        `json:"raw_message"`
		queqiaoEventBase
	}{text, queqiaoPlayerOf(player), "", text, q.base("PlayerChatEvent", "message", "player_chat")})
}

// Command sends a PlayerCommandEvent; cmd is without the leading "/".
func (q *QueQiao) Command(player, cmd string) {
	q.emitJSON(struct {
		Command    string        `json:"command"`
		Player     queqiaoPlayer `json:"player"`
		MessageID  string        `json:"message_id"`
		RawMessage string        `json:"raw_message"`
		queqiaoEventBase
	}{cmd, queqiaoPlayerOf(player), "", cmd, q.base("PlayerCommandEvent", "message", "player_command")})
}

// Join sends a PlayerJoinEvent.
func (q *QueQiao) Join(player string) {
	q.emitJSON(struct {
		Player queqiaoPlayer `json:"player"`
		queqiaoEventBase
	}{queqiaoPlayerOf(player), q.base("PlayerJoinEvent", "notice", "player_join")})
}

// Quit sends a PlayerQuitEvent.
func (q *QueQiao) Quit(player string) {
	q.emitJSON(struct {
		Player queqiaoPlayer `json:"player"`
		queqiaoEventBase
	}{queqiaoPlayerOf(player), q.base("PlayerQuitEvent", "notice", "player_quit")})
}

// Death sends a PlayerDeathEvent: key "death.attack.mob" with args
// ["Steve", "entity.minecraft.zombie:Zombie"] and the rendered text. An arg
// written "key:text" is translatable, as mobs and items are; a plain arg is a
// literal, as player names are. An empty key gives Spigot's form (key and
// args null, text only).
func (q *QueQiao) Death(player, key string, args []string, text string) {
	death := queqiaoLiteral(text)
	if key != "" {
		death = queqiaoKeyed(key, text)
		for _, a := range args {
			if k, t, ok := strings.Cut(a, ":"); ok && strings.Contains(k, ".") {
				death.Args = append(death.Args, queqiaoKeyed(k, t))
			} else {
				death.Args = append(death.Args, queqiaoLiteral(a))
			}
		}
	}
	p := queqiaoPlayerOf(player)
	p.Health = 0
	q.emitJSON(struct {
		Death  queqiaoTranslate `json:"death"`
		Player queqiaoPlayer    `json:"player"`
		queqiaoEventBase
	}{death, p, q.base("PlayerDeathEvent", "notice", "player_death")})
}

// Advancement sends a PlayerAchievementEvent for advancement id with a
// display title (key and English text), as Fabric announces it. Empty
// titleKey and title give Spigot's all-null form (as for recipe unlocks).
func (q *QueQiao) Advancement(player, id, titleKey, title string) {
	type display struct {
		Title       *queqiaoTranslate `json:"title"`
		Description *queqiaoTranslate `json:"description"`
		Frame       *string           `json:"frame"`
	}
	achievement := struct {
		Key         string            `json:"key"`
		Display     display           `json:"display"`
		Translation *queqiaoTranslate `json:"translation"`
	}{Key: id}
	if titleKey != "" || title != "" {
		t := queqiaoKeyed(titleKey, title)
		frame := "task"
		announcement := queqiaoKeyed("chat.type.advancement.task",
			player+" has made the advancement ["+title+"]",
			queqiaoLiteral(player), queqiaoKeyed("chat.square_brackets", "["+title+"]", t))
		achievement.Display = display{Title: &t, Frame: &frame}
		achievement.Translation = &announcement
	}
	q.emitJSON(struct {
		Achievement any           `json:"achievement"`
		Player      queqiaoPlayer `json:"player"`
		queqiaoEventBase
	}{achievement, queqiaoPlayerOf(player), q.base("PlayerAchievementEvent", "notice", "player_achievement")})
}

package queqiao

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/minecraft"
)

// response has the plugin's field order and keeps nulls
// (Gson serializeNulls, docs/protocols.md#queqiao-envelope).
type response struct {
	API      *string `json:"api"`
	Code     int     `json:"code"`
	PostType string  `json:"post_type"`
	Status   string  `json:"status"`
	Message  string  `json:"message"`
	Data     any     `json:"data"`
	Echo     *string `json:"echo"`
}

// errParseFailure is the plugin's catch-all for any exception while
// parsing or executing a request: 500, api and echo null.
var errParseFailure = errors.New("解析消息失败")

// answer handles one request frame; ok is false when nothing is sent back.
func (q *Server) answer(frame []byte) (response, bool) {
	req, err := decodeRequest(frame)
	if err != nil || req.API == nil {
		return parseFailureResponse(frame), true
	}
	api := *req.API
	// The echo is read into a Java String: numbers and booleans become text.
	var echo *string
	if e := bytes.TrimSpace(req.Echo); len(e) > 0 && string(e) != "null" {
		s, err := wirejson.Unquote(e)
		if err != nil {
			s = string(e)
		}
		echo = &s
	}
	q.mu.Lock()
	// Data is kept as a copy of its own: a slice of the frame would keep the
	// whole read buffer alive for every request a benchmark sends.
	q.requests = append(q.requests, Request{API: api, Data: bytes.Clone(req.Data), Echo: deref(echo), At: time.Now()})
	q.counts[api]++
	q.wakeWaitersLocked(api)
	silent := q.silent[api]
	rejected := q.reject[api] > 0
	if rejected {
		q.reject[api]--
	}
	q.mu.Unlock()
	if q.log.Enabled(context.Background(), slog.LevelDebug) {
		q.log.Debug("request", "api", api, "echo", deref(echo))
	}
	if silent {
		return response{}, false
	}
	if rejected {
		return parseFailureResponse(frame), true
	}

	code, message, data, err := q.execute(api, req.Data)
	if errors.Is(err, errParseFailure) {
		q.log.Debug("request failed", "api", api, "err", err)
		return parseFailureResponse(frame), true
	}
	status := "SUCCESS"
	if code != http.StatusOK {
		status = "FAILED"
	}
	return response{API: &api, Code: code, PostType: "response", Status: status,
		Message: message, Data: data, Echo: echo}, true
}

func parseFailureResponse(frame []byte) response {
	return response{Code: 500, PostType: "response", Status: "FAILED",
		Message: errParseFailure.Error(), Data: map[string]string{"rawJsonMessage": string(frame)}}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// execute runs one API (QueQiaoTool HandleProtocolMessage): the status code,
// message and data, or errParseFailure.
func (q *Server) execute(api string, raw json.RawMessage) (int, string, any, error) {
	needData := func(v any) error {
		if len(raw) == 0 || string(raw) == "null" {
			return fmt.Errorf("%w: %s without data", errParseFailure, api)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("%w: %v", errParseFailure, err)
		}
		return nil
	}
	isNull := func(m json.RawMessage) bool { return len(m) == 0 || string(m) == "null" }

	switch api {
	case "broadcast", "send_msg", "send_actionbar":
		var d struct{ Message json.RawMessage }
		var ok bool
		if !isNull(raw) {
			d.Message, ok = messageOf(raw)
		}
		if !ok {
			if err := needData(&d); err != nil {
				return 0, "", nil, err
			}
		}
		if isNull(d.Message) { // the game's component parser throws on null
			return 0, "", nil, fmt.Errorf("%w: null message", errParseFailure)
		}
		if q.opts.StrictComponents {
			style, _ := minecraft.StyleFor(q.opts.Version)
			if err := minecraft.ValidateJSON(d.Message, style); err != nil {
				return 0, "", nil, fmt.Errorf("%w: %v", errParseFailure, err)
			}
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
		if d.UUID != nil && !uuidPattern.MatchString(*d.UUID) { // "" included
			return 0, "", nil, fmt.Errorf("%w: invalid uuid %q", errParseFailure, *d.UUID)
		}
		const noTarget = "Target player is null."
		if d.UUID == nil && d.Nickname == "" {
			return 400, noTarget, map[string]any{"target_player": nil, "message": noTarget}, nil
		}
		if isNull(d.Message) {
			return 0, "", nil, fmt.Errorf("%w: null message", errParseFailure)
		}
		if name, ok := q.findOnline(d.UUID, d.Nickname); ok {
			return 200, "success", map[string]any{"target_player": playerOf(name),
				"message": "Send private message success."}, nil
		}
		// Offline is a success whose target_player is null
		// (docs/protocols.md#queqiao-apis).
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

func (q *Server) findOnline(uuid *string, nickname string) (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, p := range q.online {
		if (uuid != nil && strings.EqualFold(*uuid, offlineUUID(p))) || (uuid == nil && p == nickname) {
			return p, true
		}
	}
	return "", false
}

// status is the get_status payload. Numbers from the game's status JSON
// pass through a generic Gson map and come out as floats ("20.0").
func (q *Server) status() any {
	q.mu.Lock()
	online := slices.Clone(q.online)
	q.mu.Unlock()
	sample := make([]map[string]string, 0, len(online))
	for _, p := range online {
		sample = append(sample, map[string]string{"name": p, "id": offlineUUID(p)})
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

// offlineUUID is the UUID an offline-mode server gives name
// (version 3, from "OfflinePlayer:<name>").
func offlineUUID(name string) string {
	b := md5.Sum([]byte("OfflinePlayer:" + name))
	b[6] = b[6]&0x0f | 0x30
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

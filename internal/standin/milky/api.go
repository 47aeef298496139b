package milky

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcqq/bridge/internal/standin"
	"github.com/mcqq/bridge/qq"
)

// serveAPI answers POST /api/<name> like LLBot: 401/415/404 with a JSON
// body, else 200 with the {status, retcode, data|message} envelope.
func (m *Bot) serveAPI(w http.ResponseWriter, r *http.Request, run *standin.Run) {
	name := r.PathValue("name")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if m.opts.Token != "" && !bearerOK(r, m.opts.Token) {
		m.log.Info("milky stand-in: API call refused: bad token", "api", name, "peer", r.RemoteAddr)
		writeFailure(w, http.StatusUnauthorized, 401, "Unauthorized")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeFailure(w, http.StatusUnsupportedMediaType, 415, "Unsupported Media Type")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeFailure(w, http.StatusOK, -400, "Invalid payload: "+err.Error())
		return
	}
	m.mu.Lock()
	m.calls = append(m.calls, name)
	silent := m.silent[name]
	m.mu.Unlock()
	if silent { // a hung bot: the call is taken and never answered
		select {
		case <-r.Context().Done():
		case <-run.Stopping():
		}
		return
	}

	var data any
	switch name {
	case "get_login_info":
		data = map[string]any{"uin": m.opts.SelfID, "nickname": botNickname}
	case "get_impl_info":
		data = map[string]any{
			"impl_name": "LuckyLilliaBot", "impl_version": "8.1.7", "qq_protocol_version": "9.9.25-42905",
			"qq_protocol_type": "linux", "milky_version": "1.3",
		}
	case "send_group_message", "send_private_message":
		data, err = m.apiSend(name, body)
	case "get_group_info":
		data, err = m.apiGroupInfo(body)
	case "get_group_list":
		data = m.apiGroupList()
	case "get_group_member_info":
		data, err = m.apiMemberInfo(body)
	case "get_message":
		data, err = m.apiGetMessage(body)
	default:
		writeFailure(w, http.StatusNotFound, 404, "API not found")
		return
	}
	if err != nil {
		var fail *apiError
		if !errors.As(err, &fail) {
			fail = &apiError{-500, err.Error()}
		}
		writeFailure(w, http.StatusOK, fail.retcode, fail.message)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "retcode": 0, "data": data})
}

// apiError is a failed envelope: -400 bad params, -404 not found.
type apiError struct {
	retcode int
	message string
}

func (f *apiError) Error() string { return f.message }

func invalid(format string, args ...any) error {
	return &apiError{-400, "Invalid payload: " + fmt.Sprintf(format, args...)}
}

// decodeParams decodes the request body strictly: QQ numbers must be JSON
// numbers ≥ 10001, as Milky's schema (zUin) demands.
func decodeParams(body []byte, dst any) error {
	if err := json.Unmarshal(body, dst); err != nil {
		return invalid("%v", err)
	}
	return nil
}

func checkUin(field string, v int64) error {
	if v < 10001 {
		return invalid("[too_small] %s: Too small: expected number to be >=10001", field)
	}
	return nil
}

func (m *Bot) apiSend(api string, body []byte) (any, error) {
	var p struct {
		GroupID *int64            `json:"group_id"`
		UserID  *int64            `json:"user_id"`
		Message []json.RawMessage `json:"message"`
	}
	if err := decodeParams(body, &p); err != nil {
		return nil, err
	}
	sent := Sent{API: api, Raw: json.RawMessage(bytes.Clone(body))}
	scene, peer := "group", int64(0)
	if api == "send_group_message" {
		if p.GroupID == nil {
			return nil, invalid("group_id: Required")
		}
		sent.GroupID, peer = *p.GroupID, *p.GroupID
		if err := checkUin("group_id", peer); err != nil {
			return nil, err
		}
	} else {
		if p.UserID == nil {
			return nil, invalid("user_id: Required")
		}
		sent.UserID, peer, scene = *p.UserID, *p.UserID, "friend"
		if err := checkUin("user_id", peer); err != nil {
			return nil, err
		}
	}
	if len(p.Message) == 0 {
		return nil, invalid("message: Too small: expected array to have >=1 items")
	}
	for i, raw := range p.Message {
		seg, err := outgoingSegment(raw)
		if err != nil {
			return nil, invalid("message.%d: %v", i, err)
		}
		sent.Message = append(sent.Message, seg)
		if seg.Type == qq.SegText {
			sent.Text += seg.Text
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextSeq++
	now := time.Now().Unix()
	m.sent = append(m.sent, sent)
	// Stored as the bot's own message, so a later get_message finds it.
	m.stored[messageKey(scene, peer, m.nextSeq)] = map[string]any{
		"message_scene": scene, "peer_id": peer, "message_seq": m.nextSeq, "sender_id": m.opts.SelfID,
		"time": now, "segments": m.incomingSegmentsLocked(scene, peer, sent.Message),
	}
	return map[string]any{"message_seq": m.nextSeq, "time": now}, nil
}

// outgoingSegment decodes one OutgoingSegment the way the bot reads it
// and returns it in the neutral model.
func outgoingSegment(raw json.RawMessage) (qq.Segment, error) {
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
		if err := checkUin("user_id", *d.UserID); err != nil {
			return qq.Segment{}, err
		}
		return qq.Segment{Type: qq.SegAt, Target: strconv.FormatInt(*d.UserID, 10)}, nil
	case "mention_all":
		return qq.Segment{Type: qq.SegAt, Target: qq.MentionAll}, nil
	case "face":
		if err := required(d.FaceID != nil, "face_id"); err != nil {
			return qq.Segment{}, err
		}
		return qq.Segment{Type: qq.SegFace, ID: *d.FaceID}, nil
	case "reply":
		if err := required(d.MessageSeq != nil, "message_seq"); err != nil {
			return qq.Segment{}, err
		}
		return qq.Segment{Type: qq.SegReply, ID: strconv.FormatInt(*d.MessageSeq, 10)}, nil
	case "image":
		if err := required(d.URI != nil, "uri"); err != nil {
			return qq.Segment{}, err
		}
		seg := qq.Segment{Type: qq.SegImage, URL: *d.URI, Summary: d.Summary}
		switch d.SubType {
		case "", "normal":
		case "sticker":
			seg.Sticker = true
		default:
			return qq.Segment{}, fmt.Errorf("image.sub_type: invalid option %q", d.SubType)
		}
		return seg, nil
	case "record", "video":
		if err := required(d.URI != nil, "uri"); err != nil {
			return qq.Segment{}, err
		}
		return qq.Segment{Type: seg.Type, URL: *d.URI}, nil
	}
	return qq.Segment{}, fmt.Errorf("type: unsupported segment type %q", seg.Type)
}

func (m *Bot) apiGroupInfo(body []byte) (any, error) {
	var p struct {
		GroupID int64 `json:"group_id"`
	}
	if err := decodeParams(body, &p); err != nil {
		return nil, err
	}
	if err := checkUin("group_id", p.GroupID); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.groupNames[p.GroupID]; !ok {
		return nil, &apiError{-404, "Group not found"}
	}
	return map[string]any{"group": m.groupEntityLocked(p.GroupID)}, nil
}

// apiGroupList lists the groups the bot is in: those with a name or a
// member, in ascending order.
func (m *Bot) apiGroupList() any {
	m.mu.Lock()
	defer m.mu.Unlock()
	joined := map[int64]bool{}
	for g := range m.groupNames {
		joined[g] = true
	}
	for key := range m.members {
		joined[key[0]] = true
	}
	groups := []any{}
	for _, g := range slices.Sorted(maps.Keys(joined)) {
		groups = append(groups, m.groupEntityLocked(g))
	}
	return map[string]any{"groups": groups}
}

func (m *Bot) apiMemberInfo(body []byte) (any, error) {
	var p struct {
		GroupID int64 `json:"group_id"`
		UserID  int64 `json:"user_id"`
	}
	if err := decodeParams(body, &p); err != nil {
		return nil, err
	}
	if err := checkUin("group_id", p.GroupID); err != nil {
		return nil, err
	}
	if err := checkUin("user_id", p.UserID); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mem, ok := m.members[[2]int64{p.GroupID, p.UserID}]
	if !ok {
		return nil, &apiError{-404, "Member not found"}
	}
	return map[string]any{"member": memberEntity(p.GroupID, mem, time.Now().Unix())}, nil
}

func (m *Bot) apiGetMessage(body []byte) (any, error) {
	var p struct {
		Scene string `json:"message_scene"`
		Peer  int64  `json:"peer_id"`
		Seq   int64  `json:"message_seq"`
	}
	if err := decodeParams(body, &p); err != nil {
		return nil, err
	}
	switch p.Scene {
	case "group", "friend", "temp":
	default:
		return nil, invalid("message_scene: Invalid option %q", p.Scene)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	msg, ok := m.stored[messageKey(p.Scene, p.Peer, p.Seq)]
	if !ok {
		return nil, &apiError{-404, "Message not found"}
	}
	return map[string]any{"message": msg}, nil
}

func writeFailure(w http.ResponseWriter, status, retcode int, message string) {
	writeJSON(w, status, map[string]any{"status": "failed", "retcode": retcode, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

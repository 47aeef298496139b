package onebot

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcqq/bridge/qq"
	qqonebot "github.com/mcqq/bridge/qq/onebot"
)

// response has the field order of both implementations. LLBot omits
// echo when the request had none and never sends stream.
type response struct {
	Status  string          `json:"status"`
	Retcode int             `json:"retcode"`
	Data    any             `json:"data"`
	Message string          `json:"message"`
	Wording string          `json:"wording"`
	Echo    json.RawMessage `json:"echo,omitempty"`
	Stream  string          `json:"stream,omitempty"`
}

func (b *Bot) envelope(echo json.RawMessage) response {
	r := response{Echo: echo}
	if b.napcat() {
		r.Stream = "normal-action"
		if len(echo) == 0 {
			r.Echo = json.RawMessage(`""`)
		}
	}
	return r
}

func (b *Bot) success(echo json.RawMessage, data any) response {
	r := b.envelope(echo)
	r.Status, r.Data = "ok", data
	return r
}

func (b *Bot) failure(echo json.RawMessage, retcode int, message string) response {
	r := b.envelope(echo)
	r.Status, r.Retcode, r.Message, r.Wording = "failed", retcode, message, message
	return r
}

// actionError is an action error: its retcode and message.
type actionError struct {
	retcode int
	message string
}

func (f *actionError) Error() string { return f.message }

func badParams(format string, args ...any) error {
	return &actionError{retcodeBadParams, fmt.Sprintf(format, args...)}
}

// act records and runs one action and builds its reply; ok is false when
// the action is silenced. overHTTP selects the HTTP API's retcodes and
// wording (docs/protocols.md#onebot-actions).
func (b *Bot) act(action string, params, echo json.RawMessage, overHTTP bool) (reply response, ok bool) {
	b.mu.Lock()
	b.actions = append(b.actions, action)
	silent := b.silent[action]
	b.mu.Unlock()
	b.log.Debug("action", "action", action, "http", overHTTP)
	if silent {
		return response{}, false
	}
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	data, err := b.execute(action, params)
	if err == nil {
		b.mu.Lock()
		b.served[action]++
		b.mu.Unlock()
		return b.success(echo, data), true
	}
	f, isFailure := errors.AsType[*actionError](err)
	if !isFailure {
		f = &actionError{retcodeFailed, err.Error()}
	}
	retcode, message := f.retcode, f.message
	if overHTTP {
		retcode, message = b.httpFailure(action, f)
	}
	return b.failure(echo, retcode, message), true
}

func (b *Bot) execute(action string, params json.RawMessage) (any, error) {
	b.mu.Lock()
	missing := b.missing[action]
	b.mu.Unlock()
	if !missing {
		switch action {
		case "send_group_msg", "send_private_msg", "send_msg":
			return b.actionSend(action, params)
		case "get_group_member_info":
			return b.actionMemberInfo(params)
		case "get_group_info":
			return b.actionGroupInfo(params)
		case "get_group_list":
			return b.actionGroupList(), nil
		case "get_msg":
			return b.actionGetMessage(params)
		case "get_login_info":
			return map[string]any{"user_id": b.opts.SelfID, "nickname": botNickname}, nil
		}
	}
	if b.napcat() {
		return nil, &actionError{retcodeUnknown, "不支持的API " + action}
	}
	return nil, &actionError{retcodeUnknown, action + " API 不存在"}
}

// actionParams holds every parameter the handled actions take. Ids may be
// numbers or numeric strings in both implementations.
type actionParams struct {
	MessageType string          `json:"message_type"`
	GroupID     numericID       `json:"group_id"`
	UserID      numericID       `json:"user_id"`
	MessageID   numericID       `json:"message_id"`
	Message     json.RawMessage `json:"message"`
	AutoEscape  bool            `json:"auto_escape"`
}

type numericID int64

func (id *numericID) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*id = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an id: %s", b)
	}
	*id = numericID(v)
	return nil
}

func decodeParams(params json.RawMessage) (actionParams, error) {
	var p actionParams
	if err := json.Unmarshal(params, &p); err != nil {
		return p, badParams("参数解析失败: %v", err)
	}
	return p, nil
}

func (b *Bot) actionSend(action string, params json.RawMessage) (any, error) {
	p, err := decodeParams(params)
	if err != nil {
		return nil, err
	}
	group, user := int64(p.GroupID), int64(p.UserID)
	switch {
	case action == "send_group_msg" || action == "send_msg" && group != 0 && p.MessageType != "private":
		if group == 0 {
			return nil, badParams("Key: group_id, Message: Expected required property")
		}
		user = 0
	default:
		if user == 0 {
			return nil, badParams("Key: user_id, Message: Expected required property")
		}
		group = 0
	}
	segs, err := decodeOutgoing(p.Message, p.AutoEscape)
	if err != nil {
		return nil, err
	}
	var text strings.Builder
	for _, s := range segs {
		if s.Type == qq.SegText {
			text.WriteString(s.Text)
		}
	}
	bot := qq.Member{UserID: b.opts.SelfID, Nickname: botNickname, Role: "member"}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent = append(b.sent, Sent{Action: action, GroupID: group, UserID: user, Message: segs,
		Text: text.String(), Raw: p.Message, At: time.Now()})
	if group != 0 {
		b.lines[group] += strings.Count(text.String(), "\n") + 1
	}
	if b.arrived != nil {
		close(b.arrived)
		b.arrived = nil
	}
	kind := "group"
	if group == 0 {
		kind = "private"
	}
	ev := b.newMessageEventLocked(kind, bot, segs)
	ev.GroupID, ev.GroupName = group, b.groups[group]
	b.messages[ev.MessageID] = ev
	return map[string]any{"message_id": ev.MessageID}, nil
}

// decodeOutgoing reads a message param the way the bots accept it: a
// segment array, a single segment, or a CQ string (literal text with
// auto_escape).
func decodeOutgoing(raw json.RawMessage, autoEscape bool) ([]qq.Segment, error) {
	trimmed := strings.TrimSpace(string(raw))
	var wire []struct {
		Type string                     `json:"type"`
		Data map[string]json.RawMessage `json:"data"`
	}
	switch {
	case trimmed == "" || trimmed == "null":
		return nil, badParams("Key: message, Message: Expected required property")
	case strings.HasPrefix(trimmed, `"`):
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badParams("message: %v", err)
		}
		if autoEscape {
			return []qq.Segment{qq.Text(s)}, nil
		}
		return qqonebot.ParseCQ(s), nil
	case strings.HasPrefix(trimmed, "{"):
		raw = json.RawMessage("[" + trimmed + "]")
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, badParams("message: %v", err)
	}
	segs := make([]qq.Segment, 0, len(wire))
	for _, w := range wire {
		if w.Type == "" {
			return nil, badParams("message: segment without type")
		}
		data := map[string]string{}
		for k, v := range w.Data {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = string(v) // numbers and booleans as written
			}
			data[k] = s
		}
		seg := qqonebot.SegmentFromData(w.Type, data)
		if w.Type == "image" || w.Type == "record" || w.Type == "video" {
			// Both bots fetch outgoing media from "file" and fail without it.
			if data["file"] == "" {
				return nil, badParams("message: %s segment without file", w.Type)
			}
			seg.URL = data["file"]
		}
		segs = append(segs, seg)
	}
	return segs, nil
}

func (b *Bot) actionMemberInfo(params json.RawMessage) (any, error) {
	p, err := decodeParams(params)
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
	info := memberInfo{GroupID: group, UserID: user, Nickname: m.Nickname, Card: m.Card,
		Sex: "unknown", Level: "1", QQLevel: 1, JoinTime: 1650000000, LastSentTime: time.Now().Unix(),
		CardChangeable: true, Role: or(m.Role, "member")}
	if !b.napcat() {
		info.CardOrNickname = or(m.Card, m.Nickname)
	}
	return info, nil
}

// memberInfo is get_group_member_info data in the implementations'
// field order (fixtures *_get_group_member_info_response.json).
type memberInfo struct {
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

func (b *Bot) actionGroupInfo(params json.RawMessage) (any, error) {
	p, err := decodeParams(params)
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
	return b.groupInfo(group, name), nil
}

// actionGroupList lists the groups the bot is in: those with a name or a
// member, in ascending order.
func (b *Bot) actionGroupList() any {
	b.mu.Lock()
	names := maps.Clone(b.groups)
	for key := range b.members {
		if _, ok := names[key[0]]; !ok {
			names[key[0]] = "群" + strconv.FormatInt(key[0], 10)
		}
	}
	b.mu.Unlock()
	list := []any{}
	for _, group := range slices.Sorted(maps.Keys(names)) {
		list = append(list, b.groupInfo(group, names[group]))
	}
	return list
}

// groupInfo is one group as get_group_info and get_group_list describe it
// (fixtures *_get_group_info_response.json).
func (b *Bot) groupInfo(group int64, name string) any {
	if b.napcat() {
		return struct {
			GroupAllShut   int    `json:"group_all_shut"`
			GroupRemark    string `json:"group_remark"`
			GroupID        int64  `json:"group_id"`
			GroupName      string `json:"group_name"`
			MemberCount    int    `json:"member_count"`
			MaxMemberCount int    `json:"max_member_count"`
		}{0, "", group, name, 187, 500}
	}
	return map[string]any{
		"group_id": group, "group_name": name, "group_memo": "", "group_create_time": 1600000000,
		"member_count": 187, "max_member_count": 500, "remark_name": "",
		"avatar_url": fmt.Sprintf("https://p.qlogo.cn/gh/%d/%d/0", group, group),
		"owner_id":   1000000001, "is_top": false, "shut_up_all_timestamp": 0, "shut_up_me_timestamp": 0,
	}
}

func (b *Bot) actionGetMessage(params json.RawMessage) (any, error) {
	p, err := decodeParams(params)
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

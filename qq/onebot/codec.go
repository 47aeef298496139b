// Package onebot speaks OneBot 11 as NapCat and LLBot implement it: a pure
// codec (events, responses, CQ-code strings) and a Client that holds one
// WebSocket to the bot, either dialling it (forward) or accepting it
// (reverse), with echo-matched actions and cached look-ups.
package onebot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

// FrameKind classifies one inbound frame.
type FrameKind int

const (
	// FrameIgnored is an event the bridge does not act on: notices,
	// requests, the bot's own messages, unknown post or message types.
	FrameIgnored FrameKind = iota + 1
	// FrameGroupMessage and FramePrivateMessage come with a qq.Event.
	FrameGroupMessage
	FramePrivateMessage
	// FrameMeta is a heartbeat or lifecycle event; Event.SelfID is set.
	FrameMeta
	// FrameResponse is the reply to an action (it has no post_type);
	// read it with DecodeResponse.
	FrameResponse
	// FrameMemberLeft is a group_decrease notice: a qq.MemberLeft event.
	FrameMemberLeft
)

func (k FrameKind) String() string {
	switch k {
	case FrameIgnored:
		return "ignored"
	case FrameGroupMessage:
		return "group_message"
	case FramePrivateMessage:
		return "private_message"
	case FrameMeta:
		return "meta"
	case FrameResponse:
		return "response"
	case FrameMemberLeft:
		return "member_left"
	}
	return "invalid"
}

// maxForwardDepth bounds how deep forwarded chat records nested in forwarded
// chat records are decoded; deeper ones keep only their id.
const maxForwardDepth = 4

// wireMessage holds the keys a message event, a get_msg reply and a
// forwarded message (NapCat parseMultMsg content) have in common.
type wireMessage struct {
	Time      wirejson.Int    `json:"time"`
	MessageID wirejson.String `json:"message_id"`
	UserID    wirejson.Int    `json:"user_id"`
	Sender    *wireSender     `json:"sender"`
	Message   json.RawMessage `json:"message"`
}

type wireSender struct {
	UserID   wirejson.Int    `json:"user_id"`
	Nickname wirejson.String `json:"nickname"`
	Card     wirejson.String `json:"card"`
	Role     wirejson.String `json:"role"`
}

// wireHeader is what classifying a frame needs.
type wireHeader struct {
	PostType    *wirejson.String `json:"post_type"` // nil: a response
	MessageType wirejson.String  `json:"message_type"`
	NoticeType  wirejson.String  `json:"notice_type"`
	SelfID      json.RawMessage  `json:"self_id"`
	Status      json.RawMessage  `json:"status"`
	Retcode     json.RawMessage  `json:"retcode"`
}

// wireEvent is a whole frame: the header and, for message events, the rest.
// It is decoded in one pass; a frame whose other fields are oddly typed is
// classified by its header alone (see DecodeEvent).
type wireEvent struct {
	wireHeader
	wireMessage
	GroupID   wirejson.Int    `json:"group_id"`
	GroupName wirejson.String `json:"group_name"`
}

// DecodeEvent classifies one frame from the bot and, for group and private
// messages, returns the event. Messages may carry their content as a segment
// array (NapCat, LLBot default) or a CQ-code string (message_format
// "string"). The bot's own messages (post_type message_sent, or user_id equal
// to self_id) are FrameIgnored. Event.SelfID is set for every event kind.
// Malformed JSON, or wrongly typed fields in a message, give an error;
// wrongly typed fields in notices or requests, which the bridge ignores, do
// not.
func DecodeEvent(frame []byte) (qq.Event, FrameKind, error) {
	if err := requireObject(frame); err != nil {
		return qq.Event{}, 0, err
	}
	w, fast := decodeEventFast(frame)
	var bodyErr error
	if !fast {
		w = wireEvent{}
		bodyErr = json.Unmarshal(frame, &w)
	}
	if bodyErr != nil {
		w = wireEvent{}
		if err := json.Unmarshal(frame, &w.wireHeader); err != nil {
			return qq.Event{}, 0, fmt.Errorf("decode frame: %w", err)
		}
	}
	h := w.wireHeader
	if h.PostType == nil {
		if h.Status == nil && h.Retcode == nil {
			return qq.Event{}, 0, errors.New("frame is neither an event (post_type) nor a response (status, retcode)")
		}
		return qq.Event{}, FrameResponse, nil
	}
	var selfID wirejson.Int
	selfIDErr := selfID.UnmarshalJSON(orNull(h.SelfID))
	ev := qq.Event{SelfID: int64(selfID)}
	var kind FrameKind
	switch {
	case *h.PostType == "meta_event":
		if selfIDErr != nil {
			return qq.Event{}, 0, fmt.Errorf("meta event self_id: %w", selfIDErr)
		}
		return ev, FrameMeta, nil
	case *h.PostType == "notice" && h.NoticeType == "group_decrease":
		return decodeMemberLeft(ev, w, bodyErr, selfIDErr)
	case *h.PostType != "message": // message_sent (own messages), other notices, requests, anything new
		return ev, FrameIgnored, nil
	case h.MessageType == "group":
		kind, ev.Kind = FrameGroupMessage, qq.GroupMessage
	case h.MessageType == "private":
		kind, ev.Kind = FramePrivateMessage, qq.PrivateMessage
	default:
		return ev, FrameIgnored, nil
	}
	if bodyErr != nil {
		return qq.Event{}, 0, fmt.Errorf("decode %s message: %w", h.MessageType, bodyErr)
	}
	if selfIDErr != nil {
		return qq.Event{}, 0, fmt.Errorf("decode %s message: self_id: %w", h.MessageType, selfIDErr)
	}
	if selfID != 0 && w.UserID == selfID {
		return ev, FrameIgnored, nil
	}
	if kind == FrameGroupMessage {
		if w.GroupID == 0 {
			return qq.Event{}, 0, errors.New("group message without group_id")
		}
		ev.GroupID, ev.GroupName = int64(w.GroupID), string(w.GroupName)
	}
	msg, err := w.wireMessage.decode(0)
	if err != nil {
		return qq.Event{}, 0, err
	}
	ev.Message = msg
	return ev, kind, nil
}

// decodeMemberLeft reads a group_decrease notice (a member left or was
// removed: sub_type leave, kick, and NapCat's disband). The bot itself
// leaving (kick_me) is no member leaving.
func decodeMemberLeft(ev qq.Event, w wireEvent, bodyErr, selfIDErr error) (qq.Event, FrameKind, error) {
	if bodyErr != nil {
		return qq.Event{}, 0, fmt.Errorf("decode group_decrease notice: %w", bodyErr)
	}
	if selfIDErr != nil {
		return qq.Event{}, 0, fmt.Errorf("decode group_decrease notice: self_id: %w", selfIDErr)
	}
	if w.GroupID == 0 || w.UserID == 0 {
		return qq.Event{}, 0, errors.New("group_decrease notice without group_id or user_id")
	}
	if ev.SelfID != 0 && int64(w.UserID) == ev.SelfID {
		return ev, FrameIgnored, nil
	}
	ev.Kind, ev.GroupID, ev.UserID = qq.MemberLeft, int64(w.GroupID), int64(w.UserID)
	return ev, FrameMemberLeft, nil
}

// orNull turns an absent value into JSON null.
func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

func (w wireMessage) decode(depth int) (qq.Message, error) {
	segs, err := decodeSegments(w.Message, depth)
	if err != nil {
		return qq.Message{}, err
	}
	m := qq.Message{ID: string(w.MessageID), Segments: segs}
	if w.Time > 0 {
		m.Time = time.Unix(int64(w.Time), 0)
	}
	m.Sender.UserID = int64(w.UserID)
	if s := w.Sender; s != nil {
		if s.UserID != 0 {
			m.Sender.UserID = int64(s.UserID)
		}
		m.Sender.Nickname, m.Sender.Card, m.Sender.Role = string(s.Nickname), string(s.Card), string(s.Role)
	}
	return m, nil
}

// DecodeMessage decodes a message object as get_msg returns it (the keys of
// a message event).
func DecodeMessage(data []byte) (qq.Message, error) {
	if err := requireObject(data); err != nil {
		return qq.Message{}, err
	}
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		return qq.Message{}, fmt.Errorf("decode message: %w", err)
	}
	return w.decode(0)
}

type wireSegment struct {
	Type wirejson.String `json:"type"`
	Data json.RawMessage `json:"data"`
}

// DecodeSegments decodes a message body: a segment array, a single segment
// object, or a CQ-code string. Data values become strings; null and empty
// values are left out, as NapCat's CQ encoder does, so the two formats of one
// message decode to the same segments.
func DecodeSegments(raw json.RawMessage) ([]qq.Segment, error) {
	if len(bytes.TrimSpace(raw)) > 0 && !json.Valid(raw) {
		var v any
		return nil, fmt.Errorf("decode message: %w", json.Unmarshal(raw, &v))
	}
	return decodeSegments(raw, 0)
}

func decodeSegments(raw json.RawMessage, depth int) ([]qq.Segment, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	switch raw[0] {
	case 'n':
		return nil, nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("decode message string: %w", err)
		}
		segs := ParseCQ(s)
		for i := range segs {
			unescapeLink(&segs[i])
		}
		return segs, nil
	case '{':
		seg, err := decodeSegment(raw, depth)
		if err != nil {
			return nil, err
		}
		return []qq.Segment{seg}, nil
	case '[':
		// One pass over the array (raw is part of a decoded, so valid,
		// document); an item that is not a segment object fails it, and the
		// slow path below then names the item.
		items, ok := segmentsFast(raw)
		if !ok {
			items = nil
			ok = json.Unmarshal(raw, &items) == nil
		}
		if ok {
			segs := make([]qq.Segment, 0, len(items))
			for i, w := range items {
				seg, err := w.segment(depth)
				if err != nil {
					return nil, fmt.Errorf("segment %d: %w", i, err)
				}
				segs = append(segs, seg)
			}
			return segs, nil
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(raw, &raws); err != nil {
			return nil, fmt.Errorf("decode message: %w", err)
		}
		segs := make([]qq.Segment, 0, len(raws))
		for i, item := range raws {
			seg, err := decodeSegment(item, depth)
			if err != nil {
				return nil, fmt.Errorf("segment %d: %w", i, err)
			}
			segs = append(segs, seg)
		}
		return segs, nil
	}
	return nil, fmt.Errorf("message is neither a segment array nor a CQ string: %s", safetext.Excerpt(raw, 40))
}

func decodeSegment(raw json.RawMessage, depth int) (qq.Segment, error) {
	if err := requireObject(raw); err != nil {
		return qq.Segment{}, err
	}
	var w wireSegment
	if err := json.Unmarshal(raw, &w); err != nil {
		return qq.Segment{}, err
	}
	return w.segment(depth)
}

// segment turns a decoded segment object into the neutral model: its data
// as strings (dataValue), read by botkit.FromOneBot as a CQ code's are, so
// the two message formats decode alike.
func (w wireSegment) segment(depth int) (qq.Segment, error) {
	if w.Type == "" {
		return qq.Segment{}, errors.New("segment without type")
	}
	var fields map[string]json.RawMessage
	if d := bytes.TrimSpace(w.Data); len(d) > 0 && d[0] != 'n' {
		if d[0] != '{' {
			return qq.Segment{}, fmt.Errorf("%s segment: data is not an object", w.Type)
		}
		var ok bool
		if fields, ok = fieldsFast(d); !ok {
			fields = nil
			if err := json.Unmarshal(d, &fields); err != nil {
				return qq.Segment{}, fmt.Errorf("%s segment: %w", w.Type, err)
			}
		}
	}
	data := make(map[string]string, len(fields))
	var forward []qq.Message
	for k, v := range fields {
		if w.Type == qq.SegForward && k == "content" && bytes.HasPrefix(bytes.TrimSpace(v), []byte("[")) {
			fwd, err := decodeForwardContent(v, depth+1)
			if err != nil {
				return qq.Segment{}, fmt.Errorf("forward content: %w", err)
			}
			forward = fwd
			continue
		}
		val, present, err := dataValue(v)
		if err != nil {
			return qq.Segment{}, fmt.Errorf("%s segment, %s: %w", w.Type, k, err)
		}
		if present && val != "" {
			data[k] = val
		}
	}
	seg := botkit.FromOneBot(string(w.Type), data)
	seg.Forward = forward
	unescapeLink(&seg)
	return seg, nil
}

// unescapeLink decodes the "&amp;" that some NapCat and LLBot builds leave
// in a segment's url even in the array format, where nothing is escaped:
// the QQ NT multimedia links would open a 403 page. A CQ string that
// escaped a link twice is decoded the same way.
func unescapeLink(seg *qq.Segment) {
	seg.URL = botkit.UnescapeURL(seg.URL)
}

// decodeForwardContent decodes the messages NapCat inlines into a forward
// segment when parseMultMsg is on.
func decodeForwardContent(raw json.RawMessage, depth int) ([]qq.Message, error) {
	if depth > maxForwardDepth {
		return nil, nil
	}
	var items []wireMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	msgs := make([]qq.Message, 0, len(items))
	for i, item := range items {
		m, err := item.decode(depth)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// Response is the bot's reply to an action.
type Response struct {
	Status  string // "ok" or "failed"
	Retcode int64
	Message string // error text (message, else wording)
	Echo    string // as sent; "" when the bot sent null or none
	Data    json.RawMessage
}

type wireResponse struct {
	Status  wirejson.String `json:"status"`
	Retcode wirejson.Int    `json:"retcode"`
	Message wirejson.String `json:"message"`
	Wording wirejson.String `json:"wording"`
	Echo    json.RawMessage `json:"echo"`
	Data    json.RawMessage `json:"data"`
}

// DecodeResponse decodes a frame DecodeEvent classified as FrameResponse.
func DecodeResponse(frame []byte) (Response, error) {
	if err := requireObject(frame); err != nil {
		return Response{}, err
	}
	var w wireResponse
	if err := json.Unmarshal(frame, &w); err != nil {
		return Response{}, fmt.Errorf("decode response: %w", err)
	}
	r := Response{Status: string(w.Status), Retcode: int64(w.Retcode), Message: string(w.Message), Data: w.Data}
	if r.Message == "" {
		r.Message = string(w.Wording)
	}
	if len(w.Echo) > 0 {
		var echo wirejson.String
		if err := echo.UnmarshalJSON(w.Echo); err != nil {
			return Response{}, fmt.Errorf("decode response: echo is not a scalar: %s", safetext.Excerpt(w.Echo, 40))
		}
		r.Echo = string(echo)
	}
	return r, nil
}

// Err is nil for a successful response and a *qq.APIError naming action
// otherwise.
func (r Response) Err(action string) error {
	if r.Status == "ok" {
		return nil
	}
	msg := r.Message
	if msg == "" {
		msg = "status " + strconv.Quote(r.Status)
	}
	return &qq.APIError{Action: action, Retcode: r.Retcode, Message: msg}
}

// requireObject rejects anything but a JSON object up front, so a frame like
// `"text"` or `[1]` gets a clear error instead of a type mismatch deep inside.
func requireObject(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("not a JSON object: %s", safetext.Excerpt(b, 40))
	}
	return nil
}

// outSegment is a segment as sent to the bot. Data values stay strings;
// NapCat and LLBot both accept numeric strings.
type outSegment struct {
	Type string            `json:"type"`
	Data map[string]string `json:"data"`
}

// outSegments is a message as actions take it: always a segment array, never
// a CQ string, so text such as "[CQ:at,qq=all]" typed by a player stays text.
// Text is cleaned (safetext.Clean) so no control character reaches the
// group. The bots fetch an outgoing image, voice or video from "file" (an
// http(s):// URL, a path or base64://), so the neutral URL goes there.
func outSegments(segs []qq.Segment) []outSegment {
	out := make([]outSegment, 0, len(segs))
	for _, s := range segs {
		if s.Type == qq.SegText {
			s.Text = safetext.Clean(s.Text)
		}
		data := botkit.OneBotData(s)
		switch s.Type {
		case qq.SegImage, qq.SegRecord, qq.SegVideo:
			if url, ok := data["url"]; ok {
				delete(data, "url")
				data["file"] = url
			}
		}
		out = append(out, outSegment{Type: s.Type, Data: data})
	}
	return out
}

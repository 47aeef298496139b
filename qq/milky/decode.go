package milky

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

// Kind classifies a frame decoded by DecodeEvent.
type Kind int

const (
	// KindMessage is a group, friend or temp message the relay acts on.
	KindMessage Kind = iota + 1
	// KindOwnMessage is a message the bot sent itself (sender_id == self_id),
	// reported when the implementation is set to echo them; never relayed.
	KindOwnMessage
	// KindBotOffline is bot_offline: the QQ account was logged out.
	KindBotOffline
	// KindOther is every other event type (recall, nudge, members joining,
	// unknown future types) and message scenes the bridge does not know.
	KindOther
	// KindMemberLeft is group_member_decrease: a qq.MemberLeft event.
	KindMemberLeft
)

func (k Kind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindOwnMessage:
		return "own_message"
	case KindBotOffline:
		return "bot_offline"
	case KindOther:
		return "other"
	case KindMemberLeft:
		return "member_left"
	}
	return "unknown"
}

// Message scenes (docs/protocols.md#milky-events); with peer_id and message_seq
// they identify a message, so Message.ID is "<scene>:<peer_id>:<message_seq>".
const (
	sceneGroup  = "group"
	sceneFriend = "friend"
	sceneTemp   = "temp"
)

// envelope is the outer shape of every event: time, self_id, event_type, data.
type envelope struct {
	Time      wirejson.Int    `json:"time"`
	SelfID    wirejson.Int    `json:"self_id"`
	EventType string          `json:"event_type"`
	Data      json.RawMessage `json:"data"`
}

// incomingMessage is Milky's IncomingMessage, the data of message_receive
// and the message returned by get_message.
type incomingMessage struct {
	Scene    string          `json:"message_scene"`
	PeerID   wirejson.Int    `json:"peer_id"`
	Seq      wirejson.Int    `json:"message_seq"`
	SenderID wirejson.Int    `json:"sender_id"`
	Time     wirejson.Int    `json:"time"`
	Segments json.RawMessage `json:"segments"`
	Friend   *friendEntity   `json:"friend"`
	Group    *groupEntity    `json:"group"`
	Member   *memberEntity   `json:"group_member"`
}

// friendEntity, groupEntity and memberEntity hold the fields of Milky's
// entities that the bridge uses.
type friendEntity struct {
	Nickname wirejson.String `json:"nickname"`
}

type groupEntity struct {
	Name wirejson.String `json:"group_name"`
}

type memberEntity struct {
	UserID   wirejson.Int    `json:"user_id"`
	Nickname wirejson.String `json:"nickname"`
	Card     wirejson.String `json:"card"`
	Role     wirejson.String `json:"role"`
}

func (m memberEntity) member() qq.Member {
	return qq.Member{UserID: int64(m.UserID), Nickname: string(m.Nickname), Card: string(m.Card), Role: string(m.Role)}
}

// DecodeEvent decodes one event frame (a WebSocket frame, an SSE data line
// or a webhook body). For KindMessage and KindOwnMessage the Event is filled:
// group scene → qq.GroupMessage with the group's name and the sender's card
// and role; friend and temp scenes → qq.PrivateMessage. Other kinds carry
// only SelfID. A frame that is not a Milky event is an error.
func DecodeEvent(frame []byte) (qq.Event, Kind, error) {
	var env envelope
	if err := json.Unmarshal(frame, &env); err != nil {
		return qq.Event{}, 0, fmt.Errorf("milky event: %w", err)
	}
	if env.EventType == "" {
		return qq.Event{}, 0, errors.New("milky event: no event_type")
	}
	ev := qq.Event{SelfID: int64(env.SelfID)}
	switch env.EventType {
	case "message_receive":
	case "bot_offline":
		return ev, KindBotOffline, nil
	case "group_member_decrease":
		return decodeMemberLeft(ev, env.Data)
	default:
		return ev, KindOther, nil
	}

	var in incomingMessage
	if err := json.Unmarshal(env.Data, &in); err != nil {
		return qq.Event{}, 0, fmt.Errorf("milky message_receive: %w", err)
	}
	switch in.Scene {
	case sceneGroup:
		ev.Kind = qq.GroupMessage
		ev.GroupID = int64(in.PeerID)
		if in.Group != nil {
			ev.GroupName = string(in.Group.Name)
		}
	case sceneFriend, sceneTemp:
		ev.Kind = qq.PrivateMessage
	default:
		// A scene added by a later Milky version: not an error, just not ours.
		return ev, KindOther, nil
	}
	msg, err := in.message()
	if err != nil {
		return qq.Event{}, 0, fmt.Errorf("milky message_receive: %w", err)
	}
	if msg.Time.IsZero() && env.Time > 0 {
		msg.Time = time.Unix(int64(env.Time), 0)
	}
	ev.Message = msg
	if env.SelfID != 0 && in.SenderID == env.SelfID {
		return ev, KindOwnMessage, nil
	}
	return ev, KindMessage, nil
}

// decodeMemberLeft reads group_member_decrease {group_id, user_id,
// operator_id?}: a member left or was removed. The bot itself leaving is
// no member leaving.
func decodeMemberLeft(ev qq.Event, data json.RawMessage) (qq.Event, Kind, error) {
	var d struct {
		GroupID wirejson.Int `json:"group_id"`
		UserID  wirejson.Int `json:"user_id"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return qq.Event{}, 0, fmt.Errorf("milky group_member_decrease: %w", err)
	}
	if d.GroupID == 0 || d.UserID == 0 {
		return qq.Event{}, 0, errors.New("milky group_member_decrease: no group_id or user_id")
	}
	if ev.SelfID != 0 && int64(d.UserID) == ev.SelfID {
		return ev, KindOther, nil
	}
	ev.Kind, ev.GroupID, ev.UserID = qq.MemberLeft, int64(d.GroupID), int64(d.UserID)
	return ev, KindMemberLeft, nil
}

// message converts an IncomingMessage into the neutral model.
func (in incomingMessage) message() (qq.Message, error) {
	switch in.Scene {
	case sceneGroup, sceneFriend, sceneTemp:
	default:
		return qq.Message{}, fmt.Errorf("unknown message_scene %q", in.Scene)
	}
	if in.PeerID == 0 {
		return qq.Message{}, errors.New("message without peer_id")
	}
	segs, err := DecodeSegments(in.Segments)
	if err != nil {
		return qq.Message{}, err
	}
	qualifyReplies(segs, in.Scene, int64(in.PeerID))

	sender := qq.Member{UserID: int64(in.SenderID)}
	switch {
	case in.Member != nil:
		sender = in.Member.member()
		sender.UserID = int64(in.SenderID)
	case in.Friend != nil:
		sender.Nickname = string(in.Friend.Nickname)
	}
	return qq.Message{
		ID:       messageID(in.Scene, int64(in.PeerID), int64(in.Seq)),
		Sender:   sender,
		Segments: segs,
		Time:     unixTime(in.Time),
	}, nil
}

// qualifyReplies gives each inline quoted message its full ID: a reply
// segment only carries the quoted message_seq, whose scene and peer are
// those of the message containing it.
func qualifyReplies(segs []qq.Segment, scene string, peer int64) {
	for _, s := range segs {
		if s.Type != qq.SegReply || s.Quoted == nil {
			continue
		}
		if seq, err := strconv.ParseInt(s.ID, 10, 64); err == nil {
			s.Quoted.ID = messageID(scene, peer, seq)
		}
		qualifyReplies(s.Quoted.Segments, scene, peer)
	}
}

func messageID(scene string, peer, seq int64) string {
	return scene + ":" + strconv.FormatInt(peer, 10) + ":" + strconv.FormatInt(seq, 10)
}

// parseMessageID splits a Message.ID made by messageID.
func parseMessageID(id string) (scene string, peer, seq int64, err error) {
	bad := fmt.Errorf("milky message id %q: want <scene>:<peer_id>:<message_seq>", id)
	scene, rest, ok := strings.Cut(id, ":")
	if !ok {
		return "", 0, 0, bad
	}
	peerText, seqText, ok := strings.Cut(rest, ":")
	if !ok {
		return "", 0, 0, bad
	}
	switch scene {
	case sceneGroup, sceneFriend, sceneTemp:
	default:
		return "", 0, 0, bad
	}
	if peer, err = strconv.ParseInt(peerText, 10, 64); err != nil || peer == 0 {
		return "", 0, 0, bad
	}
	if seq, err = strconv.ParseInt(seqText, 10, 64); err != nil {
		return "", 0, 0, bad
	}
	return scene, peer, seq, nil
}

func unixTime(t wirejson.Int) time.Time {
	if t <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(t), 0)
}

// segmentMapping renames one Milky segment type and its data keys to the
// OneBot names botkit.FromOneBot reads. Keys not listed keep their Milky
// name (market_face's summary and url already match).
type segmentMapping struct {
	typ  string
	keys map[string]string
}

var segmentMappings = map[string]segmentMapping{
	"text":        {qq.SegText, nil},
	"mention":     {qq.SegAt, map[string]string{"user_id": "qq"}},
	"mention_all": {qq.SegAt, nil},
	"face":        {qq.SegFace, map[string]string{"face_id": "id"}},
	"reply":       {qq.SegReply, map[string]string{"message_seq": "id"}},
	"image":       {qq.SegImage, map[string]string{"temp_url": "url"}},
	"record":      {qq.SegRecord, map[string]string{"temp_url": "url"}},
	"video":       {qq.SegVideo, map[string]string{"temp_url": "url"}},
	"file":        {qq.SegFile, map[string]string{"file_name": "name", "file_size": "size"}},
	"forward":     {qq.SegForward, map[string]string{"forward_id": "id"}},
	"market_face": {qq.SegMFace, nil},
	"light_app":   {qq.SegJSON, map[string]string{"json_payload": "data", "app_name": "app"}},
	"xml":         {qq.SegXML, map[string]string{"xml_payload": "data"}},
	"markdown":    {qq.SegMarkdown, nil},
}

// DecodeSegments decodes a Milky segment array (message segments, or the
// quoted segments of a reply) into the neutral model: mention → at,
// mention_all → at with qq.MentionAll, face_id → ID, image temp_url → URL
// and sub_type sticker (or a summary naming one) → Sticker, market_face →
// mface, light_app and xml payloads → Payload, file_name → Name. A reply
// carries its inline quoted message in Quoted, a forward its preview lines
// in Forward. Unknown types keep their name. Only a malformed array or a
// segment without a type is an error.
func DecodeSegments(raw json.RawMessage) ([]qq.Segment, error) {
	return decodeSegments(raw, true)
}

// decodeSegments decodes a segment array; withQuotes says whether the
// quoted messages of its replies are decoded too. They are for a message
// and not for what it quotes: the game shows one level of quoting, and a
// reply quoting a reply quoting … would otherwise be re-read at every
// level of a deep frame.
func decodeSegments(raw json.RawMessage, withQuotes bool) ([]qq.Segment, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("segments: %w", err)
	}
	segs := make([]qq.Segment, 0, len(items))
	for i, item := range items {
		var wire struct {
			Type wirejson.String `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(item, &wire); err != nil {
			return nil, fmt.Errorf("segment %d: %w", i, err)
		}
		if wire.Type == "" {
			return nil, fmt.Errorf("segment %d: no type", i)
		}
		// Data that is not an object is treated as empty: the segment still
		// shows as its type instead of failing the whole message.
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(wire.Data, &fields)
		seg, err := decodeSegment(string(wire.Type), wire.Data, fields, withQuotes)
		if err != nil {
			return nil, fmt.Errorf("segment %d (%s): %w", i, wire.Type, err)
		}
		segs = append(segs, seg)
	}
	return segs, nil
}

func decodeSegment(wireType string, rawData json.RawMessage, fields map[string]json.RawMessage, withQuotes bool) (qq.Segment, error) {
	m, known := segmentMappings[wireType]
	if !known {
		m = segmentMapping{typ: wireType}
	}
	data := make(map[string]string, len(fields)+1)
	// Renamed keys are written last so they win over a same-named key the
	// payload might also carry, whatever the map order.
	for k, v := range fields {
		if _, renamed := m.keys[k]; !renamed {
			if s, ok := wirejson.Scalar(v); ok {
				data[k] = s
			}
		}
	}
	for from, to := range m.keys {
		if s, ok := wirejson.Scalar(fields[from]); ok {
			data[to] = s
		}
	}
	switch wireType {
	case "mention_all":
		data["qq"] = qq.MentionAll
	case "image":
		switch data["sub_type"] {
		case "normal":
			data["sub_type"] = "0"
		case "sticker":
			data["sub_type"] = "1"
		}
	}
	seg := botkit.FromOneBot(m.typ, data)
	seg.URL = botkit.UnescapeURL(seg.URL) // as OneBot bots do, a Milky one might escape it
	switch wireType {
	case "reply":
		quoted, err := decodeQuoted(rawData, fields != nil, withQuotes)
		if err != nil {
			return qq.Segment{}, err
		}
		seg.Quoted = quoted
	case "forward":
		seg.Forward = decodePreview(fields["preview"])
	}
	return seg, nil
}

// decodeQuoted builds the quoted message a reply segment carries inline.
// Its Segments are empty when the implementation could not load it (LLBot
// then sends []) or when withSegments is false; its ID is filled in by
// qualifyReplies.
func decodeQuoted(rawData json.RawMessage, isObject, withSegments bool) (*qq.Message, error) {
	var r struct {
		SenderID   wirejson.Int    `json:"sender_id"`
		SenderName wirejson.String `json:"sender_name"`
		Time       wirejson.Int    `json:"time"`
		Segments   json.RawMessage `json:"segments"`
	}
	if isObject {
		if err := json.Unmarshal(rawData, &r); err != nil {
			return nil, err
		}
	}
	msg := &qq.Message{
		Sender: qq.Member{UserID: int64(r.SenderID), Nickname: string(r.SenderName)},
		Time:   unixTime(r.Time),
	}
	if withSegments && len(r.Segments) > 0 && string(r.Segments) != "null" {
		segs, err := decodeSegments(r.Segments, false)
		if err != nil {
			return nil, fmt.Errorf("quoted %w", err)
		}
		msg.Segments = segs
	}
	return msg, nil
}

// decodePreview turns a forward's preview lines ("Alice: 今晚维护") into one
// text message each; anything but a list of strings yields no preview.
func decodePreview(raw json.RawMessage) []qq.Message {
	var lines []json.RawMessage
	if json.Unmarshal(raw, &lines) != nil {
		return nil
	}
	var msgs []qq.Message
	for _, l := range lines {
		if s, ok := wirejson.Scalar(l); ok {
			msgs = append(msgs, qq.Message{Segments: []qq.Segment{qq.Text(s)}})
		}
	}
	return msgs
}

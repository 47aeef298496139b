package onebot

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/mcqq/bridge/qq"
	qqonebot "github.com/mcqq/bridge/qq/onebot"
)

// messageEvent is a message event in the implementations' field order
// (fixtures napcat_group_message_array.json, llbot_group_message_array.json,
// napcat_private_message_array.json).
type messageEvent struct {
	SelfID        int64       `json:"self_id"`
	UserID        int64       `json:"user_id"`
	Time          int64       `json:"time"`
	MessageID     int64       `json:"message_id"`
	MessageSeq    int64       `json:"message_seq"`
	RealID        *int64      `json:"real_id,omitempty"`  // NapCat (= message_id); LLBot only in get_msg
	RealSeq       string      `json:"real_seq,omitempty"` // NapCat only: the QQ sequence as a string
	MessageType   string      `json:"message_type"`
	Sender        eventSender `json:"sender"`
	RawMessage    string      `json:"raw_message"`
	Font          int         `json:"font"`
	SubType       string      `json:"sub_type"`
	Message       any         `json:"message"`
	MessageFormat string      `json:"message_format"`
	PostType      string      `json:"post_type"`
	GroupID       int64       `json:"group_id,omitempty"`
	GroupName     string      `json:"group_name,omitempty"`
	TargetID      int64       `json:"target_id,omitempty"` // private messages: the peer
	Status        string      `json:"status,omitempty"`    // LLBot get_msg only
}

type eventSender struct {
	UserID   int64  `json:"user_id"`
	Nickname string `json:"nickname"`
	Card     string `json:"card"`
	Role     string `json:"role,omitempty"`
}

// newMessageEventLocked builds a message event with fresh ids: NapCat's
// positive short ids with message_seq = real_id = message_id and the QQ
// sequence as the string real_seq; LLBot's possibly negative ids with the
// QQ sequence as message_seq.
func (b *Bot) newMessageEventLocked(messageType string, sender qq.Member, segs []qq.Segment) messageEvent {
	b.counter++
	seq := 48213 + b.counter
	ev := messageEvent{
		SelfID: b.opts.SelfID, UserID: sender.UserID, Time: time.Now().Unix(),
		MessageType: messageType,
		Sender:      eventSender{UserID: sender.UserID, Nickname: sender.Nickname, Card: sender.Card, Role: sender.Role},
		RawMessage:  qqonebot.EncodeCQ(segs), Font: 14, SubType: "normal", PostType: "message",
		Message: wireSegments(segs), MessageFormat: "array",
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

// numericKeys are the segment data keys written here that the
// implementations send as JSON numbers (fixtures
// *_incoming_segments_catalog.json); sending them that way keeps clients
// honest about accepting both.
var numericKeys = map[string]bool{"sub_type": true}

type wireSegment struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

func wireSegments(segs []qq.Segment) []wireSegment {
	out := make([]wireSegment, 0, len(segs))
	for _, s := range segs {
		fields := qqonebot.SegmentData(s)
		if s.Type == qq.SegImage && fields["sub_type"] == "" {
			fields["sub_type"] = "0" // the bots always say: 0 for a picture
		}
		data := make(map[string]any, len(fields))
		for k, v := range fields {
			data[k] = v
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && numericKeys[k] {
				data[k] = n
			}
		}
		out = append(out, wireSegment{Type: s.Type, Data: data})
	}
	return out
}

// groupDecrease is the group_decrease notice, in the bots' key order
// (notice_group_decrease.json).
type groupDecrease struct {
	Time       int64  `json:"time"`
	SelfID     int64  `json:"self_id"`
	PostType   string `json:"post_type"`
	GroupID    int64  `json:"group_id"`
	UserID     int64  `json:"user_id"`
	NoticeType string `json:"notice_type"`
	SubType    string `json:"sub_type"`
	OperatorID int64  `json:"operator_id"`
}

func (b *Bot) lifecycleEvent() any {
	return struct {
		Time          int64  `json:"time"`
		SelfID        int64  `json:"self_id"`
		PostType      string `json:"post_type"`
		MetaEventType string `json:"meta_event_type"`
		SubType       string `json:"sub_type"`
	}{time.Now().Unix(), b.opts.SelfID, "meta_event", "lifecycle", "connect"}
}

func (b *Bot) heartbeatEvent() any {
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

// marshal encodes frames built from the types above, which always
// marshal.
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("onebot stand-in: marshal %T: %v", v, err))
	}
	return b
}

func or(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}

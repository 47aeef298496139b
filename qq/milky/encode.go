package milky

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/qq"
)

// outgoingSegment is one segment of a message the bridge sends (Milky
// OutgoingSegment, docs/protocols.md#milky-segments). Data is one of the small
// structs below so the JSON keys come out in the documented order.
type outgoingSegment struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

type (
	outText struct {
		Text string `json:"text"`
	}
	outMention struct {
		UserID int64 `json:"user_id"` // Milky validates QQ numbers as integers, never strings
	}
	outMentionAll struct{}
	outFace       struct {
		FaceID  string `json:"face_id"`
		IsLarge bool   `json:"is_large"` // always false: the bridge sends no large faces
	}
	outReply struct {
		MessageSeq int64 `json:"message_seq"`
	}
	outImage struct {
		URI     string `json:"uri"`
		SubType string `json:"sub_type"`
		Summary string `json:"summary,omitempty"`
	}
	outMedia struct {
		URI string `json:"uri"`
	}
)

// encodeSegments turns neutral segments into Milky outgoing segments: text,
// at → mention / mention_all, face, reply, image, record and video. Any other
// type is an error naming it, rather than a message that silently lacks it.
func encodeSegments(segs []qq.Segment) ([]outgoingSegment, error) {
	out := make([]outgoingSegment, 0, len(segs))
	for i, s := range segs {
		o, err := encodeSegment(s)
		if err != nil {
			return nil, fmt.Errorf("segment %d (%s): %w", i, s.Type, err)
		}
		out = append(out, o)
	}
	return out, nil
}

func encodeSegment(s qq.Segment) (outgoingSegment, error) {
	switch s.Type {
	case qq.SegText:
		return outgoingSegment{"text", outText{safetext.Clean(s.Text)}}, nil // no control character reaches the group
	case qq.SegAt:
		target := s.Target
		if target == qq.MentionAll {
			return outgoingSegment{"mention_all", outMentionAll{}}, nil
		}
		user, err := strconv.ParseInt(target, 10, 64)
		if err != nil || user <= 0 {
			return outgoingSegment{}, fmt.Errorf("bad qq %q", target)
		}
		return outgoingSegment{"mention", outMention{user}}, nil
	case qq.SegFace:
		if s.ID == "" {
			return outgoingSegment{}, errors.New("no face id")
		}
		return outgoingSegment{"face", outFace{FaceID: s.ID}}, nil
	case qq.SegReply:
		seq, err := replySeq(s.ID)
		if err != nil {
			return outgoingSegment{}, err
		}
		return outgoingSegment{"reply", outReply{seq}}, nil
	case qq.SegImage:
		if s.URL == "" {
			return outgoingSegment{}, errors.New("no uri")
		}
		sub := "normal"
		if s.Sticker {
			sub = "sticker"
		}
		return outgoingSegment{"image", outImage{URI: s.URL, SubType: sub, Summary: s.Summary}}, nil
	case qq.SegRecord, qq.SegVideo:
		if s.URL == "" {
			return outgoingSegment{}, errors.New("no uri")
		}
		return outgoingSegment{s.Type, outMedia{s.URL}}, nil
	}
	return outgoingSegment{}, errors.New("cannot be sent over Milky")
}

// replySeq accepts the quoted message as a full Message.ID ("group:123:45",
// e.g. the ID of a command being answered) or as a bare message_seq (a reply
// segment's id as decoded).
func replySeq(id string) (int64, error) {
	if strings.Contains(id, ":") {
		_, _, seq, err := parseMessageID(id)
		return seq, err
	}
	seq, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad reply id %q", id)
	}
	return seq, nil
}

package satori

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/qq"
)

// Content turns segments into the element string message.create sends:
// text escaped, at → <at id/> or <at type="all"/>, reply → <quote id/>,
// face → <face id/>, image → <img src/>, record → <audio src/>, video →
// <video src/>. Any other type is an error naming it, rather than a message
// that silently lacks it.
func Content(segs []qq.Segment) (string, error) {
	var b strings.Builder
	for i, s := range segs {
		if err := writeSegment(&b, s); err != nil {
			return "", fmt.Errorf("segment %d (%s): %w", i, s.Type, err)
		}
	}
	return b.String(), nil
}

func writeSegment(b *strings.Builder, s qq.Segment) error {
	el := func(name string, attrs ...string) {
		b.WriteString("<" + name)
		for i := 0; i+1 < len(attrs); i += 2 {
			b.WriteString(" " + attrs[i] + `="` + EscapeAttr(attrs[i+1]) + `"`)
		}
		b.WriteString("/>")
	}
	switch s.Type {
	case qq.SegText:
		b.WriteString(EscapeText(safetext.Clean(s.Text))) // no control character reaches the group
	case qq.SegAt:
		target := s.Target
		if target == qq.MentionAll {
			el("at", "type", "all")
			return nil
		}
		if id, err := strconv.ParseInt(target, 10, 64); err != nil || id <= 0 {
			return fmt.Errorf("bad qq %q", target)
		}
		el("at", "id", target)
	case qq.SegReply:
		_, id := splitMessageID(s.ID)
		if id == "" {
			return errors.New("no id")
		}
		el("quote", "id", id)
	case qq.SegFace:
		if s.ID == "" {
			return errors.New("no face id")
		}
		el("face", "id", s.ID)
	case qq.SegImage, qq.SegRecord, qq.SegVideo:
		if s.URL == "" {
			return errors.New("no url")
		}
		el(map[string]string{qq.SegImage: "img", qq.SegRecord: "audio", qq.SegVideo: "video"}[s.Type], "src", s.URL)
	default:
		return errors.New("cannot be sent over Satori")
	}
	return nil
}

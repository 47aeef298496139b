package relay

import (
	"unicode/utf8"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// mergeMaxPictures bounds the pictures in one merged QQ message, so a burst
// of picture lines becomes several messages rather than one huge one.
const mergeMaxPictures = 10

// gameLine is the QQ line for a game event rendered as text. With
// MC_IMAGE_TO_QQ, ChatImage codes and picture links in a chat line become
// pictures, the rest of the line staying text around them.
func (r *Relay) gameLine(kind minecraft.EventKind, text, server string) qqLine {
	l := qqLine{Text: text, Server: server}
	if r.o.ImageToQQ && kind == minecraft.Chat {
		if segs := format.ChatSegments(text); format.HasPicture(segs) {
			l.Segments = segs
		}
	}
	return l
}

// content is the line as segments: its pictures and text, or its text.
func (l qqLine) content() []qq.Segment {
	if l.Segments != nil {
		return l.Segments
	}
	return []qq.Segment{qq.Text(l.Text)}
}

// queueBytes is what the line weighs in its queue: its text, and its
// segments when it has pictures.
func (l qqLine) queueBytes() int {
	n := len(l.Text)
	for _, s := range l.Segments {
		n += len(s.Type) + len(s.Text) + len(s.URL) // what ChatSegments fills
	}
	return n
}

// size is what the line adds to a merged message: characters of text, one
// per picture, and how many pictures.
func (l qqLine) size() (runes, pictures int) {
	for _, s := range l.content() {
		if s.Type == qq.SegText {
			runes += utf8.RuneCountInString(s.Text)
		} else {
			runes++
			pictures++
		}
	}
	return runes, pictures
}

// mergedMessage is queued lines joined into one QQ message: each line after
// the first starts on a new line, text runs are joined and pictures stay
// pictures, in order.
type mergedMessage struct {
	segs     []qq.Segment
	runes    int
	pictures int
	lines    int
}

// fits tells whether l may join the message within the merge limits; the
// first line always does.
func (m *mergedMessage) fits(l qqLine) bool {
	if m.lines == 0 {
		return true
	}
	runes, pictures := l.size()
	return l.ReplyTo == "" && m.runes+runes+1 <= mergeMaxRunes && m.pictures+pictures <= mergeMaxPictures
}

func (m *mergedMessage) add(l qqLine) {
	if m.lines > 0 {
		m.appendText("\n")
		m.runes++
	}
	for _, s := range l.content() {
		if s.Type == qq.SegText {
			m.appendText(s.Text)
		} else {
			m.segs = append(m.segs, s)
		}
	}
	runes, pictures := l.size()
	m.runes += runes
	m.pictures += pictures
	m.lines++
}

// appendText extends the last segment when it is text, so merged text lines
// stay one segment.
func (m *mergedMessage) appendText(s string) {
	if s == "" {
		return
	}
	if n := len(m.segs); n > 0 && m.segs[n-1].Type == qq.SegText {
		m.segs[n-1] = qq.Text(m.segs[n-1].Text + s)
		return
	}
	m.segs = append(m.segs, qq.Text(s))
}

// withQuote puts a reply to message id before the content; id "" quotes
// nothing.
func withQuote(id string, segs []qq.Segment) []qq.Segment {
	if id == "" {
		return segs
	}
	return append([]qq.Segment{{Type: qq.SegReply, ID: id}}, segs...)
}

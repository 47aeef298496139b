package onebot

import (
	"maps"
	"slices"
	"strings"

	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

// CQ codes are OneBot's string message format (docs/protocols.md#onebot-cq-codes):
// "text[CQ:type,key=value,…]text". Text escapes & [ ]; values also escape ,.

var (
	cqUnescaper    = strings.NewReplacer("&#91;", "[", "&#93;", "]", "&#44;", ",", "&amp;", "&")
	cqTextEscaper  = strings.NewReplacer("&", "&amp;", "[", "&#91;", "]", "&#93;")
	cqValueEscaper = strings.NewReplacer("&", "&amp;", "[", "&#91;", "]", "&#93;", ",", "&#44;")
)

// ParseCQ splits a CQ-code string into segments. Text between codes becomes
// text segments; a "[CQ:" that does not form a valid code stays text, as in
// NapCat and LLBot (whose grammar is \[CQ:(\w+)((,\w+=[^,\]]*)*)\]). A
// text code ("[CQ:text,text=…]") joins the text around it, which is how
// EncodeCQ writes text. Each code's values, empty ones left out as in the
// array format, are read by botkit.FromOneBot.
func ParseCQ(s string) []qq.Segment {
	var segs []qq.Segment
	var text strings.Builder
	flushText := func() {
		if text.Len() > 0 {
			segs = append(segs, qq.Text(text.String()))
			text.Reset()
		}
	}
	textStart := 0
	for i := 0; i < len(s); {
		open := strings.Index(s[i:], "[CQ:")
		if open < 0 {
			break
		}
		open += i
		typ, data, next, ok := parseCQCode(s, open)
		if !ok {
			// No code starts inside what the failed one scanned (its
			// values hold no "," or "]"), so go on from where it failed.
			i = max(open+1, next)
			continue
		}
		text.WriteString(cqUnescaper.Replace(s[textStart:open]))
		if typ == qq.SegText {
			text.WriteString(data["text"])
		} else {
			flushText()
			segs = append(segs, botkit.FromOneBot(typ, data))
		}
		textStart, i = next, next
	}
	text.WriteString(cqUnescaper.Replace(s[textStart:]))
	flushText()
	return segs
}

// parseCQCode parses the code starting at s[start] ("[CQ:") and returns the
// index just past its closing bracket.
func parseCQCode(s string, start int) (typ string, data map[string]string, next int, ok bool) {
	i := start + len("[CQ:")
	typ, i = cqWord(s, i)
	if typ == "" {
		return "", nil, i, false
	}
	data = map[string]string{}
	for i < len(s) && s[i] == ',' {
		key, j := cqWord(s, i+1)
		if key == "" || j >= len(s) || s[j] != '=' {
			return "", nil, j, false
		}
		j++
		end := j + strings.IndexAny(s[j:], ",]")
		if end < j { // no terminator: unclosed code, and no later one closes
			return "", nil, len(s), false
		}
		if v := cqUnescaper.Replace(s[j:end]); v != "" {
			data[key] = v
		}
		i = end
	}
	if i >= len(s) || s[i] != ']' {
		return "", nil, i, false
	}
	return typ, data, i + 1, true
}

// cqWord reads the run of ASCII word characters ([A-Za-z0-9_], JavaScript's
// \w) starting at s[i].
func cqWord(s string, i int) (string, int) {
	j := i
	for j < len(s) && isCQWordByte(s[j]) {
		j++
	}
	return s[i:j], j
}

func isCQWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// EncodeCQ renders segments as a CQ-code string: text as escaped text,
// every other segment as a code with its botkit.OneBotData, keys in sorted
// order. Types must be word characters, which every parsed segment
// satisfies. Quoted and Forward are not representable and are left out.
func EncodeCQ(segs []qq.Segment) string {
	var b strings.Builder
	for _, seg := range segs {
		if seg.Type == qq.SegText {
			b.WriteString(cqTextEscaper.Replace(seg.Text))
			continue
		}
		data := botkit.OneBotData(seg)
		b.WriteString("[CQ:")
		b.WriteString(seg.Type)
		for _, k := range slices.Sorted(maps.Keys(data)) {
			b.WriteByte(',')
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(cqValueEscaper.Replace(data[k]))
		}
		b.WriteByte(']')
	}
	return b.String()
}

// SegmentFromData builds a neutral segment from a segment's type and its
// data as strings, the way ParseCQ reads each code and DecodeSegments each
// array item (botkit.FromOneBot documents the keys).
func SegmentFromData(typ string, data map[string]string) qq.Segment {
	return botkit.FromOneBot(typ, data)
}

// SegmentData is a segment's data under OneBot's keys, as EncodeCQ writes
// it; SegmentFromData reads it back.
func SegmentData(seg qq.Segment) map[string]string { return botkit.OneBotData(seg) }

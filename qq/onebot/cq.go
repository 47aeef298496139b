package onebot

import (
	"maps"
	"slices"
	"strings"

	"github.com/mcqq/bridge/qq"
)

// CQ codes are OneBot's string message format (protocols §C.4):
// "text[CQ:type,key=value,…]text". Text escapes & [ ]; values also escape ,.

var (
	cqUnescaper    = strings.NewReplacer("&#91;", "[", "&#93;", "]", "&#44;", ",", "&amp;", "&")
	cqTextEscaper  = strings.NewReplacer("&", "&amp;", "[", "&#91;", "]", "&#93;")
	cqValueEscaper = strings.NewReplacer("&", "&amp;", "[", "&#91;", "]", "&#93;", ",", "&#44;")
)

// ParseCQ splits a CQ-code string into segments. Text between codes becomes
// text segments; a "[CQ:" that does not form a valid code stays text, as in
// NapCat and LLBot (whose grammar is \[CQ:(\w+)((,\w+=[^,\]]*)*)\]). Empty
// values are left out of Data, matching how the array format is decoded.
func ParseCQ(s string) []qq.Segment {
	var segs []qq.Segment
	textStart := 0
	flushText := func(end int) {
		if end > textStart {
			segs = append(segs, qq.Text(cqUnescaper.Replace(s[textStart:end])))
		}
	}
	for i := 0; i < len(s); {
		open := strings.Index(s[i:], "[CQ:")
		if open < 0 {
			break
		}
		open += i
		seg, next, ok := parseCQCode(s, open)
		if !ok {
			i = open + 1
			continue
		}
		flushText(open)
		segs = append(segs, seg)
		textStart, i = next, next
	}
	flushText(len(s))
	return segs
}

// parseCQCode parses the code starting at s[start] ("[CQ:") and returns the
// index just past its closing bracket.
func parseCQCode(s string, start int) (qq.Segment, int, bool) {
	i := start + len("[CQ:")
	typ, i := cqWord(s, i)
	if typ == "" {
		return qq.Segment{}, 0, false
	}
	data := map[string]string{}
	for i < len(s) && s[i] == ',' {
		key, j := cqWord(s, i+1)
		if key == "" || j >= len(s) || s[j] != '=' {
			return qq.Segment{}, 0, false
		}
		j++
		end := j + strings.IndexAny(s[j:], ",]")
		if end < j { // no terminator: unclosed code
			return qq.Segment{}, 0, false
		}
		if v := cqUnescaper.Replace(s[j:end]); v != "" {
			data[key] = v
		}
		i = end
	}
	if i >= len(s) || s[i] != ']' {
		return qq.Segment{}, 0, false
	}
	return qq.Segment{Type: typ, Data: data}, i + 1, true
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

// EncodeCQ renders segments as a CQ-code string, keys in sorted order. Types
// and keys must be word characters, which every parsed segment satisfies.
// Quoted and Forward are not representable and are left out.
func EncodeCQ(segs []qq.Segment) string {
	var b strings.Builder
	for _, seg := range segs {
		if seg.Type == qq.SegText {
			b.WriteString(cqTextEscaper.Replace(seg.Data["text"]))
			continue
		}
		b.WriteString("[CQ:")
		b.WriteString(seg.Type)
		for _, k := range slices.Sorted(maps.Keys(seg.Data)) {
			b.WriteByte(',')
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(cqValueEscaper.Replace(seg.Data[k]))
		}
		b.WriteByte(']')
	}
	return b.String()
}

package format

import (
	"unicode/utf8"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// Limits of what one QQ message shows in the game. A message of 100,000
// characters or 20,000 faces would otherwise become a broadcast of hundreds
// of kilobytes, which floods chat and which some servers refuse.
const (
	// MaxContentRunes is how many characters of content a line shows; the
	// rest is cut and TruncationMark added.
	MaxContentRunes = 1000
	// maxContentBytes bounds the encoded size of the content, which links
	// and hovers add to without showing characters (300 pictures would be
	// 1,200 characters but 60 KB).
	maxContentBytes = 16 << 10
	// maxQuoteRunes and maxQuoteBytes bound the quoted message shown in a
	// reply's hover.
	maxQuoteRunes = 300
	maxQuoteBytes = 4 << 10
	// maxNameRunes cuts sender, group and mention names.
	maxNameRunes = 64
)

// TruncationMark ends content that was cut.
const TruncationMark = "…（已截断）"

// budget is what the content of one line may still use.
type budget struct {
	runes, bytes int
}

// appendContent renders segs after out until the budget runs out: the
// component that does not fit is cut to the characters left (a label such as
// "[图片]" is left out whole rather than halved) and TruncationMark follows.
// Segments after the cut are not rendered at all.
func appendContent(out []minecraft.Component, segs []qq.Segment, names map[int64]string, o Options, b budget) []minecraft.Component {
	for _, seg := range segs {
		c, ok := segmentComponent(seg, names, o)
		if !ok {
			continue
		}
		runes, size := cost(c)
		if runes <= b.runes && size <= b.bytes {
			out = append(out, c)
			b.runes -= runes
			b.bytes -= size
			continue
		}
		if seg.Type == qq.SegText || seg.Type == qq.SegMarkdown {
			if keep := min(b.runes, b.bytes/4); keep > 0 { // 4: the most bytes a character takes
				c.Text = string([]rune(c.Text)[:keep])
				out = append(out, c)
			}
		}
		return append(out, minecraft.Component{Text: TruncationMark, Color: colorReply})
	}
	return out
}

// cost is what a component shows (characters of its text) and roughly what
// it weighs once encoded: its texts, link, hover and the JSON around them.
func cost(c minecraft.Component) (runes, size int) {
	const overhead = 48 // {"text":"","color":"light_purple"} and the like
	runes = utf8.RuneCountInString(c.Text)
	size = overhead + len(c.Text) + len(c.Color) + len(c.ClickURL) + len(c.ClickSuggest)
	if c.ClickURL != "" || c.ClickSuggest != "" {
		size += overhead
	}
	for _, h := range c.Hover {
		_, s := cost(h)
		size += s + overhead
	}
	for _, e := range c.Extra {
		r, s := cost(e)
		runes += r
		size += s
	}
	return runes, size
}

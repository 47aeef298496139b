package format

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// maxBroadcastBytes is the most a single QQ message may weigh as a
// broadcast in either spelling, whatever it holds.
const maxBroadcastBytes = 32 << 10

// content is what follows the "：" separator of a rendered line.
func content(cs []minecraft.Component) []minecraft.Component {
	line := cs[0].Extra
	for i, c := range line {
		if c.Text == "：" && c.Color == colorText {
			return line[i+1:]
		}
	}
	return nil
}

// checkBounded fails when the line's content shows more than the cut allows
// or the broadcast weighs more than maxBroadcastBytes, and returns the
// content as plain text.
func checkBounded(t testing.TB, cs []minecraft.Component) string {
	t.Helper()
	text := minecraft.PlainText(content(cs))
	if n := utf8.RuneCountInString(text); n > MaxContentRunes+utf8.RuneCountInString(TruncationMark) {
		t.Fatalf("content shows %d characters, more than the cut", n)
	}
	for _, style := range []minecraft.Style{minecraft.StyleLegacy, minecraft.StyleModern} {
		b, err := minecraft.Marshal(cs, style)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > maxBroadcastBytes {
			t.Fatalf("%s broadcast is %d bytes, more than %d", style, len(b), maxBroadcastBytes)
		}
	}
	return text
}

func repeat(n int, s qq.Segment) []qq.Segment {
	out := make([]qq.Segment, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestLongMessagesAreCut(t *testing.T) {
	long := strings.Repeat("很长的消息", 20_000) // 100,000 characters
	image := qq.Segment{Type: qq.SegImage, URL: imageURL + strings.Repeat("x", 200)}
	for _, tc := range []struct {
		name string
		segs []qq.Segment
		want func(string) bool
	}{
		{"100,000 characters", []qq.Segment{qq.Text(long)}, func(s string) bool {
			return s == strings.Repeat("很长的消息", 200)+TruncationMark
		}},
		{"20,000 faces", repeat(20_000, qq.Segment{Type: qq.SegFace, ID: "14"}), func(s string) bool {
			return s == strings.Repeat("[微笑]", 250)+TruncationMark
		}},
		{"1,000 pictures with long links, cut by size", repeat(1_000, image), func(s string) bool {
			return strings.HasPrefix(s, "[图片][图片]") && strings.HasSuffix(s, "[图片]"+TruncationMark)
		}},
		{"many short texts", repeat(5_000, qq.Text("<")), func(s string) bool {
			return strings.HasPrefix(s, "<<<") && strings.HasSuffix(s, TruncationMark)
		}},
		{"text after faces is cut within the text", append(repeat(249, qq.Segment{Type: qq.SegFace, ID: "14"}), qq.Text("abcdefgh")), func(s string) bool {
			return s == strings.Repeat("[微笑]", 249)+"abcd"+TruncationMark
		}},
		{"exactly 1,000 characters is not cut", []qq.Segment{qq.Text(strings.Repeat("满", 1_000))}, func(s string) bool {
			return s == strings.Repeat("满", 1_000)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := QQToGame(QQMessage{GroupID: 1, Sender: qq.Member{UserID: 2, Card: "Alice"}, Segments: tc.segs}, Options{})
			if got := checkBounded(t, cs); !tc.want(got) {
				t.Errorf("content reads %.80q … %q", got, got[max(0, len(got)-60):])
			}
		})
	}
}

// A reply to a huge message, from a sender with a huge name, stays small:
// the quote in the hover and the names are cut too.
func TestQuotesAndNamesAreCut(t *testing.T) {
	huge := strings.Repeat("名", 10_000)
	cs := QQToGame(QQMessage{
		GroupID: 1, GroupName: huge, Sender: qq.Member{UserID: 2, Card: huge},
		Segments: []qq.Segment{{Type: qq.SegAt, Target: "3"}, qq.Text("好")},
		Reply:    &Reply{Author: huge, Quoted: []qq.Segment{qq.Text(strings.Repeat("引", 100_000))}},
		Names:    map[int64]string{3: huge},
	}, Options{ShowGroupName: true})
	checkBounded(t, cs)
	b, _ := minecraft.Marshal(cs, minecraft.StyleModern)
	if len(b) > 8<<10 {
		t.Errorf("a one-character reply weighs %d bytes", len(b))
	}
	if !strings.Contains(string(b), TruncationMark) {
		t.Error("the quoted message does not say it was cut")
	}
}

package relay

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/qq"
)

func describe(segs []qq.Segment) string {
	parts := make([]string, len(segs))
	for i, s := range segs {
		if s.Type == qq.SegText {
			parts[i] = fmt.Sprintf("%q", s.Text)
		} else {
			parts[i] = s.Type + " " + s.URL
		}
	}
	return strings.Join(parts, " | ")
}

func pictureLine(text string) qqLine {
	return qqLine{Text: text, Segments: format.ChatSegments(text)}
}

// Lines merged under the group rate keep their pictures as pictures, in
// order, with the text of neighbouring lines joined by newlines.
func TestMergedLinesKeepPicturesInOrder(t *testing.T) {
	batch := []queued[qqLine]{
		{v: qqLine{Text: "Alex 加入了游戏"}},
		{v: pictureLine("Steve：看 https://i.example.com/a.png 和 [[CICode,url=https://i.example.com/b,name=b]]")},
		{v: qqLine{Text: "Steve 离开了游戏"}},
		{v: qqLine{Text: "reply", ReplyTo: "42"}},
	}
	n, segs := mergeLines(batch)
	want := `"Alex 加入了游戏\nSteve：看 " | image https://i.example.com/a.png | " 和 " | image https://i.example.com/b | "\nSteve 离开了游戏"`
	if n != 3 || describe(segs) != want {
		t.Errorf("merged %d lines into\n %s\nwant 3 lines into\n %s", n, describe(segs), want)
	}
}

// A burst of picture lines is split so no message carries more than
// mergeMaxPictures pictures; a lone line is never refused.
func TestMergeLimitsPicturesPerMessage(t *testing.T) {
	var batch []queued[qqLine]
	for i := range 6 {
		batch = append(batch, queued[qqLine]{v: pictureLine(fmt.Sprintf("p%d https://i.example.com/%d.png https://i.example.com/%d.jpg", i, i, i))})
	}
	n, segs := mergeLines(batch)
	pictures := 0
	for _, s := range segs {
		if s.Type == qq.SegImage {
			pictures++
		}
	}
	if n != 5 || pictures != 10 {
		t.Errorf("merged %d lines with %d pictures, want 5 lines with 10", n, pictures)
	}
	if n, _ := mergeLines(batch[5:]); n != 1 {
		t.Errorf("a lone picture line merged as %d lines", n)
	}
}

// Queued QQ lines merge into one message: text lines joined by newlines,
// up to 3000 characters; a line quoting a command starts a message of its
// own; a lone line over the limit still goes.
func TestMergeLines(t *testing.T) {
	line := func(text string) queued[qqLine] { return queued[qqLine]{v: qqLine{Text: text}} }
	quote := func(text, id string) queued[qqLine] { return queued[qqLine]{v: qqLine{Text: text, ReplyTo: id}} }
	long := func(n int) string { return strings.Repeat("字", n) }
	cases := []struct {
		name  string
		batch []queued[qqLine]
		n     int
		want  string
	}{
		{"one line", []queued[qqLine]{line("Steve：hi")}, 1, `"Steve：hi"`},
		{"lines join", []queued[qqLine]{line("a"), line("b"), line("c")}, 3, `"a\nb\nc"`},
		{"a reply takes the lines after it", []queued[qqLine]{quote("[survival] 已广播", "42"), line("Steve：hi")}, 2, `"[survival] 已广播\nSteve：hi"`},
		{"a reply starts a message", []queued[qqLine]{line("Steve：hi"), quote("[survival] 已广播", "42")}, 1, `"Steve：hi"`},
		{"up to 3000 characters", []queued[qqLine]{line(long(2000)), line(long(999)), line("x")}, 2, strconv.Quote(long(2000) + "\n" + long(999))},
		{"not one more", []queued[qqLine]{line(long(2000)), line(long(1000))}, 1, strconv.Quote(long(2000))},
		{"a long line alone", []queued[qqLine]{line(long(4000)), line("x")}, 1, strconv.Quote(long(4000))},
	}
	for _, c := range cases {
		n, segs := mergeLines(c.batch)
		if n != c.n || describe(segs) != c.want {
			t.Errorf("%s: merged %d lines into %.80s; want %d into %.80s", c.name, n, describe(segs), c.n, c.want)
		}
	}
	if got := describe(withQuote("42", []qq.Segment{qq.Text("hi")})); got != `reply  | "hi"` {
		t.Errorf("withQuote: %s", got)
	}
	if got := describe(withQuote("", []qq.Segment{qq.Text("hi")})); got != `"hi"` {
		t.Errorf("withQuote without an id: %s", got)
	}
}

// With MC_IMAGE_TO_QQ a picture link in game chat reaches QQ as a picture,
// the rest of the line as text; without it the line stays text.
func TestGameChatPicturesReachQQ(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(strconv.FormatBool(on), func(t *testing.T) {
			w := startWorld(t, []serverSpec{{name: "survival", groups: []int64{groupA}}}, func(o *Options) { o.ImageToQQ = on })
			w.mc["survival"].Chat("Steve", "看 https://i.example.com/a.png 好看吗")
			w.waitLines(groupA, 1)
			var got []string
			for _, s := range w.bot.Sent()[0].Message {
				if s.Type == qq.SegText {
					got = append(got, s.Text)
				} else {
					got = append(got, s.Type+" "+s.URL)
				}
			}
			want := []string{"Steve：看 https://i.example.com/a.png 好看吗"}
			if on {
				want = []string{"Steve：看 ", "image https://i.example.com/a.png", " 好看吗"}
			}
			if !slices.Equal(got, want) {
				t.Errorf("sent %q, want %q", got, want)
			}
		})
	}
}

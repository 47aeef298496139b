package relay

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/qq"
)

func describe(segs []qq.Segment) string {
	parts := make([]string, len(segs))
	for i, s := range segs {
		if s.Type == qq.SegText {
			parts[i] = fmt.Sprintf("%q", s.Get("text"))
		} else {
			parts[i] = s.Type + " " + s.Get("url")
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

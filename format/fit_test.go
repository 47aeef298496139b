package format

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

func marshalLen(t *testing.T, cs []minecraft.Component, s minecraft.Style) int {
	t.Helper()
	b, err := minecraft.Marshal(cs, s)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

func longLine() []minecraft.Component {
	return QQToGame(QQMessage{
		GroupID: 1, GroupName: "群", Sender: qq.Member{UserID: 2, Card: "Alice"},
		Reply:    &Reply{Author: "Bob", Quoted: []qq.Segment{qq.Text(strings.Repeat("引用", 200))}},
		Segments: []qq.Segment{qq.Text(strings.Repeat("中文消息", 150)), seg(qq.SegImage, "url", imageURL)},
	}, Options{ShowGroupName: true})
}

func TestFitLeavesShortLinesAlone(t *testing.T) {
	cs := QQToGame(QQMessage{Sender: qq.Member{UserID: 2, Card: "Alice"}, Segments: []qq.Segment{qq.Text("hi")}}, Options{})
	if got := Fit(cs, minecraft.StyleLegacy, 1000); !reflect.DeepEqual(got, cs) {
		t.Errorf("Fit changed a line that fits: %+v", got)
	}
}

func TestFitTrimsToBudget(t *testing.T) {
	for _, style := range []minecraft.Style{minecraft.StyleLegacy, minecraft.StyleModern} {
		t.Run(style.String(), func(t *testing.T) {
			cs := longLine()
			before, _ := minecraft.Marshal(cs, style)
			if len(before) <= 1000 {
				t.Fatalf("test line is only %d bytes", len(before))
			}
			got := Fit(cs, style, 1000)
			if n := marshalLen(t, got, style); n > 1000 {
				t.Fatalf("fitted line is %d bytes", n)
			}
			if after, _ := minecraft.Marshal(cs, style); string(after) != string(before) {
				t.Error("Fit modified its input")
			}
			text := minecraft.PlainText(got)
			if !utf8.ValidString(text) || !strings.Contains(text, "…") {
				t.Errorf("fitted text %q is not valid UTF-8 or lacks the … mark", text)
			}
			for _, want := range []string{"群 ", "Alice", "(回复 @Bob)", "：", "中文消息", "[图片]"} {
				if !strings.Contains(text, want) {
					t.Errorf("fitted line %q lost %q", text, want)
				}
			}
		})
	}
}

func TestFitDropsHoversAndTailWhenTextIsNotEnough(t *testing.T) {
	var parts []minecraft.Component
	for i := 0; i < 60; i++ {
		parts = append(parts, minecraft.Component{Text: "[图片]", Color: "light_purple", ClickURL: imageURL, Hover: hoverText("点击查看图片")})
	}
	cs := []minecraft.Component{{Extra: parts}}
	got := Fit(cs, minecraft.StyleModern, 300)
	if n := marshalLen(t, got, minecraft.StyleModern); n > 300 || len(got) == 0 {
		t.Fatalf("got %d bytes, %d components", n, len(got))
	}
	if tiny := Fit(cs, minecraft.StyleModern, 1); tiny != nil {
		t.Errorf("Fit to 1 byte = %+v, want nil", tiny)
	}
}

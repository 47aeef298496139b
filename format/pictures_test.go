package format_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/qq"
)

// pictureLines are game chat lines (as the chat template renders them) with
// ChatImage codes and picture links, shared by the unit and golden tests.
var pictureLines = []string{
	"Steve：[[CICode,url=https://i.example.com/cat.png,name=Image]]",
	"Steve：看 https://i.example.com/a/b.PNG 好看吗",
	"Steve：before [[CICode,url=https://i.example.com/x,name=截图,nsfw=false]] middle https://cdn.example.org/p.jpeg?w=200&h=100 after",
	"Steve：[[CICode,url=javascript:alert(1),name=x]] file:///etc/passwd.png",
	"Steve：https://i.example.com/1.gif https://i.example.com/2.webp https://i.example.com/3.jpg https://i.example.com/4.png",
	"Steve：(https://i.example.com/a.png). http://127.0.0.1:3000/a.png http://localhost/a.png https://i.example.com/page.html",
	"Steve：[[CICode,url=https://i.example.com/a,b.png,name=逗号]]",
	"Steve：no pictures here",
}

func describeSegments(segs []qq.Segment) string {
	parts := make([]string, len(segs))
	for i, s := range segs {
		switch s.Type {
		case qq.SegText:
			parts[i] = fmt.Sprintf("text %q", s.Text)
		case qq.SegImage:
			parts[i] = "image " + s.URL
		default:
			parts[i] = fmt.Sprintf("%s %+v", s.Type, s)
		}
	}
	return strings.Join(parts, " | ")
}

func TestChatSegments(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{pictureLines[0], `text "Steve：" | image https://i.example.com/cat.png`},
		{pictureLines[1], `text "Steve：看 " | image https://i.example.com/a/b.PNG | text " 好看吗"`},
		{pictureLines[2], `text "Steve：before " | image https://i.example.com/x | text " middle " | image https://cdn.example.org/p.jpeg?w=200&h=100 | text " after"`},
		// Not http(s): stays text, code and all.
		{pictureLines[3], `text "Steve：[[CICode,url=javascript:alert(1),name=x]] file:///etc/passwd.png"`},
		// Three pictures at most.
		{pictureLines[4], `text "Steve：" | image https://i.example.com/1.gif | text " " | image https://i.example.com/2.webp | text " " | image https://i.example.com/3.jpg | text " https://i.example.com/4.png"`},
		// Punctuation after a link is text; local addresses and non-pictures stay text.
		{pictureLines[5], `text "Steve：(" | image https://i.example.com/a.png | text "). http://127.0.0.1:3000/a.png http://localhost/a.png https://i.example.com/page.html"`},
		{pictureLines[6], `text "Steve：" | image https://i.example.com/a,b.png`},
		{pictureLines[7], `text "Steve：no pictures here"`},
		{"", `text ""`},
		{"[[CICode,name=x]] [[CICode,url=]] https://", `text "[[CICode,name=x]] [[CICode,url=]] https://"`},
		{"HTTPS://I.EXAMPLE.COM/A.JPG", `image HTTPS://I.EXAMPLE.COM/A.JPG`},
		{"http://[::1]/a.png http://10.0.0.2/a.png http://169.254.169.254/a.png", `text "http://[::1]/a.png http://10.0.0.2/a.png http://169.254.169.254/a.png"`},
		// Other spellings of local addresses, as the bot's URL parser reads
		// them (127.1, 2130706433, 0x7f000001 and 017700000001 are 127.0.0.1;
		// 10.1 is 10.0.0.1), and IPv4-mapped IPv6.
		{"http://127.1/a.png http://2130706433/a.png http://0x7f000001/a.png http://017700000001/a.png",
			`text "http://127.1/a.png http://2130706433/a.png http://0x7f000001/a.png http://017700000001/a.png"`},
		{"http://0/a.png http://10.1/a.png http://0.1.2.3/a.png http://[::ffff:127.0.0.1]/a.png http://127.0.0.1./a.png",
			`text "http://0/a.png http://10.1/a.png http://0.1.2.3/a.png http://[::ffff:127.0.0.1]/a.png http://127.0.0.1./a.png"`},
		// Names, and public addresses spelt canonically, pass.
		{"http://8.8.8.8/a.png http://cdn1.example.com/a.png", `image http://8.8.8.8/a.png | text " " | image http://cdn1.example.com/a.png`},
	} {
		if got := describeSegments(format.ChatSegments(tc.line)); got != tc.want {
			t.Errorf("ChatSegments(%q)\n got %s\nwant %s", tc.line, got, tc.want)
		}
	}
}

// TestGoldenChatSegments records the segments of every picture line.
func TestGoldenChatSegments(t *testing.T) {
	var b strings.Builder
	for _, line := range pictureLines {
		fmt.Fprintf(&b, "%s\n  → %s\n", line, describeSegments(format.ChatSegments(line)))
	}
	checkGolden(t, "game_pictures", b.String())
}

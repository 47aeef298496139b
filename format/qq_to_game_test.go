package format

import (
	"strings"
	"testing"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// hoverString flattens a hover to its text.
func hoverString(c minecraft.Component) string { return minecraft.PlainText(c.Hover) }

const imageURL = "https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=EhTQ8bXk2F0a1z3c9Q&spec=0&rkey=CAQSKAB6"

// TestSegmentRendering has one row per row of the README's segment table (and the
// variants users run into), checking what a player sees: text, colour, hover
// and click.
func TestSegmentRendering(t *testing.T) {
	biliCard := `{"app":"com.tencent.miniapp_01","prompt":"[QQ小程序]哔哩哔哩","meta":{"detail_1":{"title":"哔哩哔哩","desc":"【我的世界】红石音乐盒教程","qqdocurl":"https://b23.tv/Nwdv3jB","url":"m.q.qq.com/a/s/5354"}}}`
	xmlCardPayload := `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><msg serviceID="1" brief="[分享]服务器公告" url="https://mc.example.com"><item><title>服务器公告</title><summary>今晚8点维护</summary></item></msg>`
	forwardWithPreview := qq.Segment{Type: qq.SegForward, ID: "f1", Forward: []qq.Message{
		{Sender: qq.Member{UserID: 1, Card: "Alice"}, Segments: []qq.Segment{qq.Text("今晚维护"), {Type: qq.SegImage, URL: imageURL}}},
		{Segments: []qq.Segment{qq.Text("Bob: 收到")}},
	}}

	tests := []struct {
		name  string
		seg   qq.Segment
		opts  Options
		names map[int64]string
		// want* describe the single component the segment renders to.
		wantText, wantColor, wantHover, wantClick string
		wantNothing                               bool
	}{
		{name: "text keeps newlines, drops § codes", seg: qq.Text("hello §aworld\r\nbye & §"),
			wantText: "hello world\nbye & ", wantColor: "white"},
		{name: "empty text shows nothing", seg: qq.Text(""), wantNothing: true},
		{name: "at uses the resolved name", seg: qq.Segment{Type: qq.SegAt, Target: "1357924680", Name: "Bob"},
			names: map[int64]string{1357924680: "鲍勃"}, wantText: "@鲍勃", wantColor: "green"},
		{name: "at falls back to its own name", seg: qq.Segment{Type: qq.SegAt, Target: "1357924680", Name: "Bob"},
			wantText: "@Bob", wantColor: "green"},
		{name: "at falls back to the number", seg: qq.Segment{Type: qq.SegAt, Target: "1357924680"},
			wantText: "@1357924680", wantColor: "green"},
		{name: "at all", seg: qq.Segment{Type: qq.SegAt, Target: qq.MentionAll}, wantText: "@全体成员", wantColor: "green"},
		{name: "face from the table", seg: qq.Segment{Type: qq.SegFace, ID: "14"}, wantText: "[微笑]", wantColor: "yellow"},
		{name: "large face uses the same table", seg: qq.Segment{Type: qq.SegFace, ID: "392"},
			wantText: "[龙年快乐]", wantColor: "yellow"},
		{name: "unknown face", seg: qq.Segment{Type: qq.SegFace, ID: "99999"}, wantText: "[表情]", wantColor: "yellow"},
		{name: "market face shows its summary", seg: qq.Segment{Type: qq.SegMFace, Summary: "[狗头]", URL: "https://gxh.vip.qq.com/raw300.gif"},
			wantText: "[狗头]", wantColor: "light_purple", wantHover: "狗头", wantClick: "https://gxh.vip.qq.com/raw300.gif"},
		{name: "sticker image", seg: qq.Segment{Type: qq.SegImage, Sticker: true, Summary: "[动画表情]", URL: imageURL},
			wantText: "[动画表情]", wantColor: "light_purple", wantHover: "动画表情", wantClick: imageURL},
		{name: "sticker without summary", seg: qq.Segment{Type: qq.SegImage, Sticker: true},
			wantText: "[动画表情]", wantColor: "light_purple", wantHover: "动画表情"},
		{name: "market face sent as image", seg: qq.Segment{Type: qq.SegImage, Sticker: true, Summary: "[狗头]", URL: imageURL},
			wantText: "[狗头]", wantColor: "light_purple", wantHover: "狗头", wantClick: imageURL},
		{name: "image", seg: qq.Segment{Type: qq.SegImage, Summary: "", URL: imageURL},
			wantText: "[图片]", wantColor: "light_purple", wantHover: "点击查看图片", wantClick: imageURL},
		{name: "picture with a summary", seg: qq.Segment{Type: qq.SegImage, Summary: "[图片]", URL: imageURL},
			wantText: "[图片]", wantColor: "light_purple", wantHover: "点击查看图片", wantClick: imageURL},
		{name: "image as ChatImage code", seg: qq.Segment{Type: qq.SegImage, URL: imageURL}, opts: Options{ChatImage: true},
			wantText: "[[CICode,url=" + imageURL + ",name=图片]]", wantColor: "light_purple"},
		{name: "image without a usable URL is not clickable", seg: qq.Segment{Type: qq.SegImage, URL: "file:///C:/a.png"},
			wantText: "[图片]", wantColor: "light_purple"},
		{name: "image URL without a scheme stays plain text", seg: qq.Segment{Type: qq.SegImage, URL: "multimedia.nt.qq.com.cn/download?appid=1407"},
			wantText: "[图片]", wantColor: "light_purple"},
		{name: "image URL with characters the game refuses is escaped", seg: qq.Segment{Type: qq.SegImage, URL: "https://e.x/my pic{1}.png?a=|&b=100%"},
			wantText: "[图片]", wantColor: "light_purple", wantHover: "点击查看图片", wantClick: "https://e.x/my%20pic%7B1%7D.png?a=%7C&b=100%25"},
		{name: "voice", seg: qq.Segment{Type: qq.SegRecord, URL: "https://grouptalk.c2c.qq.com/?ver=2"}, wantText: "[语音]", wantColor: "gold"},
		{name: "video", seg: qq.Segment{Type: qq.SegVideo, URL: "https://multimedia.nt.qq.com.cn/v"},
			wantText: "[视频]", wantColor: "gold", wantHover: "点击查看视频", wantClick: "https://multimedia.nt.qq.com.cn/v"},
		{name: "file by name", seg: qq.Segment{Type: qq.SegFile, Name: "modpack-1.20.1.zip"},
			wantText: "[文件:modpack-1.20.1.zip]", wantColor: "gold"},
		{name: "file, downloadable", seg: qq.Segment{Type: qq.SegFile, Name: "world.zip", URL: "https://njc-download.ftn.qq.com/x"},
			wantText: "[文件:world.zip]", wantColor: "gold", wantHover: "点击下载文件", wantClick: "https://njc-download.ftn.qq.com/x"},
		{name: "file without a name", seg: qq.Segment{Type: qq.SegFile},
			wantText: "[文件]", wantColor: "gold"},
		{name: "reply marker shows nothing", seg: qq.Segment{Type: qq.SegReply, ID: "1402815937"}, wantNothing: true},
		{name: "forward without content", seg: qq.Segment{Type: qq.SegForward, ID: "7454101238470911234"},
			wantText: "[聊天记录]", wantColor: "gold", wantHover: "聊天记录"},
		{name: "forward with preview", seg: forwardWithPreview,
			wantText: "[聊天记录]", wantColor: "gold", wantHover: "Alice: 今晚维护[图片]\nBob: 收到"},
		{name: "json card", seg: qq.Segment{Type: qq.SegJSON, Payload: biliCard},
			wantText: "[卡片:哔哩哔哩]", wantColor: "gold", wantHover: "【我的世界】红石音乐盒教程\n点击打开链接", wantClick: "https://b23.tv/Nwdv3jB"},
		{name: "json card with bad JSON", seg: qq.Segment{Type: qq.SegJSON, Payload: "{not json"}, wantText: "[卡片]", wantColor: "gold"},
		{name: "json card naming nothing", seg: qq.Segment{Type: qq.SegJSON, Payload: `{"app":"x"}`}, wantText: "[卡片消息]", wantColor: "gold"},
		{name: "xml card", seg: qq.Segment{Type: qq.SegXML, Payload: xmlCardPayload},
			wantText: "[卡片:服务器公告]", wantColor: "gold", wantHover: "今晚8点维护\n点击打开链接", wantClick: "https://mc.example.com"},
		{name: "xml card with bad XML", seg: qq.Segment{Type: qq.SegXML, Payload: "<msg brief='x'"}, wantText: "[卡片]", wantColor: "gold"},
		{name: "dice", seg: qq.Segment{Type: qq.SegDice, Result: "4"}, wantText: "[骰子:4]", wantColor: "yellow"},
		{name: "rps", seg: qq.Segment{Type: qq.SegRPS, Result: "2"}, wantText: "[猜拳]", wantColor: "yellow"},
		{name: "poke", seg: qq.Segment{Type: qq.SegPoke}, wantText: "[戳一戳]", wantColor: "yellow"},
		{name: "shake", seg: qq.Segment{Type: qq.SegShake}, wantText: "[窗口抖动]", wantColor: "yellow"},
		{name: "markdown", seg: qq.Segment{Type: qq.SegMarkdown, Text: "# 公告\n**重启** 见[这里](https://x.y) `now`"},
			wantText: "公告\n重启 见这里 now", wantColor: "white"},
		{name: "unknown type", seg: qq.Segment{Type: "onlinefile"}, wantText: "[onlinefile]", wantColor: "gray"},
		{name: "type missing", seg: qq.Segment{Type: ""}, wantText: "[未知消息]", wantColor: "gray"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SegmentsToGame([]qq.Segment{tt.seg}, tt.names, tt.opts)
			if tt.wantNothing {
				if len(got) != 0 {
					t.Fatalf("got %+v, want nothing", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d components %+v, want 1", len(got), got)
			}
			c := got[0]
			if c.Text != tt.wantText || c.Color != tt.wantColor {
				t.Errorf("text, colour = %q, %q; want %q, %q", c.Text, c.Color, tt.wantText, tt.wantColor)
			}
			if h := hoverString(c); h != tt.wantHover {
				t.Errorf("hover = %q, want %q", h, tt.wantHover)
			}
			if c.ClickURL != tt.wantClick {
				t.Errorf("click = %q, want %q", c.ClickURL, tt.wantClick)
			}
		})
	}
}

func TestForwardPreviewIsCapped(t *testing.T) {
	var msgs []qq.Message
	for i := 0; i < 8; i++ {
		msgs = append(msgs, qq.Message{Segments: []qq.Segment{qq.Text(strings.Repeat("长", 100))}})
	}
	got := SegmentsToGame([]qq.Segment{{Type: qq.SegForward, Forward: msgs}}, nil, Options{})
	lines := strings.Split(hoverString(got[0]), "\n")
	if len(lines) != maxPreviewLines+1 || lines[maxPreviewLines] != "…共8条" {
		t.Fatalf("hover lines = %q, want %d previews and a count", lines, maxPreviewLines)
	}
	if n := len([]rune(lines[0])); n != maxPreviewRunes || !strings.HasSuffix(lines[0], "…") {
		t.Errorf("first line has %d characters (%q), want it cut to %d with …", n, lines[0], maxPreviewRunes)
	}
}

// line is the visible part of a QQToGame result: the root's children. The
// root itself holds only the space that keeps the plugin's prefix apart.
func line(t *testing.T, cs []minecraft.Component) []minecraft.Component {
	t.Helper()
	if len(cs) != 1 {
		t.Fatalf("QQToGame returned %d top-level components, want one root", len(cs))
	}
	root := cs[0]
	if root.Text != " " || root.Color != "" || root.Hover != nil || root.ClickURL != "" {
		t.Fatalf("root carries style %+v; its children would inherit it", root)
	}
	return root.Extra
}

func TestSenderLine(t *testing.T) {
	m := QQMessage{
		GroupID:   712345678,
		GroupName: "我的世界交流群",
		Sender:    qq.Member{UserID: 1019283746, Nickname: "alice", Card: "Alice"},
		Segments:  []qq.Segment{{Type: qq.SegAt, Target: "1357924680"}, qq.Text(" 开服了吗")},
		Names:     map[int64]string{1357924680: "Bob"},
	}

	got := line(t, QQToGame(m, Options{}))
	if text := minecraft.PlainText(got); text != "Alice：@Bob 开服了吗" {
		t.Errorf("line = %q", text)
	}
	sender := got[0]
	if sender.Color != "green" || hoverString(sender) != "QQ: 1019283746\n群: 我的世界交流群" {
		t.Errorf("sender = %+v, hover %q", sender, hoverString(sender))
	}
	if sep := got[1]; sep.Text != "：" || sep.Color != "white" {
		t.Errorf("separator = %+v", sep)
	}

	withGroup := line(t, QQToGame(m, Options{ShowGroupName: true}))
	if g := withGroup[0]; g.Text != "我的世界交流群 " || g.Color != "aqua" {
		t.Errorf("group name = %+v", g)
	}

	m.Players = []string{"Steve", "Alex"}
	if h := hoverString(line(t, QQToGame(m, Options{}))[0]); h != "QQ: 1019283746\n群: 我的世界交流群\n玩家: Steve, Alex" {
		t.Errorf("hover of a member with bound players %q", h)
	}
	m.Players = nil

	m.GroupName, m.Sender.Card = "", ""
	bare := line(t, QQToGame(m, Options{ShowGroupName: true}))
	if bare[0].Text != "712345678 " || bare[1].Text != "alice" || hoverString(bare[1]) != "QQ: 1019283746\n群: 712345678" {
		t.Errorf("without names: group %q, sender %q, hover %q", bare[0].Text, bare[1].Text, hoverString(bare[1]))
	}
}

func TestReplyOnSenderLine(t *testing.T) {
	base := QQMessage{
		GroupID:  1,
		Sender:   qq.Member{UserID: 2, Card: "Alice"},
		Segments: []qq.Segment{{Type: qq.SegReply, ID: "9"}, qq.Text("开的")},
	}

	t.Run("quoted message in the hover", func(t *testing.T) {
		m := base
		m.Reply = &Reply{Author: "Bob", Quoted: []qq.Segment{qq.Text("今晚开服吗"), {Type: qq.SegImage, URL: imageURL}}}
		got := line(t, QQToGame(m, Options{}))
		if text := minecraft.PlainText(got); text != "Alice(回复 @Bob)：开的" {
			t.Fatalf("line = %q", text)
		}
		r := got[1]
		if r.Color != "gray" || hoverString(r) != "回复内容：今晚开服吗[图片]" {
			t.Errorf("reply = %+v, hover %q", r, hoverString(r))
		}
		for _, h := range r.Hover {
			if h.ClickURL != "" || h.Hover != nil {
				t.Errorf("hover part %+v keeps events the game ignores there", h)
			}
		}
	})
	t.Run("quoted message unavailable", func(t *testing.T) {
		m := base
		m.Reply = &Reply{Author: "Bob"}
		r := line(t, QQToGame(m, Options{}))[1]
		if hoverString(r) != "回复内容：(原消息不可用)" {
			t.Errorf("hover = %q", hoverString(r))
		}
	})
	t.Run("Milky reply carrying the quote inline", func(t *testing.T) {
		m := base
		m.Segments = []qq.Segment{{Type: qq.SegReply, ID: "48190",
			Quoted: &qq.Message{Sender: qq.Member{UserID: 1357924680}, Segments: []qq.Segment{qq.Text("服务器什么时候维护？")}}}}
		got := line(t, QQToGame(m, Options{}))
		if r := got[1]; r.Text != "(回复 @1357924680)" || hoverString(r) != "回复内容：服务器什么时候维护？" {
			t.Errorf("reply = %q, hover %q", r.Text, hoverString(r))
		}
	})
	t.Run("not a reply", func(t *testing.T) {
		got := line(t, QQToGame(QQMessage{Sender: qq.Member{UserID: 2}, Segments: []qq.Segment{qq.Text("hi")}}, Options{}))
		if text := minecraft.PlainText(got); text != "2：hi" {
			t.Errorf("line = %q", text)
		}
	})
}

// TestLineEncodesInBothStyles checks the wire spelling of one full line.
func TestLineEncodesInBothStyles(t *testing.T) {
	m := QQMessage{GroupID: 1, Sender: qq.Member{UserID: 2, Card: "Alice"},
		Segments: []qq.Segment{{Type: qq.SegImage, URL: imageURL}}}
	cs := QQToGame(m, Options{})
	legacy, err := minecraft.Marshal(cs, minecraft.StyleLegacy)
	if err != nil {
		t.Fatal(err)
	}
	modern, err := minecraft.Marshal(cs, minecraft.StyleModern)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"hoverEvent":{"action":"show_text","contents":`, `"clickEvent":{"action":"open_url","value":"https://`} {
		if !strings.Contains(string(legacy), want) {
			t.Errorf("legacy %s lacks %s", legacy, want)
		}
	}
	for _, want := range []string{`"hover_event":{"action":"show_text","value":`, `"click_event":{"action":"open_url","url":"https://`} {
		if !strings.Contains(string(modern), want) {
			t.Errorf("modern %s lacks %s", modern, want)
		}
	}
}

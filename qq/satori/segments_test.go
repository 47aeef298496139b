package satori

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// conventional leaves out what the two protocols legitimately carry
// differently: a reply's id (Satori qualifies it with the channel) and its
// inline quoted message, and the inline messages of a forward.
func conventional(segs []qq.Segment) []qq.Segment {
	out := make([]qq.Segment, 0, len(segs))
	for _, s := range segs {
		s.Quoted, s.Forward = nil, nil
		if s.Type == qq.SegReply {
			s.ID = ""
		}
		out = append(out, s)
	}
	return out
}

// The same QQ message, as LLBot's and Koishi's Satori servers write it,
// decodes into the segments LLBot's OneBot side gives for it, and renders
// the same in game.
func TestSegmentsMatchOneBot(t *testing.T) {
	var doc struct {
		Cases []struct {
			Name   string          `json:"name"`
			LLBot  string          `json:"llbot"`
			Koishi string          `json:"koishi"`
			OneBot json.RawMessage `json:"onebot"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(readFixture(t, "element_equivalents.json"), &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Cases {
		want, err := onebot.DecodeSegments(c.OneBot)
		if err != nil {
			t.Fatalf("%s: OneBot segments: %v", c.Name, err)
		}
		for server, content := range map[string]string{"llbot": c.LLBot, "koishi": c.Koishi} {
			if content == "" {
				continue
			}
			t.Run(c.Name+"/"+server, func(t *testing.T) {
				got := Segments(content, "712345678")
				if !reflect.DeepEqual(conventional(got), conventional(want)) {
					t.Errorf("segments\n got  %v\n want %v (OneBot)", conventional(got), conventional(want))
				}
				gotGame, _ := json.Marshal(format.SegmentsToGame(got, nil, format.Options{}))
				wantGame, _ := json.Marshal(format.SegmentsToGame(want, nil, format.Options{}))
				if string(gotGame) != string(wantGame) {
					t.Errorf("in game\n got  %s\n want %s", gotGame, wantGame)
				}
			})
		}
	}
}

// A quote carries the quoted message: LLBot puts only its content inside,
// Koishi adds <user>, <member> and <channel>, which name the author and are
// not content. The ids get the channel, for message.get.
func TestQuoteCarriesTheQuotedMessage(t *testing.T) {
	llbot := Segments(`<quote id="2|712345678|48210"><at id="1019283746" name="Alice"/> 几点维护？</quote>八点`, "712345678")
	koishi := Segments(`<quote id="-904512377"><user id="1357924680" name="Bob" avatar="x"/><member nick="Bob_MC"/><channel id="712345678" type="0"/>几点维护？</quote>八点`, "712345678")

	if len(llbot) != 2 || llbot[0].Type != qq.SegReply || llbot[0].ID != "712345678/2|712345678|48210" {
		t.Fatalf("LLBot quote: %+v", llbot)
	}
	q := llbot[0].Quoted
	if q == nil || q.ID != "712345678/2|712345678|48210" || !reflect.DeepEqual(q.Segments,
		[]qq.Segment{{Type: qq.SegAt, Target: "1019283746", Name: "Alice"}, qq.Text(" 几点维护？")}) {
		t.Errorf("LLBot quoted message %+v", q)
	}
	if !reflect.DeepEqual(llbot[1], qq.Text("八点")) {
		t.Errorf("after the quote: %+v", llbot[1])
	}

	q = koishi[0].Quoted
	if q == nil || q.Sender != (qq.Member{UserID: 1357924680, Nickname: "Bob", Card: "Bob_MC"}) ||
		!reflect.DeepEqual(q.Segments, []qq.Segment{qq.Text("几点维护？")}) {
		t.Errorf("Koishi quoted message %+v", q)
	}

	// Without content the relay fetches the message by id.
	bare := Segments(`<quote id="9"/>x`, "private:1019283746")
	if bare[0].Quoted != nil || bare[0].ID != "private:1019283746/9" {
		t.Errorf("bare quote %+v", bare[0])
	}
}

func TestSegmentsOfOtherElements(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []qq.Segment
	}{
		{"LLBot's dice and rock-paper-scissors faces", `<face id="358" type="3" platform="llonebot"/><face id="359" type="3"/>`,
			[]qq.Segment{{Type: qq.SegDice}, {Type: qq.SegRPS}}},
		{"styling keeps the text", `a<b>b</b><spl>c</spl><a href="https://x">d</a>`, []qq.Segment{qq.Text("abcd")}},
		{"a link without text shows its address", `see <a href="https://example.com"/>`, []qq.Segment{qq.Text("see https://example.com")}},
		{"unknown element keeps its text children", `<llonebot:thing k="v">inner</llonebot:thing>`, []qq.Segment{qq.Text("inner")}},
		{"unknown empty element shows as its type", `<button id="1"/>`, []qq.Segment{{Type: "button"}}},
		{"line breaks", `<p>one</p><p>two</p>three<br/>four`, []qq.Segment{qq.Text("one\ntwo\nthree\nfour")}},
		{"at without id keeps the name", `<at role="admin" name="管理员"/>`, []qq.Segment{qq.Text("@管理员")}},
		{"at here is everyone", `<at type="here"/>`, []qq.Segment{{Type: qq.SegAt, Target: qq.MentionAll}}},
		{"emoji is a face", `<emoji id="14" name="微笑"/>`, []qq.Segment{{Type: qq.SegFace, ID: "14"}}},
		{"Koishi passes a later reply on as an element", `x<reply id="5"/>`, []qq.Segment{qq.Text("x"), {Type: qq.SegReply, ID: "712345678/5"}}},
		{"meta elements are not content", `<author id="1" name="A"/>hi`, []qq.Segment{qq.Text("hi")}},
		{"a sticker by its sub type", `<img src="https://x/a.gif" sub-type="1"/>`, []qq.Segment{{Type: qq.SegImage, URL: "https://x/a.gif", Sticker: true}}},
		{"a sticker by its summary", `<img src="https://x/a.gif" summary="[狗头]"/>`,
			[]qq.Segment{{Type: qq.SegImage, URL: "https://x/a.gif", Summary: "[狗头]", Sticker: true}}},
		{"a picture with the plain summary", `<img src="https://x/a.png" summary="[图片]"/>`,
			[]qq.Segment{{Type: qq.SegImage, URL: "https://x/a.png", Summary: "[图片]"}}},
		{"a file named by its title", `<file src="https://x/f" title="world.zip"/>`, []qq.Segment{{Type: qq.SegFile, URL: "https://x/f", Name: "world.zip"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Segments(c.in, "712345678"); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Segments(%q)\n got  %+v\n want %+v", c.in, got, c.want)
			}
		})
	}
}

// A forwarded chat record lists its messages with their authors.
func TestForwardedMessages(t *testing.T) {
	got := Segments(`<message forward><message><author id="1019283746" name="Alice"/>今晚维护</message><message><author id="1357924680" name="Bob"/><img src="https://x/a.png"/></message></message>`, "712345678")
	if len(got) != 1 || got[0].Type != qq.SegForward || len(got[0].Forward) != 2 {
		t.Fatalf("%+v", got)
	}
	first := got[0].Forward[0]
	if first.Sender.Nickname != "Alice" || first.Sender.UserID != 1019283746 || first.PlainText() != "今晚维护" {
		t.Errorf("first forwarded message %+v", first)
	}
	if s := got[0].Forward[1].Segments; len(s) != 1 || s[0].Type != qq.SegImage || s[0].URL != "https://x/a.png" {
		t.Errorf("second forwarded message %+v", s)
	}
}

// What the bridge sends decodes back to itself; text that looks like markup
// stays text.
func TestContentRoundTrips(t *testing.T) {
	segs := []qq.Segment{
		{Type: qq.SegReply, ID: "712345678/2|712345678|48213"},
		{Type: qq.SegAt, Target: "1357924680"},
		qq.Text(` <at id="1"/> & "q" <b>x</b>`),
		{Type: qq.SegAt, Target: qq.MentionAll},
		{Type: qq.SegFace, ID: "14"},
		{Type: qq.SegImage, URL: "https://example.com/a.png?x=1&y=2"},
		{Type: qq.SegRecord, URL: "https://example.com/a.amr"},
		{Type: qq.SegVideo, URL: "https://example.com/a.mp4"},
	}
	content, err := Content(segs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(content, `<quote id="2|712345678|48213"/><at id="1357924680"/> &lt;at id="1"/&gt; &amp; "q"`) {
		t.Errorf("content %s", content)
	}
	back := Segments(content, "712345678")
	if !reflect.DeepEqual(back, segs) {
		t.Errorf("round trip\n got  %+v\n want %+v", back, segs)
	}

	for _, bad := range []qq.Segment{{Type: qq.SegAt, Target: "x"}, {Type: qq.SegJSON, Payload: "{}"}, {Type: qq.SegImage}, {Type: qq.SegReply}} {
		if _, err := Content([]qq.Segment{bad}); err == nil || !strings.Contains(err.Error(), bad.Type) {
			t.Errorf("Content(%+v): %v, want an error naming the type", bad, err)
		}
	}
}

package minecraft

import (
	"encoding/json"
	"testing"

	"github.com/mcqq/bridge/internal/safetext"
)

// The reference: the components as encoding/json encodes the struct the
// bridge used to marshal. Marshal must give exactly its bytes.
type node struct {
	Text          string `json:"text"`
	Color         string `json:"color,omitempty"`
	Bold          bool   `json:"bold,omitempty"`
	Italic        bool   `json:"italic,omitempty"`
	Underlined    bool   `json:"underlined,omitempty"`
	Strikethrough bool   `json:"strikethrough,omitempty"`
	ClickLegacy   any    `json:"clickEvent,omitempty"`
	HoverLegacy   any    `json:"hoverEvent,omitempty"`
	ClickModern   any    `json:"click_event,omitempty"`
	HoverModern   any    `json:"hover_event,omitempty"`
	Extra         []node `json:"extra,omitempty"`
}

func (c Component) tree(s Style) node {
	n := node{Text: safetext.Clean(c.Text), Color: c.Color, Bold: c.Bold, Italic: c.Italic,
		Underlined: c.Underlined, Strikethrough: c.Strikethrough}
	for _, e := range c.Extra {
		n.Extra = append(n.Extra, e.tree(s))
	}
	var hover any
	switch len(c.Hover) {
	case 0:
	case 1:
		hover = c.Hover[0].tree(s)
	default:
		hover = Component{Extra: c.Hover}.tree(s)
	}
	urlKey, commandKey, hoverKey := "value", "value", "contents"
	if s == StyleModern {
		urlKey, commandKey, hoverKey = "url", "command", "value"
	}
	var click, hoverEvent any
	switch {
	case c.ClickURL != "":
		click = map[string]string{"action": "open_url", urlKey: safetext.Clean(c.ClickURL)}
	case c.ClickSuggest != "":
		click = map[string]string{"action": "suggest_command", commandKey: safetext.Clean(c.ClickSuggest)}
	}
	if hover != nil {
		hoverEvent = map[string]any{"action": "show_text", hoverKey: hover}
	}
	if s == StyleModern {
		n.ClickModern, n.HoverModern = click, hoverEvent
	} else {
		n.ClickLegacy, n.HoverLegacy = click, hoverEvent
	}
	return n
}

func referenceMarshal(cs []Component, s Style) []byte {
	out := make([]any, len(cs))
	for i, c := range cs {
		out[i] = c.tree(s)
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	return b
}

// componentsFrom builds a small component tree from fuzz input: each
// string becomes a field, the flags come from the bytes.
func componentsFrom(text, link, color string, flags byte) []Component {
	c := Component{Text: text, Color: color, Bold: flags&1 != 0, Italic: flags&2 != 0,
		Underlined: flags&4 != 0, Strikethrough: flags&8 != 0}
	switch {
	case flags&16 != 0:
		c.ClickURL = link
	case flags&32 != 0:
		c.ClickSuggest = link
	}
	if flags&64 != 0 {
		c.Hover = []Component{{Text: link}}
	}
	if flags&128 != 0 {
		c.Hover = []Component{{Text: text, Color: "gray"}, {Text: link}}
		c.Extra = []Component{{Text: link, Color: color}, {Text: text, Extra: []Component{{Text: "x"}}}}
	}
	return []Component{{Text: " ", Extra: []Component{c, {Text: text}}}}
}

// Marshal writes exactly what encoding/json writes, escaping included.
func FuzzMarshalMatchesEncodingJSON(f *testing.F) {
	f.Add("hello <b> & \"q\" \\", "https://example.com/?a=1&b=2", "green", byte(0xff))
	f.Add("\x00\x1b[31m\u2028\u2029\u202e\t\n\r\b\f", "javascript:alert(1)", "#A1B2C3", byte(0x55))
	f.Add("\xff\xfe invalid utf8 日本語", "", "", byte(0))
	f.Fuzz(func(t *testing.T, text, link, color string, flags byte) {
		cs := componentsFrom(text, link, color, flags)
		for _, s := range []Style{StyleLegacy, StyleModern} {
			got, err := Marshal(cs, s)
			if err != nil {
				t.Fatal(err)
			}
			if want := referenceMarshal(cs, s); string(got) != string(want) {
				t.Fatalf("style %v:\n got %s\nwant %s", s, got, want)
			}
		}
	})
}

func BenchmarkMarshal(b *testing.B) {
	cs := componentsFrom("今晚8点服务器维护，请提前下线 & 保存", "https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=abc", "green", 0xff)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(cs, StyleModern); err != nil {
			b.Fatal(err)
		}
	}
}

package minecraft

import "testing"

// Each style spells click and hover events its own way; a server given the
// other spelling shows the text but drops the link or tooltip.
func TestMarshalSpellsEventsPerStyle(t *testing.T) {
	cases := []struct {
		name           string
		c              Component
		legacy, modern string
	}{
		{"plain text has no events",
			Component{Text: "hi", Color: "aqua", Bold: true},
			`[{"text":"hi","color":"aqua","bold":true}]`,
			`[{"text":"hi","color":"aqua","bold":true}]`},
		{"link with a tooltip",
			Component{Text: "[图片]", ClickURL: "https://example.com/a.png", Hover: []Component{{Text: "点击查看"}}},
			`[{"text":"[图片]","clickEvent":{"action":"open_url","value":"https://example.com/a.png"},"hoverEvent":{"action":"show_text","contents":{"text":"点击查看"}}}]`,
			`[{"text":"[图片]","click_event":{"action":"open_url","url":"https://example.com/a.png"},"hover_event":{"action":"show_text","value":{"text":"点击查看"}}}]`},
		{"suggested command",
			Component{Text: "Steve", ClickSuggest: "/msg Steve "},
			`[{"text":"Steve","clickEvent":{"action":"suggest_command","value":"/msg Steve "}}]`,
			`[{"text":"Steve","click_event":{"action":"suggest_command","command":"/msg Steve "}}]`},
		{"a link wins over a suggestion; a tooltip of several parts is wrapped",
			Component{Text: "x", ClickURL: "https://e.x", ClickSuggest: "/y",
				Hover: []Component{{Text: "a"}, {Text: "b", Italic: true}}},
			`[{"text":"x","clickEvent":{"action":"open_url","value":"https://e.x"},"hoverEvent":{"action":"show_text","contents":{"text":"","extra":[{"text":"a"},{"text":"b","italic":true}]}}}]`,
			`[{"text":"x","click_event":{"action":"open_url","url":"https://e.x"},"hover_event":{"action":"show_text","value":{"text":"","extra":[{"text":"a"},{"text":"b","italic":true}]}}}]`},
		{"events inside extra",
			Component{Text: "<Alex> ", Extra: []Component{{Text: "link", ClickURL: "https://e.x", Underlined: true}}},
			`[{"text":"\u003cAlex\u003e ","extra":[{"text":"link","underlined":true,"clickEvent":{"action":"open_url","value":"https://e.x"}}]}]`,
			`[{"text":"\u003cAlex\u003e ","extra":[{"text":"link","underlined":true,"click_event":{"action":"open_url","url":"https://e.x"}}]}]`},
	}
	for _, tc := range cases {
		for style, want := range map[Style]string{StyleLegacy: tc.legacy, StyleModern: tc.modern} {
			got, err := Marshal([]Component{tc.c}, style)
			if err != nil || string(got) != want {
				t.Errorf("%s, %v style:\n got %s, %v\nwant %s", tc.name, style, got, err, want)
			}
		}
	}
}

package minecraft

import (
	"strings"
	"testing"
)

func TestValidateAcceptsWhatMarshalBuilds(t *testing.T) {
	line := []Component{{Extra: []Component{
		{Text: "Alice", Color: "green", Hover: []Component{{Text: "QQ: 1"}}},
		{Text: "[图片]", Color: "light_purple", ClickURL: "https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=x%2Fy&rkey=z",
			Hover: []Component{{Text: "点击查看图片"}, {Text: "!", Italic: true}}},
		{Text: "Steve", ClickSuggest: "/msg Steve ", Bold: true, Underlined: true, Strikethrough: true},
		{Text: "#", Color: "#FFaa00"},
		{Text: "", Extra: []Component{{Text: "nested", Hover: []Component{{Text: "h", Extra: []Component{{Text: "i"}}}}}}},
		{Text: "[链接]", ClickURL: "http://[::1]:8080/a?b=c#frag"},
	}}}
	for _, style := range []Style{StyleLegacy, StyleModern} {
		if err := Validate(line, style); err != nil {
			t.Errorf("%s: %v", style, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		style      Style
		want       string // in the error
	}{
		{"empty list", `[]`, StyleModern, "empty component list"},
		{"empty extra", `[{"text":"a","extra":[]}]`, StyleLegacy, "[0].extra: want a non-empty list"},
		{"no text", `{"color":"red"}`, StyleLegacy, "text: required string"},
		{"text as number", `{"text":1}`, StyleLegacy, "text: required string"},
		{"unknown colour", `{"text":"a","color":"purple"}`, StyleLegacy, `color: "purple" is not a colour`},
		{"short hex colour", `{"text":"a","color":"#12345"}`, StyleModern, "not a colour"},
		{"flag as string", `{"text":"a","bold":"true"}`, StyleModern, "bold: want true or false"},
		{"shadow_color is not built", `{"text":"a","shadow_color":[1,0,0]}`, StyleModern, "shadow_color: unknown field"},
		{"legacy events on 1.21.5+", `{"text":"a","clickEvent":{"action":"open_url","value":"https://e.x"}}`, StyleModern, "clickEvent: unknown field"},
		{"modern events before 1.21.5", `{"text":"a","hover_event":{"action":"show_text","value":"h"}}`, StyleLegacy, "hover_event: unknown field"},
		{"link without scheme", `{"text":"a","click_event":{"action":"open_url","url":"example.com/a.png"}}`, StyleModern, "click_event.url: \"example.com/a.png\" is not an absolute http(s) URL"},
		{"javascript link", `{"text":"a","clickEvent":{"action":"open_url","value":"javascript:alert(1)"}}`, StyleLegacy, "not an absolute http(s) URL"},
		{"link with a space", `{"text":"a","click_event":{"action":"open_url","url":"https://e.x/a b.png"}}`, StyleModern, "not an absolute http(s) URL"},
		{"legacy value name on 1.21.5+", `{"text":"a","click_event":{"action":"open_url","value":"https://e.x"}}`, StyleModern, "click_event.value: unknown field"},
		{"modern url name before 1.21.5", `{"text":"a","clickEvent":{"action":"open_url","url":"https://e.x"}}`, StyleLegacy, "clickEvent.url: unknown field"},
		{"suggest with value on 1.21.5+", `{"text":"a","click_event":{"action":"suggest_command","value":"/x"}}`, StyleModern, "click_event.value: unknown field"},
		{"unknown click action", `{"text":"a","click_event":{"action":"open_file","path":"/etc"}}`, StyleModern, "click_event.action"},
		{"hover contents on 1.21.5+", `{"text":"a","hover_event":{"action":"show_text","contents":"h"}}`, StyleModern, "hover_event.contents: unknown field"},
		{"hover value before 1.21.5", `{"text":"a","hoverEvent":{"action":"show_text","value":"h"}}`, StyleLegacy, "hoverEvent.value: unknown field"},
		{"hover without text", `{"text":"a","hover_event":{"action":"show_text"}}`, StyleModern, "hover_event.value: required"},
		{"bad component inside a hover", `{"text":"a","hover_event":{"action":"show_text","value":{"text":"h","extra":[]}}}`, StyleModern, "hover_event.value.extra"},
		{"show_item is not built", `{"text":"a","hoverEvent":{"action":"show_item","contents":{"id":"stone"}}}`, StyleLegacy, "hoverEvent.action"},
		{"translatable is not built", `{"translate":"chat.type.text"}`, StyleLegacy, "text: required string"},
		{"not JSON", `{"text":`, StyleLegacy, "not JSON"},
		{"number", `1`, StyleLegacy, "a component is a string, a list or an object"},
	} {
		err := ValidateJSON([]byte(tc.json), tc.style)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ValidateJSON(%s, %s) = %v, want an error with %q", tc.name, tc.json, tc.style, err, tc.want)
		}
	}
}

func TestValidURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://example.com", true},
		{"http://example.com/a.png?x=1&y=%2F#top", true},
		{"https://例子.中国/图片.png", true},
		{"https://user:pw@example.com:8443/", true},
		{"http://[2001:db8::1]/", true},
		{"example.com/a.png", false},
		{"//example.com/a.png", false},
		{"ftp://example.com/a", false},
		{"https://", false},
		{"https:example.com", false},
		{"https://e.x/a b", false},
		{" https://e.x", false},
		{"https://e.x/{id}", false},
		{"https://e.x/a|b", false},
		{"https://e.x/100%", false},
		{"https://e.x/%zz", false},
		{"https://e.x/a[1]", false},
		{"https://e.x/#a#b", false},
		{"https://e.x/\x00", false},
	} {
		if got := ValidURL(tc.url); got != tc.want {
			t.Errorf("ValidURL(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestValidColor(t *testing.T) {
	for c, want := range map[string]bool{"white": true, "light_purple": true, "#00ff7F": true,
		"": false, "White": false, "reset": false, "#00ff7": false, "#00ff7g": false, "00ff7f": false} {
		if ValidColor(c) != want {
			t.Errorf("ValidColor(%q) = %v", c, !want)
		}
	}
}

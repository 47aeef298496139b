package minecraft

import (
	"unicode/utf8"

	"github.com/mcqq/bridge/internal/safetext"
)

// Marshal encodes components as one JSON array in the given style. It writes
// the JSON directly (it runs for every message sent to the game): the same
// bytes encoding/json would give for the components' fields in this order,
// with the same escaping. Every string is cleaned of control characters
// here, whatever produced it, so none reaches the game.
func Marshal(cs []Component, s Style) ([]byte, error) {
	b := make([]byte, 0, 256)
	b = append(b, '[')
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = c.appendJSON(b, s)
	}
	return append(b, ']'), nil
}

// appendJSON writes one component. The styles differ only in the event
// field names and the keys inside them.
func (c Component) appendJSON(b []byte, s Style) []byte {
	b = append(b, `{"text":`...)
	b = appendString(b, safetext.Clean(c.Text))
	if c.Color != "" {
		b = append(b, `,"color":`...)
		b = appendString(b, c.Color)
	}
	if c.Bold {
		b = append(b, `,"bold":true`...)
	}
	if c.Italic {
		b = append(b, `,"italic":true`...)
	}
	if c.Underlined {
		b = append(b, `,"underlined":true`...)
	}
	if c.Strikethrough {
		b = append(b, `,"strikethrough":true`...)
	}
	clickField, urlKey, commandKey := `,"clickEvent":{"action":`, `,"value":`, `,"value":`
	hoverField := `,"hoverEvent":{"action":"show_text","contents":`
	if s == StyleModern {
		clickField, urlKey, commandKey = `,"click_event":{"action":`, `,"url":`, `,"command":`
		hoverField = `,"hover_event":{"action":"show_text","value":`
	}
	switch {
	case c.ClickURL != "":
		b = append(b, clickField...)
		b = append(b, `"open_url"`...)
		b = append(b, urlKey...)
		b = appendString(b, safetext.Clean(c.ClickURL))
		b = append(b, '}')
	case c.ClickSuggest != "":
		b = append(b, clickField...)
		b = append(b, `"suggest_command"`...)
		b = append(b, commandKey...)
		b = appendString(b, safetext.Clean(c.ClickSuggest))
		b = append(b, '}')
	}
	switch len(c.Hover) {
	case 0:
	case 1:
		b = append(b, hoverField...)
		b = c.Hover[0].appendJSON(b, s)
		b = append(b, '}')
	default:
		b = append(b, hoverField...)
		b = Component{Extra: c.Hover}.appendJSON(b, s)
		b = append(b, '}')
	}
	if len(c.Extra) > 0 {
		b = append(b, `,"extra":[`...)
		for i, e := range c.Extra {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.appendJSON(b, s)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

const hex = "0123456789abcdef"

// appendString writes s as a JSON string escaped as encoding/json does:
// quotes, backslashes and control characters, and <, > and & as \u00XX;
// invalid UTF-8 becomes \ufffd; U+2028 and U+2029 are escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

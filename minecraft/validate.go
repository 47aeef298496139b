package minecraft

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Validate checks components the way a server parses them after Marshal in
// style: Fabric and NeoForge decode chat with the game's strict codec, and a
// single bad field makes QueQiao answer with an error (or, for a bad link on
// 1.21.5+, disconnects every client that receives it). See ValidateJSON for
// the rules.
func Validate(cs []Component, style Style) error {
	b, err := Marshal(cs, style)
	if err != nil {
		return err
	}
	return ValidateJSON(b, style)
}

// ValidateJSON checks an encoded text component against the schema of the
// text components the bridge builds, in the spelling of style:
//   - a component is a string, a non-empty array of components, or an object
//     with a string "text"; "extra", when present, is a non-empty array;
//   - "color" is a named colour or #RRGGBB; the format flags are booleans;
//   - events are spelled for the version: clickEvent/hoverEvent with
//     value/contents up to 1.21.4, click_event/hover_event with url, command
//     or value from 1.21.5; the other spelling is an unknown field;
//   - a link (open_url) is an absolute http(s) URL the game's URI parser
//     accepts; hover text (show_text) is itself a valid component;
//   - any other field, click or hover action is reported as unknown, since
//     the bridge never builds one (translatable, score, show_item, …).
//
// The error names the path of the first problem, e.g.
// `[0].extra[2].click_event.url: "example.com/a.png" is not an absolute http(s) URL`.
func ValidateJSON(data []byte, style Style) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return errors.New("trailing data after the component")
	}
	return validateComponent(v, style, "")
}

// namedColors are the colour names the game accepts in "color".
var namedColors = map[string]bool{
	"black": true, "dark_blue": true, "dark_green": true, "dark_aqua": true, "dark_red": true,
	"dark_purple": true, "gold": true, "gray": true, "dark_gray": true, "blue": true, "green": true,
	"aqua": true, "red": true, "light_purple": true, "yellow": true, "white": true,
}

// ValidColor reports whether c is a colour the game accepts: a named colour
// or #RRGGBB.
func ValidColor(c string) bool {
	if namedColors[c] {
		return true
	}
	if len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

func validateComponent(v any, style Style, path string) error {
	switch c := v.(type) {
	case string:
		return nil
	case []any:
		if len(c) == 0 {
			return fmt.Errorf("%s: empty component list", pathOrRoot(path))
		}
		for i, e := range c {
			if err := validateComponent(e, style, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		return validateObject(c, style, path)
	}
	return fmt.Errorf("%s: a component is a string, a list or an object, not %s", pathOrRoot(path), jsonKind(v))
}

func validateObject(obj map[string]any, style Style, path string) error {
	clickKey, hoverKey := "clickEvent", "hoverEvent"
	if style == StyleModern {
		clickKey, hoverKey = "click_event", "hover_event"
	}
	if _, ok := obj["text"].(string); !ok {
		return fmt.Errorf("%s.text: required string, got %s", pathOrRoot(path), jsonKind(obj["text"]))
	}
	for _, key := range slices.Sorted(maps.Keys(obj)) { // the first problem, always the same one
		val := obj[key]
		at := strings.TrimPrefix(path+"."+key, ".")
		switch key {
		case "text":
		case "color":
			if s, ok := val.(string); !ok || !ValidColor(s) {
				return fmt.Errorf("%s: %s is not a colour name or #RRGGBB", at, jsonText(val))
			}
		case "bold", "italic", "underlined", "strikethrough", "obfuscated":
			if _, ok := val.(bool); !ok {
				return fmt.Errorf("%s: want true or false, got %s", at, jsonKind(val))
			}
		case "insertion", "font":
			if _, ok := val.(string); !ok {
				return fmt.Errorf("%s: want a string, got %s", at, jsonKind(val))
			}
		case "extra":
			list, ok := val.([]any)
			if !ok || len(list) == 0 {
				return fmt.Errorf("%s: want a non-empty list, got %s", at, jsonText(val))
			}
			for i, e := range list {
				if err := validateComponent(e, style, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		case clickKey:
			if err := validateClick(val, style, at); err != nil {
				return err
			}
		case hoverKey:
			if err := validateHover(val, style, at); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unknown field for %s components", at, style)
		}
	}
	return nil
}

func validateClick(v any, style Style, path string) error {
	ev, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: want an object, got %s", path, jsonKind(v))
	}
	action, _ := ev["action"].(string)
	// The field each action carries: legacy always "value"; 1.21.5 names it.
	field := "value"
	if style == StyleModern {
		switch action {
		case "open_url":
			field = "url"
		case "run_command", "suggest_command":
			field = "command"
		}
	}
	switch action {
	case "open_url", "run_command", "suggest_command", "copy_to_clipboard":
	default:
		return fmt.Errorf("%s.action: %s is not a click action the bridge uses", path, jsonText(ev["action"]))
	}
	for key := range ev {
		if key != "action" && key != field {
			return fmt.Errorf("%s.%s: unknown field for %s %s", path, key, style, action)
		}
	}
	s, ok := ev[field].(string)
	if !ok {
		return fmt.Errorf("%s.%s: required string, got %s", path, field, jsonKind(ev[field]))
	}
	if action == "open_url" && !ValidURL(s) {
		return fmt.Errorf("%s.%s: %q is not an absolute http(s) URL", path, field, s)
	}
	return nil
}

func validateHover(v any, style Style, path string) error {
	ev, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: want an object, got %s", path, jsonKind(v))
	}
	if action := ev["action"]; action != "show_text" {
		return fmt.Errorf("%s.action: %s is not a hover action the bridge uses", path, jsonText(action))
	}
	field := "contents"
	if style == StyleModern {
		field = "value"
	}
	for key := range ev {
		if key != "action" && key != field {
			return fmt.Errorf("%s.%s: unknown field for %s show_text", path, key, style)
		}
	}
	contents, ok := ev[field]
	if !ok {
		return fmt.Errorf("%s.%s: required", path, field)
	}
	return validateComponent(contents, style, path+"."+field)
}

// ValidURL reports whether s is a link the game opens: an absolute http or
// https URL with a host, made only of characters its URI parser accepts
// (no spaces, quotes, angle brackets, braces, backslashes or control
// characters, and "%" only as an escape).
func ValidURL(s string) bool {
	if s == "" || strings.TrimSpace(s) != s {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return false
		case c >= 0x80: // non-ASCII letters are accepted as "other" characters
		case strings.IndexByte(" \"<>\\^`{|}", c) >= 0:
			return false
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
		}
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return false
	}
	// Brackets belong to an IPv6 host only.
	rest := s[strings.Index(s, "//")+2:]
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[end:]
		if strings.ContainsAny(rest, "[]") {
			return false
		}
	}
	return strings.Count(s, "#") <= 1
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func pathOrRoot(path string) string {
	if path == "" {
		return "component"
	}
	return strings.TrimPrefix(path, ".")
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return jsonKind(v)
	}
	if len(b) > 60 {
		b = append(b[:57], "..."...)
	}
	return string(b)
}

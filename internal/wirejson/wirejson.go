// Package wirejson reads the JSON the bridge's peers send, where one field
// may arrive with different types: an id as a number or a string, a name as
// a string or a number, a timestamp as an integer or a float. Every
// adapter decodes such fields with the types here, so the rules are stated
// once:
//
//   - Int: a JSON number or numeric string, integral (1e3 and 1.0 allowed);
//     null and "" are 0.
//   - Number: a JSON number or numeric string, fractions allowed; null and
//     "" are 0.
//   - String: a JSON string, number or boolean as text, numbers as plain
//     decimals; null is "". Objects and arrays are an error.
//   - LooseString: String, except that objects and arrays read as "" rather
//     than fail, for documents where one odd field should cost only itself.
//
// Unquote and Scalar serve decoders that walk raw values themselves; Valid,
// Scanner and FieldKey are how the fast decoders of the busiest frames walk
// them, and Plain tells the fast encoders which strings they may copy.
package wirejson

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Unquote returns the text of a JSON string literal. Literals without
// escapes (almost all of them) are sliced rather than decoded again, which
// makes custom UnmarshalJSON methods cheap; anything else goes through
// encoding/json, so the result is always what encoding/json would give
// (invalid UTF-8 included).
func Unquote(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		inner := b[1 : len(b)-1]
		if bytes.IndexByte(inner, '\\') < 0 && bytes.IndexByte(inner, '"') < 0 && !hasControl(inner) && utf8.Valid(inner) {
			if w, ok := commonWord(inner); ok {
				return w, nil
			}
			return string(inner), nil
		}
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// commonWord returns the words that fill the busiest frames (OneBot
// message events, QueQiao broadcasts and their answers) as constants, so
// reading them allocates nothing. A switch on string(b) makes no string.
func commonWord(b []byte) (string, bool) {
	switch string(b) {
	case "message":
		return "message", true
	case "group":
		return "group", true
	case "private":
		return "private", true
	case "text":
		return "text", true
	case "normal":
		return "normal", true
	case "member":
		return "member", true
	case "admin":
		return "admin", true
	case "owner":
		return "owner", true
	case "friend":
		return "friend", true
	case "response":
		return "response", true
	case "broadcast":
		return "broadcast", true
	case "SUCCESS":
		return "SUCCESS", true
	case "success":
		return "success", true
	}
	return "", false
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// Plain reports whether encoding/json writes s between quotes as it is (no
// escapes): what lets the fast encoders of the busiest frames copy a string
// in.
func Plain(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// Package wirejson holds small helpers for reading the JSON the bridge's
// peers send, where the same field may arrive with different types.
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
			return string(inner), nil
		}
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

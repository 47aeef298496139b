package wirejson

import (
	"encoding/json"
	"testing"
)

// Unquote agrees with encoding/json on every literal, fast path or not.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"\u00e9"`, `"日本"`, "\"\xff\"", "\"a\tb\"", `""`, `"`, `abc`, `"a"b"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		wantErr := json.Unmarshal(b, &want)
		got, err := Unquote(b)
		if (err != nil) != (wantErr != nil) || (err == nil && got != want) {
			t.Fatalf("Unquote(%q) = %q, %v; encoding/json: %q, %v", b, got, err, want, wantErr)
		}
	})
}

// A string Plain passes is written by encoding/json between quotes as it
// is; the bridge's own API names and echoes pass.
func TestPlainIsWhatEncodingJSONLeavesAlone(t *testing.T) {
	for c := range 256 {
		s := "a" + string([]byte{byte(c)}) + "b"
		if !Plain(s) {
			continue
		}
		if got, _ := json.Marshal(s); string(got) != `"`+s+`"` {
			t.Errorf("Plain(%q) but encoding/json writes %s", s, got)
		}
	}
	for _, s := range []string{"broadcast", "send_actionbar", "mcb-17", ""} {
		if !Plain(s) {
			t.Errorf("Plain(%q) = false", s)
		}
	}
	for _, s := range []string{`a"b`, `a\b`, "a<b", "a&b", "a\nb", "é"} {
		if Plain(s) {
			t.Errorf("Plain(%q) = true", s)
		}
	}
}

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

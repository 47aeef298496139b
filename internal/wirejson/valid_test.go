package wirejson

import (
	"encoding/json"
	"strings"
	"testing"
)

// Valid says what json.Valid says, on everything.
func FuzzValidMatches(f *testing.F) {
	for _, s := range []string{
		`{"post_type":"message","message":[{"type":"text","data":{"text":"今晚8点"}}],"self_id":1e3}`,
		`{"api":"broadcast","data":{"message":[{"text":"a","color":"gray"}]},"echo":"q1"}`,
		`[]`, `{}`, ` [ 1 , -0.5e+7 , true , false , null , "" ] `, `"\u00e9\n\/"`, "\"\xff\xfe\"",
		`01`, `-`, `1.`, `1e`, `.5`, `+1`, `-01`, `1.e3`, `tru`, `truex`, `nul`, `[1,]`, `{"a":1,}`,
		`{"a" 1}`, `{1:2}`, `[1 2]`, `"a`, `"\x"`, `"\u12g4"`, "\"a\tb\"", `{"a":}`, `]`, `[}`, `{]`,
		"", " ", `1 2`, `{"a":[{"b":[]}]}x`, "\x00", `[[[[[]]]]]`, `{"\"":"\\"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

// Nesting is refused beyond encoding/json's depth, and only there.
func TestValidNestingLimit(t *testing.T) {
	for _, depth := range []int{maxNesting - 1, maxNesting, maxNesting + 1} {
		for _, pair := range []string{"[]", "{}"} {
			var doc string
			if pair == "[]" {
				doc = strings.Repeat("[", depth) + strings.Repeat("]", depth)
			} else {
				doc = strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1)
			}
			if got, want := Valid([]byte(doc)), json.Valid([]byte(doc)); got != want {
				t.Errorf("%s nested %d deep: Valid %v, json.Valid %v", pair, depth, got, want)
			}
		}
	}
	if Valid([]byte(strings.Repeat("[", maxNesting+1) + strings.Repeat("]", maxNesting+1))) {
		t.Errorf("nesting beyond %d accepted", maxNesting)
	}
}

func BenchmarkValid(b *testing.B) {
	frame := []byte(`{"self_id":10001,"user_id":20002,"time":1733900000,"message_id":123456,"message_seq":123456,` +
		`"real_id":123456,"message_type":"group","sender":{"user_id":20002,"nickname":"Alice","card":"阿丽","role":"member"},` +
		`"raw_message":"今晚8点维护 #00001","font":14,"sub_type":"normal","message":[{"type":"text","data":{"text":"今晚8点维护 #00001"}}],` +
		`"message_format":"array","post_type":"message","group_id":30003}`)
	b.Run("wirejson", func(b *testing.B) {
		for b.Loop() {
			Valid(frame)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		for b.Loop() {
			json.Valid(frame)
		}
	})
}

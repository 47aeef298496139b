package queqiao

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcqq/bridge/internal/testutil"
	"github.com/mcqq/bridge/internal/wirejson"
)

// The scanner reads an answer, and peeks at one, as encoding/json does,
// whenever it takes the frame at all; and it takes the answers the plugin
// sends.
func FuzzFastResponseMatches(f *testing.F) {
	testutil.SeedFiles(f, "*.json")
	for _, s := range []string{
		`{"api":"broadcast","code":200,"post_type":"response","status":"SUCCESS","message":"success","data":null,"echo":"q7"}`,
		`{"code":"200","Echo":"1","post_type":"response"}`, // another case: encoding/json takes it
		`{"echo":"1","echo":"2"}`,                                 // twice: the last wins
		`{"ech\u006f":"1"}`,                                       // escaped key
		`{"echo":1,"code":2e2,"status":true,"data":[1, 2 ]}`,      // numbers and booleans as text
		`{"echo":{},"code":[]}`,                                   // values the fields refuse
		`{"api":null,"echo":null,"data":{"rawJsonMessage":"{}"}}`, // the parse-error reply
		"{\"\u0435cho\":\"1\",\"\u212a\":1}",                      // non-ASCII keys
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var peek struct {
			PostType wirejson.String `json:"post_type"`
			Echo     wirejson.String `json:"echo"`
		}
		peekErr := json.Unmarshal(frame, &peek)
		wantAnswer := peekErr == nil && peek.Echo != "" && strings.EqualFold(string(peek.PostType), "response")
		if echo, ok := answerEcho(frame); ok != wantAnswer || ok && echo != string(peek.Echo) {
			t.Fatalf("answerEcho(%s) = %q, %v; encoding/json: %q, %v", frame, echo, ok, peek.Echo, wantAnswer)
		}
		if pt, e, ok := peekAnswerFast(frame); ok && (peekErr != nil || pt != peek.PostType || e != peek.Echo) {
			t.Fatalf("peekAnswerFast(%s) = %q, %q; encoding/json: %q, %q (%v)", frame, pt, e, peek.PostType, peek.Echo, peekErr)
		}
		if w, ok := decodeResponseFast(frame); ok {
			testutil.ReadsAsEncodingJSON(t, frame, w)
		}
	})
}

// Every answer fixture takes the fast path.
func TestFastResponseTakesRealAnswers(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "api_*_response.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no answer fixtures")
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := decodeResponseFast(b); !ok {
			t.Errorf("%s: not taken by the scanner", filepath.Base(path))
		}
		if _, _, ok := peekAnswerFast(b); !ok {
			t.Errorf("%s: not peeked at by the scanner", filepath.Base(path))
		}
	}
}

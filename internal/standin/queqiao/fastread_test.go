package queqiao

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mcqq/bridge/internal/testutil"
)

// The scanner reads a request, and a broadcast's message, as encoding/json
// does whenever it takes them at all; and it takes the requests the bridge
// sends.
func FuzzFastRequestMatches(f *testing.F) {
	testutil.SeedFiles(f, "api_*_request.json")
	for _, s := range []string{
		`{"api":"broadcast","data":{"message":[{"text":"[QQ] ","color":"gray"},{"text":"hi"}]},"echo":"q12"}`,
		`{"API":"broadcast","data":{"Message":{"text":"x"}},"echo":42}`, // other cases: encoding/json takes them
		`{"api":"a","api":"b","data":{"message":1,"message":2}}`,        // twice: the last wins
		`{"ap\u0069":"broadcast","data":{"m\u0065ssage":"x"}}`,          // escaped keys
		`{"api":5,"data":[],"echo":null}`,                               // a number where a string goes
		`{"api":null,"data":"x","echo":{"a":[1]}}`,
		`{"api":"\u00e9\n","data":{"message":null},"echo":"\"q\""}`,
		"{\"\u212api\":\"x\"}", // the Kelvin sign folds to k in encoding/json
		`[1]`, `null`, `{"api":"broadcast"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		fast, ok := decodeRequestFast(frame)
		if !ok {
			return
		}
		testutil.ReadsAsEncodingJSON(t, frame, fast)
		if len(fast.Data) == 0 || string(fast.Data) == "null" {
			return
		}
		msg, ok := messageOf(fast.Data)
		if !ok {
			return
		}
		var d struct{ Message json.RawMessage }
		if err := json.Unmarshal(fast.Data, &d); err != nil || !reflect.DeepEqual(msg, d.Message) {
			t.Fatalf("data %s: scanner %s, encoding/json %s (%v)", fast.Data, msg, d.Message, err)
		}
	})
}

// The requests the bridge sends take the fast path.
func TestFastRequestTakesRealRequests(t *testing.T) {
	for _, name := range []string{"api_broadcast_request.json", "api_send_actionbar_request.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		r, ok := decodeRequestFast(b)
		if !ok {
			t.Errorf("%s: not taken by the scanner", name)
			continue
		}
		if _, ok := messageOf(r.Data); !ok {
			t.Errorf("%s: its message not taken by the scanner", name)
		}
	}
}

// An answer is written byte for byte as encoding/json writes it.
func FuzzAnswerEncoding(f *testing.F) {
	f.Add("broadcast", "q1", "success", 200, false, false)
	f.Add("", "", "解析消息失败", 500, true, true)
	f.Add("foo", "<&>", "未知的API：foo", 404, false, false)
	f.Add("a\"b", "\x7f\x00", "\xff", -1, false, true)
	f.Fuzz(func(t *testing.T, api, echo, message string, code int, nullAPI, nullEcho bool) {
		r := response{API: &api, Code: code, PostType: "response", Status: "SUCCESS", Message: message, Echo: &echo}
		if nullAPI {
			r.API = nil
		}
		if nullEcho {
			r.Echo = nil
		}
		got, err := encodeAnswer(r)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("encodeAnswer %s\n json.Marshal %s", got, want)
		}
	})
}

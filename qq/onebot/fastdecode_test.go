package onebot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mcqq/bridge/internal/testutil"
)

// The scanner's reading of a frame, of a segment array and of a segment's
// data is what encoding/json reads, whenever the scanner takes the input at
// all; and it takes the frames real bots send.
func FuzzFastDecodeMatches(f *testing.F) {
	testutil.SeedFiles(f, "*.json")
	for _, s := range []string{
		`{"post_type":"message","Post_Type":"notice"}`,                   // another case: encoding/json takes it
		`{"post_type":"message","post_type":"notice"}`,                   // twice: the last wins
		`{"post\u005ftype":"message"}`,                                   // escaped key
		`{"post_type":null,"sender":null,"message":null,"self_id":null}`, // nulls
		`{"user_id":"12","group_id":1e3,"message_id":7,"time":"","sender":{"user_id":"5","Nickname":"x"}}`,
		`{"message":[{"type":"text","data":{"text":"a","text":"b"}},{"Type":"face"},{"type":"at","data":null}]}`,
		`{"message":[{"type":"face","data":{"id":14,"raw":{"faceIndex":14}}},1]}`,
		`{"message":[{"type":"text","data":{"t\u0065xt":"x","\xff":"y"}}]}`,
		"{\"sender\":{\"user_\u017fd\":1}}", // ſ folds to s in encoding/json
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		if fast, ok := decodeEventFast(frame); ok {
			testutil.ReadsAsEncodingJSON(t, frame, fast)
			if len(fast.Message) > 0 && fast.Message[0] == '[' {
				checkSegments(t, fast.Message)
			}
		}
		if json.Valid(frame) && len(frame) > 0 && frame[0] == '[' {
			checkSegments(t, frame)
		}
	})
}

func checkSegments(t *testing.T, raw []byte) {
	t.Helper()
	items, ok := segmentsFast(raw)
	if !ok {
		return
	}
	var slow []wireSegment
	if err := json.Unmarshal(raw, &slow); err != nil {
		t.Fatalf("the scanner took segments encoding/json refuses (%v): %s", err, raw)
	}
	if len(items) != len(slow) {
		t.Fatalf("segments %s: scanner %d, encoding/json %d", raw, len(items), len(slow))
	}
	for i := range items {
		if !reflect.DeepEqual(items[i], slow[i]) {
			t.Fatalf("segment %d of %s:\n scanner %+v\nencoding/json %+v", i, raw, items[i], slow[i])
		}
		d := items[i].Data
		if len(d) == 0 || d[0] != '{' {
			continue
		}
		if fields, ok := fieldsFast(d); ok {
			testutil.ReadsAsEncodingJSON(t, d, fields)
		}
	}
}

// The frames real bots send take the fast path.
func TestFastDecodeTakesRealFrames(t *testing.T) {
	for _, name := range []string{"napcat_group_message_array.json", "llbot_group_message_array.json",
		"napcat_heartbeat.json", "lifecycle_connect.json", "notice_group_decrease.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		w, ok := decodeEventFast(b)
		if !ok {
			t.Errorf("%s: not taken by the scanner", name)
			continue
		}
		if len(w.Message) > 0 && w.Message[0] == '[' {
			if _, ok := segmentsFast(w.Message); !ok {
				t.Errorf("%s: its segments not taken by the scanner", name)
			}
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	frame, err := os.ReadFile(filepath.Join("testdata", "napcat_group_message_array.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeEvent(frame); err != nil {
			b.Fatal(err)
		}
	}
}

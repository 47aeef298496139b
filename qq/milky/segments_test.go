package milky

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcqq/bridge/qq"
)

func decodeCatalog(t *testing.T, raw []byte) []qq.Segment {
	t.Helper()
	var catalog struct {
		Segments json.RawMessage `json:"segments"`
	}
	if err := json.Unmarshal(raw, &catalog); err != nil {
		t.Fatal(err)
	}
	segs, err := DecodeSegments(catalog.Segments)
	if err != nil {
		t.Fatalf("DecodeSegments: %v", err)
	}
	return segs
}

// TestSegmentsCatalog pins the mapping of every Milky segment type onto the
// neutral model (OneBot names).
func TestSegmentsCatalog(t *testing.T) {
	segs := decodeCatalog(t, readFixture(t, "milky_incoming_segments_catalog.json"))
	lightApp := `{"app":"com.tencent.miniapp_01","desc":"哔哩哔哩"`
	want := []qq.Segment{
		qq.Text("hello"),
		{Type: "at", Target: "1357924680", Name: "Bob"},
		{Type: "at", Target: qq.MentionAll},
		{Type: "face", ID: "14"},
		{Type: "face", ID: "392"},
		{Type: "reply", ID: "48190",
			Quoted: &qq.Message{
				Sender:   qq.Member{UserID: 1357924680},
				Segments: []qq.Segment{qq.Text("服务器什么时候维护？")},
				Time:     time.Unix(1765431800, 0),
			}},
		{Type: "image", URL: "https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=EhTQ8bXk2F0a1z3c9Q&spec=0&rkey=CAQSKAB6JWENi5LMtWVWVxS2RfZbDwvOdlkneNX9iQFbjGK7q", Summary: "[图片]"},
		{Type: "image", URL: "https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=EhRa9cVq0Yb7&spec=0&rkey=CAQSKAB6", Summary: "[动画表情]", Sticker: true},
		{Type: "record", URL: "https://grouptalk.c2c.qq.com/?ver=2&rkey=3062020101045b30&filetype=1&voice_codec=1"},
		{Type: "video", URL: "https://multimedia.nt.qq.com.cn/download?appid=1415&fileid=EhR3b8cVideo&rkey=CAQSKAB6"},
		{Type: "file", Name: "modpack-1.20.1.zip"},
		{Type: "forward", ID: "Sj3kQ0fWmS8b2PzLxQ9vN1rT7yU6iO5e",
			Forward: []qq.Message{
				{Segments: []qq.Segment{qq.Text("Alice: 今晚维护")}},
				{Segments: []qq.Segment{qq.Text("Bob: 收到")}},
				{Segments: []qq.Segment{qq.Text("Steve: [图片]")}},
			}},
		{Type: "mface", Summary: "[狗头]", URL: "https://gxh.vip.qq.com/club/item/parcel/item/a3/a3f1c2d4e5b6a7980123456789abcdef/raw300.gif"},
		{Type: "json", Payload: "checked below"},
		{Type: "xml", Payload: "checked below"},
		{Type: "markdown", Text: "**公告**: 服务器已重启"},
	}
	if len(segs) != len(want) {
		t.Fatalf("decoded %d segments (%s), want %d", len(segs), segmentTypes(segs), len(want))
	}
	// The card payloads are long; check their start and move on.
	if d := segs[13].Payload; !strings.HasPrefix(d, lightApp) || !json.Valid([]byte(d)) {
		t.Errorf("light_app payload = %.60q…", d)
	}
	if d := segs[14].Payload; !strings.HasPrefix(d, "<?xml version='1.0'") || !strings.Contains(d, "brief=\"[分享]服务器公告\"") {
		t.Errorf("xml payload = %.60q…", d)
	}
	segs[13].Payload, segs[14].Payload = "checked below", "checked below"
	for i := range want {
		if !reflect.DeepEqual(segs[i], want[i]) {
			t.Errorf("segment %d:\n got %+v\nwant %+v", i, describe(segs[i]), describe(want[i]))
		}
	}
}

func describe(s qq.Segment) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestDecodeSegmentsTolerance(t *testing.T) {
	cases := []struct {
		name, raw string
		want      []qq.Segment
	}{
		{"numbers as strings", `[{"type":"mention","data":{"user_id":"1357924680","name":"Bob"}},{"type":"face","data":{"face_id":14,"is_large":"true"}}]`,
			[]qq.Segment{
				{Type: "at", Target: "1357924680", Name: "Bob"},
				{Type: "face", ID: "14"},
			}},
		{"unknown type keeps its name", `[{"type":"shiny_new","data":{"a":1,"b":"x","c":{"x":1},"d":true,"e":null,"f":1.5e2,"g":[1],"h":12345678901234567890123}}]`,
			[]qq.Segment{{Type: "shiny_new"}}},
		{"data not an object", `[{"type":"text","data":"hi"},{"type":"mention_all"}]`,
			[]qq.Segment{{Type: "text"}, {Type: "at", Target: qq.MentionAll}}},
		{"renamed key wins over a clashing one", `[{"type":"mention","data":{"qq":"1","user_id":2}}]`,
			[]qq.Segment{{Type: "at", Target: "2"}}},
		{"reply without quoted content", `[{"type":"reply","data":{"message_seq":7,"sender_id":10001,"time":0,"segments":[]}}]`,
			[]qq.Segment{{Type: "reply", ID: "7",
				Quoted: &qq.Message{Sender: qq.Member{UserID: 10001}, Segments: []qq.Segment{}}}}},
		{"a quoted reply's own quote is not decoded", `[{"type":"reply","data":{"message_seq":7,"sender_id":1,"time":0,"segments":[{"type":"reply","data":{"message_seq":6,"sender_id":2,"time":0,"segments":[{"type":"text","data":{"text":"deep"}}]}},{"type":"text","data":{"text":"hi"}}]}}]`,
			[]qq.Segment{{Type: "reply", ID: "7",
				Quoted: &qq.Message{Sender: qq.Member{UserID: 1}, Segments: []qq.Segment{
					{Type: "reply", ID: "6", Quoted: &qq.Message{Sender: qq.Member{UserID: 2}}},
					qq.Text("hi"),
				}}}}},
		{"forward with odd preview", `[{"type":"forward","data":{"forward_id":"f","preview":"not a list"}}]`,
			[]qq.Segment{{Type: "forward", ID: "f"}}},
		{"empty", `[]`, []qq.Segment{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeSegments(json.RawMessage(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeSegmentsErrors(t *testing.T) {
	for _, raw := range []string{
		``, `{`, `{"type":"text"}`, `"text"`, `[1]`, `[{"data":{}}]`, `[{"type":""}]`, `[{"type":{}}]`,
		`[{"type":"reply","data":{"sender_id":"Bob"}}]`,
		`[{"type":"reply","data":{"segments":[{"type":null}]}}]`,
	} {
		if segs, err := DecodeSegments(json.RawMessage(raw)); err == nil {
			t.Errorf("DecodeSegments(%s) = %+v, want an error", raw, segs)
		}
	}
}

func TestEncodeSegments(t *testing.T) {
	segs := []qq.Segment{
		qq.Text("a"),
		{Type: qq.SegAt, Target: qq.MentionAll},
		{Type: qq.SegFace, ID: "392"},
		{Type: qq.SegReply, ID: "48213"},
		{Type: qq.SegImage, URL: "base64://AAAA", Sticker: true},
		{Type: qq.SegRecord, URL: "file:///tmp/a.amr"},
		{Type: qq.SegVideo, URL: "https://x/v.mp4"},
	}
	out, err := encodeSegments(segs)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(out)
	want := `[{"type":"text","data":{"text":"a"}},{"type":"mention_all","data":{}},` +
		`{"type":"face","data":{"face_id":"392","is_large":false}},{"type":"reply","data":{"message_seq":48213}},` +
		`{"type":"image","data":{"uri":"base64://AAAA","sub_type":"sticker"}},` +
		`{"type":"record","data":{"uri":"file:///tmp/a.amr"}},{"type":"video","data":{"uri":"https://x/v.mp4"}}]`
	if string(got) != want {
		t.Errorf("encoded\n got %s\nwant %s", got, want)
	}
	for _, bad := range []qq.Segment{
		{Type: qq.SegAt, Target: "Bob"},
		{Type: qq.SegFace},
		{Type: qq.SegReply, ID: "group:x:1"},
		{Type: qq.SegImage, Summary: "[图片]"},
		{Type: qq.SegForward, ID: "f"},
	} {
		if _, err := encodeSegments([]qq.Segment{bad}); err == nil {
			t.Errorf("encodeSegments(%+v) accepted", bad)
		}
	}
}

func FuzzDecodeSegments(f *testing.F) {
	var catalog struct {
		Segments json.RawMessage `json:"segments"`
	}
	if err := json.Unmarshal(readFixture(f, "milky_incoming_segments_catalog.json"), &catalog); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(catalog.Segments))
	f.Add([]byte(`[{"type":"x","data":{"a":-0.0e-5,"b":"\u0000"}}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		segs, err := DecodeSegments(raw)
		if err == nil {
			checkSegments(t, segs)
		}
	})
}

func checkSegments(t *testing.T, segs []qq.Segment) {
	t.Helper()
	for _, s := range segs {
		if s.Type == "" {
			t.Fatalf("segment without type: %+v", s)
		}
		if s.Quoted != nil {
			checkSegments(t, s.Quoted.Segments)
		}
	}
}

// TestStickersAreMarked: implementations put "[图片]" on every picture, so
// only a sub type of sticker or a summary naming something marks a sticker.
func TestStickersAreMarked(t *testing.T) {
	for _, tc := range []struct {
		data    string
		sticker bool
	}{
		{`{"sub_type":"normal","summary":"[图片]"}`, false},
		{`{"sub_type":"normal"}`, false},
		{`{"sub_type":"sticker","summary":"[图片]"}`, true},
		{`{"sub_type":"normal","summary":"[狗头]"}`, true},
		{`{"summary":"[动画表情]"}`, true},
	} {
		segs, err := DecodeSegments(json.RawMessage(`[{"type":"image","data":` + tc.data + `}]`))
		if err != nil || len(segs) != 1 {
			t.Fatalf("%s: %v", tc.data, err)
		}
		if got := segs[0].Sticker; got != tc.sticker {
			t.Errorf("%s: Sticker = %v, want %v", tc.data, got, tc.sticker)
		}
	}
}

// BenchmarkDecodeNestedReplies reports ns per frame byte for replies quoting
// replies to a depth of 100 and 2000: flat when each level is read a
// bounded number of times, growing with depth when every level re-reads
// everything below it.
func BenchmarkDecodeNestedReplies(b *testing.B) {
	for _, depth := range []int{100, 2000} {
		open := `{"type":"reply","data":{"message_seq":1,"segments":[`
		inner := strings.Repeat(open, depth) + `{"type":"text","data":{"text":"x"}}` + strings.Repeat(`]}}`, depth)
		frame := []byte(`{"time":1,"self_id":1,"event_type":"message_receive","data":{"message_scene":"group","peer_id":5,"message_seq":1,"sender_id":2,"time":1,"segments":[` + inner + `]}}`)
		b.Run(strconv.Itoa(depth), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := DecodeEvent(frame); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(frame)), "ns/byte")
		})
	}
}

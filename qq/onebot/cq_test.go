package onebot_test

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

func TestParseCQ(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []qq.Segment
	}{
		{"", nil},
		{"plain", []qq.Segment{qq.Text("plain")}},
		{"[CQ:at,qq=all] 开会", []qq.Segment{{Type: "at", Target: qq.MentionAll}, qq.Text(" 开会")}},
		{"a[CQ:face,id=14]b[CQ:shake]", []qq.Segment{qq.Text("a"), {Type: "face", ID: "14"}, qq.Text("b"), {Type: "shake"}}},
		{"&#91;x&#93; &amp; y, z", []qq.Segment{qq.Text("[x] & y, z")}},
		// &amp; is undone last, so an escaped escape stays literal.
		{"&amp;#91;", []qq.Segment{qq.Text("&#91;")}},
		{"[CQ:image,url=https://x/?a=1&amp;b=2,summary=&#91;动画表情&#93;,name=a&#44;b]",
			[]qq.Segment{{Type: "image", URL: "https://x/?a=1&b=2", Summary: "[动画表情]", Sticker: true}}},
		// '=' inside a value belongs to the value; the key ends at the first '='.
		{"[CQ:json,data=k=v]", []qq.Segment{{Type: "json", Payload: "k=v"}}},
		// Empty values are left out, like null/empty values in the array form.
		{"[CQ:file,url=,name=x]", []qq.Segment{{Type: "file", Name: "x"}}},
		{"[CQ:brand_new_type,Mixed_Key9=1]", []qq.Segment{{Type: "brand_new_type"}}},
		// Malformed codes stay text.
		{"[CQ:at,qq=1", []qq.Segment{qq.Text("[CQ:at,qq=1")}},
		{"[CQ:]", []qq.Segment{qq.Text("[CQ:]")}},
		{"[CQ:at,qq]", []qq.Segment{qq.Text("[CQ:at,qq]")}},
		{"[CQ:at qq=1]", []qq.Segment{qq.Text("[CQ:at qq=1]")}},
		{"[CQ:at,=1]", []qq.Segment{qq.Text("[CQ:at,=1]")}},
		{"[CQ:at,qq=1,]", []qq.Segment{qq.Text("[CQ:at,qq=1,]")}},
		{"[CQ:表情]", []qq.Segment{qq.Text("[CQ:表情]")}},
		{"[[CQ:dice,result=4]]", []qq.Segment{qq.Text("["), {Type: "dice", Result: "4"}, qq.Text("]")}},
		{"[CQ:x,a=[CQ:y]", []qq.Segment{{Type: "x"}}},
		// A code that fails part way leaves the rest to be read again.
		{"[CQ:a,[CQ:face,id=1]", []qq.Segment{qq.Text("[CQ:a,"), {Type: "face", ID: "1"}}},
		{"[CQ:a,b[CQ:face,id=2]", []qq.Segment{qq.Text("[CQ:a,b"), {Type: "face", ID: "2"}}},
		{"[CQ:[CQ:face,id=3]", []qq.Segment{qq.Text("[CQ:"), {Type: "face", ID: "3"}}},
		{"[CQ:a[CQ:shake]", []qq.Segment{qq.Text("[CQ:a"), {Type: "shake"}}},
		{"[CQ:a,k=[CQ:b,k=", []qq.Segment{qq.Text("[CQ:a,k=[CQ:b,k=")}},
		// A text code is text, joined with the text around it.
		{"a[CQ:text,text=b&#44;]c", []qq.Segment{qq.Text("ab,c")}},
		{"[CQ:text][CQ:text,text=]", nil},
	} {
		if got := onebot.ParseCQ(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseCQ(%q)\n got  %#v\n want %#v", tc.in, got, tc.want)
		}
	}
}

func TestEncodeCQ(t *testing.T) {
	got := onebot.EncodeCQ([]qq.Segment{
		qq.Text("a[b]c & d, e"),
		{Type: "image", URL: "https://x/?a=1&b=2", Summary: "[动画表情]", Sticker: true},
		{Type: "shake"},
		{Type: "text"}, // empty text: renders nothing
		{Type: "file", Name: "a,b"},
	})
	want := "a&#91;b&#93;c &amp; d, e[CQ:image,sub_type=1,summary=&#91;动画表情&#93;,url=https://x/?a=1&amp;b=2][CQ:shake][CQ:file,name=a&#44;b]"
	if got != want {
		t.Fatalf("EncodeCQ\n got  %s\n want %s", got, want)
	}
}

func TestCQRoundTripOfFixtures(t *testing.T) {
	for _, s := range cqSeeds(t) {
		segs := onebot.ParseCQ(s)
		if again := onebot.ParseCQ(onebot.EncodeCQ(segs)); !reflect.DeepEqual(again, segs) {
			t.Errorf("round trip of %q changed it:\n %#v\n %#v", s, segs, again)
		}
	}
}

// FuzzParseCQ: parsing never panics, and what EncodeCQ writes parses back to
// the same segments.
func FuzzParseCQ(f *testing.F) {
	for _, s := range cqSeeds(f) {
		f.Add(s)
	}
	f.Add("[CQ:at,qq=1,]&#91;[CQ:x,a=&amp;#44;]")
	f.Fuzz(func(t *testing.T, s string) {
		segs := onebot.ParseCQ(s)
		if again := onebot.ParseCQ(onebot.EncodeCQ(segs)); !reflect.DeepEqual(again, segs) {
			t.Fatalf("round trip of %q changed it:\n %#v\n %#v", s, segs, again)
		}
	})
}

// Unclosed codes whose values run into the next "[CQ:" stay text; each
// byte is read a bounded number of times (see BenchmarkParseCQUnclosed).
func TestParseCQUnclosedRunIsText(t *testing.T) {
	s := strings.Repeat("[CQ:a,k=", 8<<10)
	if got := onebot.ParseCQ(s); !reflect.DeepEqual(got, []qq.Segment{qq.Text(s)}) {
		t.Fatalf("ParseCQ of %d unclosed codes gave %d segments", 8<<10, len(got))
	}
}

// BenchmarkParseCQUnclosed reports ns per input byte for a run of unclosed
// codes: flat as the input grows when parsing is linear, and growing with it
// when a failed code makes the parser re-read what follows.
func BenchmarkParseCQUnclosed(b *testing.B) {
	for _, n := range []int{1 << 10, 16 << 10} {
		s := strings.Repeat("[CQ:a,k=", n)
		b.Run(strconv.Itoa(len(s)), func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				onebot.ParseCQ(s)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(s)), "ns/byte")
		})
	}
}

// cqSeeds are the CQ strings in the fixtures: raw_message of every message
// and the cq column of the segment catalogs.
func cqSeeds(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var seeds []string
	for _, path := range files {
		var doc struct {
			RawMessage string `json:"raw_message"`
			Segments   []struct {
				CQ string `json:"cq"`
			} `json:"segments"`
		}
		if json.Unmarshal(readFixture(t, filepath.Base(path)), &doc) != nil {
			continue // not an object of this shape
		}
		if doc.RawMessage != "" {
			seeds = append(seeds, doc.RawMessage)
		}
		for _, s := range doc.Segments {
			seeds = append(seeds, s.CQ)
		}
	}
	if len(seeds) < 10 {
		t.Fatalf("only %d CQ strings found in testdata", len(seeds))
	}
	return seeds
}

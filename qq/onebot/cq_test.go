package onebot_test

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/onebot"
)

func seg(typ string, kv ...string) qq.Segment {
	s := qq.Segment{Type: typ, Data: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.Data[kv[i]] = kv[i+1]
	}
	return s
}

func TestParseCQ(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []qq.Segment
	}{
		{"", nil},
		{"plain", []qq.Segment{qq.Text("plain")}},
		{"[CQ:at,qq=all] 开会", []qq.Segment{seg("at", "qq", "all"), qq.Text(" 开会")}},
		{"a[CQ:face,id=14]b[CQ:shake]", []qq.Segment{qq.Text("a"), seg("face", "id", "14"), qq.Text("b"), seg("shake")}},
		{"&#91;x&#93; &amp; y, z", []qq.Segment{qq.Text("[x] & y, z")}},
		// &amp; is undone last, so an escaped escape stays literal.
		{"&amp;#91;", []qq.Segment{qq.Text("&#91;")}},
		{"[CQ:image,url=https://x/?a=1&amp;b=2,summary=&#91;动画表情&#93;,name=a&#44;b]",
			[]qq.Segment{seg("image", "url", "https://x/?a=1&b=2", "summary", "[动画表情]", "name", "a,b")}},
		// '=' inside a value belongs to the value; the key ends at the first '='.
		{"[CQ:json,data=k=v]", []qq.Segment{seg("json", "data", "k=v")}},
		// Empty values are left out, like null/empty values in the array form.
		{"[CQ:file,url=,name=x]", []qq.Segment{seg("file", "name", "x")}},
		{"[CQ:brand_new_type,Mixed_Key9=1]", []qq.Segment{seg("brand_new_type", "Mixed_Key9", "1")}},
		// Malformed codes stay text.
		{"[CQ:at,qq=1", []qq.Segment{qq.Text("[CQ:at,qq=1")}},
		{"[CQ:]", []qq.Segment{qq.Text("[CQ:]")}},
		{"[CQ:at,qq]", []qq.Segment{qq.Text("[CQ:at,qq]")}},
		{"[CQ:at qq=1]", []qq.Segment{qq.Text("[CQ:at qq=1]")}},
		{"[CQ:at,=1]", []qq.Segment{qq.Text("[CQ:at,=1]")}},
		{"[CQ:at,qq=1,]", []qq.Segment{qq.Text("[CQ:at,qq=1,]")}},
		{"[CQ:表情]", []qq.Segment{qq.Text("[CQ:表情]")}},
		{"[[CQ:dice,result=4]]", []qq.Segment{qq.Text("["), seg("dice", "result", "4"), qq.Text("]")}},
		{"[CQ:x,a=[CQ:y]", []qq.Segment{seg("x", "a", "[CQ:y")}},
	} {
		if got := onebot.ParseCQ(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseCQ(%q)\n got  %#v\n want %#v", tc.in, got, tc.want)
		}
	}
}

func TestEncodeCQ(t *testing.T) {
	got := onebot.EncodeCQ([]qq.Segment{
		qq.Text("a[b]c & d, e"),
		seg("image", "url", "https://x/?a=1&b=2", "summary", "[动画表情]", "name", "a,b"),
		seg("shake"),
		{Type: "text"}, // nil Data: renders nothing
	})
	want := "a&#91;b&#93;c &amp; d, e[CQ:image,name=a&#44;b,summary=&#91;动画表情&#93;,url=https://x/?a=1&amp;b=2][CQ:shake]"
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

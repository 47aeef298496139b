package format

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// fuzzValues are the strings a fuzzed segment's fields take, beside the
// fuzzer's own: links with and without a scheme, links the game's URI parser
// refuses, card payloads, text with colour codes.
var fuzzValues = []string{
	"https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=x&rkey=y",
	"https://example.com/a b.png?q={x}|y",
	"example.com/a.png",
	"//example.com/a.png",
	"javascript:alert(1)",
	"file:///etc/passwd",
	"http://[::1",
	"https://e.x/100%",
	"https://e.x/#a#b",
	`{"prompt":"[分享]标题","meta":{"news":{"jumpUrl":"example.com/x","title":"t"}}}`,
	`<msg brief="b" url="ftp://x"><title>t</title></msg>`,
	"§a绿色 &lbold",
	"",
	"14",
	"all",
}

var fuzzTypes = []string{qq.SegText, qq.SegAt, qq.SegFace, qq.SegImage, qq.SegMFace, qq.SegRecord, qq.SegVideo,
	qq.SegFile, qq.SegReply, qq.SegForward, qq.SegJSON, qq.SegXML, qq.SegDice, qq.SegRPS, qq.SegPoke,
	qq.SegShake, qq.SegMarkdown, "onlinefile", ""}

// fuzzMessage builds a QQ message from a little program: each 3 bytes make
// a segment (type, key, value: one of a, b or fuzzValues), with its url and
// text fields filled too; byte 0xFF repeats the previous segment 100×n times,
// so small inputs reach huge messages (up to about fuzzMessageBytes of data
// or 50,000 segments, so one run stays quick).
func fuzzMessage(program []byte, a, b string) []qq.Segment {
	const fuzzMessageBytes = 400_000
	values := append([]string{a, b}, fuzzValues...)
	var segs []qq.Segment
	size := 0
	for i := 0; i+2 < len(program) && len(segs) < 50_000 && size < fuzzMessageBytes; i += 3 {
		if program[i] == 0xFF && len(segs) > 0 {
			last := segs[len(segs)-1]
			lastSize := 1 + len(last.Text) + len(last.URL)
			for n := 100 * int(program[i+1]); n > 0 && len(segs) < 50_000 && size < fuzzMessageBytes; n-- {
				segs = append(segs, last)
				size += lastSize
			}
			continue
		}
		s := qq.Segment{
			Type: fuzzTypes[int(program[i])%len(fuzzTypes)],
			URL:  values[int(program[i+2])%len(values)],
			Text: values[int(program[i+1])%len(values)],
		}
		setFuzzField(&s, int(program[i+1]), values[int(program[i+2])%len(values)])
		switch s.Type {
		case qq.SegForward:
			s.Forward = []qq.Message{{Segments: []qq.Segment{qq.Text(a)}}}
		case qq.SegReply:
			s.Quoted = &qq.Message{Segments: []qq.Segment{{Type: b, URL: a}}}
		}
		segs = append(segs, s)
		size += len(s.Text) + len(s.Target) + len(s.Name) + len(s.ID) + len(s.URL) + len(s.Summary) + len(s.Result) + len(s.Payload)
	}
	return segs
}

// FuzzQQToGameIsValid feeds random QQ messages — random segments, links
// with and without schemes, huge repeats — through QQToGame and checks that
// every broadcast is one any server accepts: valid against the component
// schema of both spellings, valid JSON, content within the cut and the
// whole within maxBroadcastBytes.
func FuzzQQToGameIsValid(f *testing.F) {
	f.Add([]byte{0, 0, 2, 3, 4, 3, 4, 2, 0}, "hello", "https://e.x/a.png", false)
	f.Add([]byte{3, 4, 3, 3, 4, 4, 3, 4, 5, 6, 4, 6}, "image", "example.com/x.png", true)
	f.Add([]byte{9, 0, 0, 10, 9, 11, 11, 9, 12, 8, 3, 3}, "[分享]", "", false)
	f.Add([]byte{0, 0, 0, 0xFF, 3, 0}, strings.Repeat("长", 333), "", false) // a 100k-character message
	f.Add([]byte{2, 3, 15, 0xFF, 200, 0}, "", "", false)                    // 20,000 faces
	f.Add([]byte{1, 1, 16, 1, 2, 3, 16, 11, 0}, "@全体", "", true)
	f.Fuzz(func(t *testing.T, program []byte, a, b string, chatImage bool) {
		segs := fuzzMessage(program, a, b)
		m := QQMessage{GroupID: 1, GroupName: b, Sender: qq.Member{UserID: 2, Card: a}, Segments: segs,
			Names: map[int64]string{14: a}}
		if len(program) > 0 && program[0]%2 == 1 {
			m.Reply = &Reply{Author: b, Quoted: segs[:min(len(segs), 3)]}
		}
		cs := QQToGame(m, Options{ShowGroupName: chatImage, ChatImage: chatImage})
		checkBounded(t, cs)
		for _, style := range []minecraft.Style{minecraft.StyleLegacy, minecraft.StyleModern} {
			out, err := minecraft.Marshal(cs, style)
			if err != nil || !json.Valid(out) {
				t.Fatalf("%s: %v, %.200s", style, err, out)
			}
			if err := minecraft.ValidateJSON(out, style); err != nil {
				t.Fatalf("%s: invalid component: %v\n%.2000s", style, err, out)
			}
		}
	})
}

package format

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// FuzzQQToGame feeds segments of every type with arbitrary data: rendering
// never panics and always yields valid JSON in both styles, with no "§" left
// for the game to apply.
func FuzzQQToGame(f *testing.F) {
	types := []string{qq.SegText, qq.SegAt, qq.SegFace, qq.SegImage, qq.SegMFace, qq.SegRecord, qq.SegVideo,
		qq.SegFile, qq.SegReply, qq.SegForward, qq.SegJSON, qq.SegXML, qq.SegDice, qq.SegRPS, qq.SegPoke,
		qq.SegShake, qq.SegMarkdown, "onlinefile", ""}

	f.Add(uint8(0), uint8(0), "hello §a", "x", false)
	f.Add(uint8(10), uint8(10), `{"prompt":"[分享]x","meta":{"news":{"jumpUrl":"https://a"}}}`, "", true)
	f.Add(uint8(11), uint8(10), `<msg brief="b" url="http://x"><title>t</title></msg>`, "", false)
	f.Add(uint8(3), uint8(4), "http://[::1", "[", true)
	f.Add(uint8(16), uint8(11), "**a** [b](c) ```", "\xff\xfe", false)
	f.Fuzz(func(t *testing.T, typ, key uint8, value, value2 string, chatImage bool) {
		s := qq.Segment{Type: types[int(typ)%len(types)]}
		setFuzzField(&s, int(key), value)
		setFuzzField(&s, int(key)+1, value2)
		if s.Type == qq.SegForward {
			s.Forward = []qq.Message{{Segments: []qq.Segment{qq.Text(value)}}}
		}
		if s.Type == qq.SegReply {
			s.Quoted = &qq.Message{Segments: []qq.Segment{{Type: value2, Text: value}}}
		}
		m := QQMessage{GroupName: value2, Sender: qq.Member{Card: value}, Segments: []qq.Segment{s, s},
			Reply: &Reply{Author: value2, Quoted: []qq.Segment{s}}}
		cs := QQToGame(m, Options{ShowGroupName: true, ChatImage: chatImage})
		for _, style := range []minecraft.Style{minecraft.StyleLegacy, minecraft.StyleModern} {
			b, err := minecraft.Marshal(cs, style)
			if err != nil || !json.Valid(b) {
				t.Fatalf("%s: %v, %s", style, err, b)
			}
			// What reaches the game is the JSON, where invalid UTF-8 is
			// already replaced; a "§" there would be applied as formatting.
			if strings.Contains(string(b), "§") {
				t.Fatalf("§ reached the game: %s", b)
			}
		}
	})
}

// setFuzzField sets the field numbered n (modulo their count) of s to
// value; Sticker is set when value is not empty.
func setFuzzField(s *qq.Segment, n int, value string) {
	fields := []*string{&s.Text, &s.Target, &s.Name, &s.ID, &s.URL, &s.Summary, &s.Result, &s.Payload}
	if n%(len(fields)+1) == len(fields) {
		s.Sticker = value != ""
		return
	}
	*fields[n%(len(fields)+1)] = value
}

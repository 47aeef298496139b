package satori

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcqq/bridge/qq"
)

// contentSeeds are the element strings of the fixtures.
func contentSeeds(f *testing.F) []string {
	var doc struct {
		Cases []struct{ LLBot, Koishi string } `json:"cases"`
	}
	if err := json.Unmarshal(readFixture(f, "element_equivalents.json"), &doc); err != nil {
		f.Fatal(err)
	}
	var seeds []string
	for _, c := range doc.Cases {
		seeds = append(seeds, c.LLBot, c.Koishi)
	}
	return seeds
}

// FuzzParseElements: no input panics; what the parser builds survives being
// written and read again; input without markup is its text, entities
// decoded; and the segments made from it are well-formed.
func FuzzParseElements(f *testing.F) {
	for _, s := range contentSeeds(f) {
		f.Add(s)
	}
	for _, s := range []string{
		`<quote id="1"><user id="2"/>x</quote><b><i>y</b>`, `a < b <at id="1"`, `<x a='1>'/>&#x6587;&amp`,
		`<!-- c --><p>1</p><br/><message forward><message><author id="1"/>m</message></message>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		nodes := ParseElements(s)
		again := ParseElements(String(nodes))
		if dump(again) != dump(nodes) {
			t.Fatalf("%q: parsed %s, after a round trip %s", s, dump(nodes), dump(again))
		}
		if !strings.Contains(s, "<") {
			ok := len(nodes) == 0 && s == "" ||
				len(nodes) == 1 && nodes[0].Type == "text" && nodes[0].Text == unescape(s)
			if !ok {
				t.Fatalf("%q without markup parsed as %s", s, dump(nodes))
			}
		}
		checkSegments(t, Segments(s, "712345678"), 0)
	})
}

func checkSegments(t *testing.T, segs []qq.Segment, depth int) {
	t.Helper()
	if depth > 2*maxForwardDepth+2 {
		t.Fatalf("segments nested %d deep", depth)
	}
	for _, s := range segs {
		if s.Type == "" {
			t.Fatalf("segment without type: %#v", s)
		}
		if s.Quoted != nil {
			checkSegments(t, s.Quoted.Segments, depth+1)
		}
		for _, m := range s.Forward {
			checkSegments(t, m.Segments, depth+1)
		}
	}
}

// FuzzDecodeEvent: no frame panics, and a decoded message is consistent.
func FuzzDecodeEvent(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if fr, err := DecodeFrame(b); err == nil && fr.Op == opEvent {
			f.Add([]byte(fr.Body))
		}
	}
	f.Add([]byte(`{"type":"message-created","message":{"id":1,"content":"<quote id=\"2\">x"},"user":{"id":1},"channel":{"id":"private:1","type":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = DecodeFrame(body)
		_, _ = DecodeReady(body)
		ev, kind, _, err := DecodeEvent(body)
		if err != nil {
			return
		}
		switch kind {
		case KindMessage, KindOwnMessage:
			switch ev.Kind {
			case qq.GroupMessage:
				if ev.GroupID <= 0 {
					t.Fatalf("group message in group %d", ev.GroupID)
				}
			case qq.PrivateMessage:
			default:
				t.Fatalf("message of kind %v", ev.Kind)
			}
			checkSegments(t, ev.Message.Segments, 0)
		case KindMemberLeft:
			if ev.Kind != qq.MemberLeft || ev.GroupID <= 0 || ev.UserID <= 0 || ev.UserID == ev.SelfID {
				t.Fatalf("member left with kind %v, group %d, user %d", ev.Kind, ev.GroupID, ev.UserID)
			}
		case KindOther:
		default:
			t.Fatalf("no error but kind %v", kind)
		}
	})
}

package format_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/minecraft/queqiao"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/milky"
	"github.com/mcqq/bridge/qq/onebot"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// checkGolden compares got with testdata/<name>.golden, or rewrites the file
// with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./format -run %s -update)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the output; diff it with -update and review:\n%s", path, got)
	}
}

// renderBoth writes one titled entry with the component JSON in both styles,
// each checked against the schema servers parse it with.
func renderBoth(t *testing.T, b *strings.Builder, title string, cs []minecraft.Component) {
	t.Helper()
	fmt.Fprintf(b, "## %s\n", title)
	for _, style := range []minecraft.Style{minecraft.StyleLegacy, minecraft.StyleModern} {
		out, err := minecraft.Marshal(cs, style)
		if err != nil {
			t.Fatalf("%s: %v", title, err)
		}
		if err := minecraft.ValidateJSON(out, style); err != nil && len(cs) > 0 { // [] is content, never sent
			t.Errorf("%s, %s: a server would refuse this: %v", title, style, err)
		}
		fmt.Fprintf(b, "%s: %s\n", style, out)
	}
}

// TestGoldenOneBotCatalogs renders every segment of the NapCat and LLBot
// catalogs, alone and as one message, decoded by the OneBot decoder.
func TestGoldenOneBotCatalogs(t *testing.T) {
	for _, impl := range []string{"napcat", "llbot"} {
		t.Run(impl, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", impl+"_incoming_segments_catalog.json"))
			if err != nil {
				t.Fatal(err)
			}
			var catalog struct {
				Segments []struct {
					Name    string          `json:"name"`
					Segment json.RawMessage `json:"segment"`
				} `json:"segments"`
			}
			if err := json.Unmarshal(raw, &catalog); err != nil {
				t.Fatal(err)
			}
			var all []qq.Segment
			var b strings.Builder
			for _, entry := range catalog.Segments {
				segs, err := onebot.DecodeSegments(entry.Segment)
				if err != nil || len(segs) != 1 {
					t.Fatalf("%s: decoded %d segments, %v", entry.Name, len(segs), err)
				}
				all = append(all, segs...)
				renderBoth(t, &b, entry.Name, format.SegmentsToGame(segs, nil, format.Options{}))
			}
			renderBoth(t, &b, "whole message with group name and ChatImage", format.QQToGame(catalogMessage(all), format.Options{ShowGroupName: true, ChatImage: true}))
			checkGolden(t, impl+"_segments", b.String())
		})
	}
}

// TestGoldenMilkyCatalog does the same for the Milky catalog.
func TestGoldenMilkyCatalog(t *testing.T) {
	raw, err := os.ReadFile("testdata/milky_incoming_segments_catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	var catalog struct {
		Segments json.RawMessage `json:"segments"`
	}
	if err := json.Unmarshal(raw, &catalog); err != nil {
		t.Fatal(err)
	}
	segs, err := milky.DecodeSegments(catalog.Segments)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, s := range segs {
		renderBoth(t, &b, fmt.Sprintf("%d %s", i, s.Type), format.SegmentsToGame([]qq.Segment{s}, nil, format.Options{}))
	}
	renderBoth(t, &b, "whole message with group name and ChatImage", format.QQToGame(catalogMessage(segs), format.Options{ShowGroupName: true, ChatImage: true}))
	checkGolden(t, "milky_segments", b.String())
}

func catalogMessage(segs []qq.Segment) format.QQMessage {
	return format.QQMessage{
		GroupID:   712345678,
		GroupName: "我的世界交流群",
		Sender:    qq.Member{UserID: 1019283746, Nickname: "alice", Card: "Alice"},
		Segments:  segs,
		Reply:     &format.Reply{Author: "Bob", Quoted: []qq.Segment{qq.Text("服务器什么时候维护？")}},
		Names:     map[int64]string{1357924680: "Bob"},
	}
}

// TestGoldenQueQiaoEvents renders the QQ line of every QueQiao event fixture.
// Deaths and advancements also get their line with the translation keys
// removed, which is what a server the tables do not cover produces.
func TestGoldenQueQiaoEvents(t *testing.T) {
	files, err := filepath.Glob("testdata/event_*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no event fixtures: %v", err)
	}
	sort.Strings(files)
	var b strings.Builder
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		ev, err := queqiao.DecodeEvent(raw)
		if err != nil {
			fmt.Fprintf(&b, "%s: decode error: %v\n", name, err)
			continue
		}
		fmt.Fprintf(&b, "%s: %s\n", name, qqLine(ev))
		if ev.Kind == minecraft.Death || ev.Kind == minecraft.Advancement {
			fmt.Fprintf(&b, "%s (no keys): %s\n", name, qqLine(withoutKeys(ev)))
		}
	}
	checkGolden(t, "queqiao_events", b.String())
}

func qqLine(ev minecraft.Event) string {
	line, ok := format.GameToQQ(ev, format.DefaultTemplates(), "")
	if !ok {
		return "(not relayed)"
	}
	return line
}

// withoutKeys drops every translation key and the advancement id, leaving
// only the server's texts.
func withoutKeys(ev minecraft.Event) minecraft.Event {
	var strip func(minecraft.Translation) minecraft.Translation
	strip = func(t minecraft.Translation) minecraft.Translation {
		out := minecraft.Translation{Text: t.Text}
		for _, a := range t.Args {
			out.Args = append(out.Args, strip(a))
		}
		return out
	}
	ev.Death = strip(ev.Death)
	ev.Advancement.ID = ""
	ev.Advancement.Title = strip(ev.Advancement.Title)
	ev.Advancement.Announcement = strip(ev.Advancement.Announcement)
	return ev
}

package satori

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// dump writes a tree compactly: text as a quoted string, elements as
// name{k=v …}[children].
func dump(nodes []Element) string {
	var parts []string
	for _, n := range nodes {
		if n.Type == "text" {
			parts = append(parts, fmt.Sprintf("%q", n.Text))
			continue
		}
		s := n.Type
		if len(n.Attrs) > 0 {
			var kv []string
			for _, k := range slices.Sorted(maps.Keys(n.Attrs)) {
				kv = append(kv, k+"="+n.Attrs[k])
			}
			s += "{" + strings.Join(kv, " ") + "}"
		}
		if len(n.Children) > 0 {
			s += "[" + dump(n.Children) + "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestParseElements(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"entities", `a &amp; b &lt;c&gt; &quot;q&quot; &apos;&#20013;&#x6587;`, `"a & b <c> \"q\" '中文"`},
		{"unknown and invalid entities stay", `&nbsp; &#0; &#xD800; &#99999999; &; & &amp`, `"&nbsp; &#0; &#xD800; &#99999999; &; & &amp"`},
		{"self-closing and nested", `<quote id="1"><at id="2"/>hi</quote>!`, `quote{id=1}[at{id=2} "hi"] "!"`},
		{"hyphenated and camelCase names", `<img src="u" sub-type="1"/><img subType="1" emojiPackageId="7" ID="x"/>`,
			`img{src=u sub-type=1} img{emoji-package-id=7 id=x sub-type=1}`},
		{"vendor element with nested image", `<llonebot:market-face emoji-id="a3"><img src="https://x/raw300.gif"/></llonebot:market-face>`,
			`llonebot:market-face{emoji-id=a3}[img{src=https://x/raw300.gif}]`},
		{"quotes, unquoted, bare and no-", `<x a='1 "2"' b=3 c no-d e = "f" />`, `x{a=1 "2" b=3 c=true d=false e=f}`},
		{"attribute entities", `<x data="{&quot;a&quot;:&quot;&lt;&amp;&gt;&quot;}"/>`, `x{data={"a":"<&>"}}`},
		{"element names are case-insensitive", `<AT id="1"/><Quote id="2">x</QUOTE>`, `at{id=1} quote{id=2}["x"]`},
		{"comments are skipped", `a<!-- note -->b`, `"ab"`},
		// Malformed input keeps its text.
		{"lone less-than", `a < b and 1<2`, `"a < b and 1<2"`},
		{"tag never ends", `hi <at id="1"`, `"hi <at id=\"1\""`},
		{"comment never ends", `x <!-- y`, `"x <!-- y"`},
		{"unclosed element keeps its children", `<quote id="1">quoted <b>bold`, `quote{id=1}["quoted " b["bold"]]`},
		{"stray closing tag is dropped", `a</b>c`, `"ac"`},
		{"crossed tags close inner ones", `<b><i>x</b>y`, `b[i["x"]] "y"`},
		{"quote left open runs to the end of the tag", `<x a="1>t`, `x{a=1}["t"]`},
		{"name must start with a letter", `<1a> <-x/> <>`, `"<1a> <-x/> <>"`},
		{"empty", ``, ``},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := dump(ParseElements(c.in)); got != c.want {
				t.Errorf("ParseElements(%q)\n got  %s\n want %s", c.in, got, c.want)
			}
		})
	}
}

// Nesting deeper than maxDepth drops the extra tags but not their text.
func TestParseElementsBoundsDepth(t *testing.T) {
	in := strings.Repeat("<b>", 100) + "deep" + strings.Repeat("</b>", 100) + "after"
	nodes := ParseElements(in)
	depth := 0
	for n := nodes; len(n) > 0; n = n[0].Children {
		depth++
	}
	if depth > maxDepth+1 {
		t.Errorf("tree is %d deep", depth)
	}
	var texts []string
	var walk func([]Element)
	walk = func(ns []Element) {
		for _, n := range ns {
			if n.Type == "text" {
				texts = append(texts, n.Text)
			}
			walk(n.Children)
		}
	}
	walk(nodes)
	if got := strings.Join(texts, "|"); got != "deep|after" {
		t.Errorf("text %q, want deep|after", got)
	}
}

// String writes what ParseElements reads back unchanged.
func TestStringRoundTrips(t *testing.T) {
	for _, in := range []string{
		`<quote id="2|712345678|48210"><at id="2" name="B&amp;b"/>a &lt; b</quote>`,
		`<llonebot:ark data="{&quot;x&quot;:1}"/>text &amp; more`,
		`<p>line<br/></p>`,
	} {
		nodes := ParseElements(in)
		again := ParseElements(String(nodes))
		if dump(again) != dump(nodes) {
			t.Errorf("%q: %s after a round trip, was %s", in, dump(again), dump(nodes))
		}
	}
}

func TestEscape(t *testing.T) {
	if got := EscapeText(`a & <b> "c"`); got != `a &amp; &lt;b&gt; "c"` {
		t.Errorf("EscapeText = %q", got)
	}
	if got := EscapeAttr(`a & <b> "c"`); got != `a &amp; &lt;b&gt; &quot;c&quot;` {
		t.Errorf("EscapeAttr = %q", got)
	}
}

// BenchmarkSegments decodes a typical LLBot group message, and 1 MiB of
// the shapes that would be quadratic in a naive parser (unclosed tags,
// many small text pieces, deep nesting).
func BenchmarkSegments(b *testing.B) {
	for name, content := range map[string]string{
		"message": `<quote id="2|712345678|48210">服务器今晚几点维护？</quote><at id="1357924680" name="Bob"/> 今晚8点服务器维护, [重要] 请提前下线 &amp; 保存<face id="14" type="1" platform="llonebot"/><img src="https://multimedia.nt.qq.com.cn/download?appid=1407&amp;fileid=EhTQ8bXk2F0a1z3c9Q&amp;spec=0" width="1080" height="1920" sub-type="0"/>`,
		"hostile": strings.Repeat(`<a <b>x</b>&amp;<!--`, (1<<20)/19),
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(content)))
			b.ReportAllocs()
			for b.Loop() {
				Segments(content, "712345678")
			}
		})
	}
}

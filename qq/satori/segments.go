package satori

import (
	"strings"

	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

// maxForwardDepth bounds how deep forwarded messages inside forwarded
// messages are kept.
const maxForwardDepth = 4

// Segments turns a Satori element string into the segments the OneBot
// decoder produces for the same QQ message, so the relay and the formatter
// cannot tell the protocols apart:
//
//	text                         → text (adjacent pieces merged)
//	<at id name/>, <at type=all> → at{Target, Name}, at{Target: all}
//	<img src sub-type summary>   → image{URL, Summary, Sticker}
//	<audio>, <video>, <file>     → record, video, file{URL, Name}
//	<quote id>…</quote>          → reply{ID}, Quoted = its content and author
//	<face id>                    → face{ID}; dice and rps for their face ids
//	                               (a nested <img> is Koishi's picture of
//	                               it, not content)
//	<llonebot:market-face>       → mface{Summary, URL}
//	<llonebot:ark data>          → json{Payload}
//	<message forward>            → forward, its <message> children as Forward
//	<br/>, <p>                   → line breaks
//
// Elements named like a OneBot segment (Koishi passes unknown OneBot
// segments on that way: <mface>, <json>, <dice>, …) become that segment,
// their attributes read as its OneBot data ("-" → "_" in the names) by
// botkit.FromOneBot. Styling and other unknown elements with children give
// their children; unknown empty ones become a segment of their own type,
// shown as "[type]".
//
// channel qualifies quote ids for look-ups (see messageID); "" leaves them
// as sent.
func Segments(content, channel string) []qq.Segment {
	return toSegments(ParseElements(content), channel, 0)
}

func toSegments(nodes []Element, channel string, depth int) []qq.Segment {
	var b segmentBuilder
	b.add(nodes, channel, depth)
	b.flush()
	return b.segs
}

// segmentBuilder collects segments, merging adjacent text; text waits in
// pending so that many small pieces cost linear time.
type segmentBuilder struct {
	segs    []qq.Segment
	pending strings.Builder
}

func (b *segmentBuilder) text(s string) { b.pending.WriteString(s) }

func (b *segmentBuilder) flush() {
	if b.pending.Len() > 0 {
		b.segs = append(b.segs, qq.Text(b.pending.String()))
		b.pending.Reset()
	}
}

func (b *segmentBuilder) seg(s qq.Segment) {
	b.flush()
	b.segs = append(b.segs, s)
}

// endsLine reports whether the collected content is empty or ends with a
// line break, so <p> adds no blank line.
func (b *segmentBuilder) endsLine() bool {
	if b.pending.Len() > 0 {
		return strings.HasSuffix(b.pending.String(), "\n")
	}
	return len(b.segs) == 0
}

// oneBotTypes are segment types that Koishi, over its OneBot adapter, passes
// on as elements of the same name with the segment's data as attributes.
var oneBotTypes = map[string]bool{
	qq.SegMFace: true, qq.SegJSON: true, qq.SegXML: true, qq.SegDice: true, qq.SegRPS: true,
	qq.SegPoke: true, qq.SegShake: true, qq.SegMarkdown: true, qq.SegForward: true, qq.SegReply: true,
	"music": true, "contact": true, "location": true, "share": true,
}

// metaElements describe a message (its author, channel, …) rather than
// being part of its content.
var metaElements = map[string]bool{"author": true, "user": true, "member": true, "channel": true, "guild": true}

// inlineElements only style their children.
var inlineElements = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true, "del": true,
	"spl": true, "code": true, "sup": true, "sub": true, "span": true, "font": true, "template": true,
}

// Face ids QQ uses for the dice and rock-paper-scissors "faces", which
// OneBot reports as dice and rps segments.
const (
	faceDice = "358"
	faceRPS  = "359"
)

func (b *segmentBuilder) add(nodes []Element, channel string, depth int) {
	for _, n := range nodes {
		switch n.Type {
		case "text":
			b.text(n.Text)
		case "at":
			b.at(n)
		case "img", "image":
			b.seg(media(qq.SegImage, n))
		case "audio", "record":
			b.seg(media(qq.SegRecord, n))
		case "video":
			b.seg(media(qq.SegVideo, n))
		case "file":
			d := mediaData(n)
			if d["name"] == "" {
				d["name"] = n.Attrs["title"]
			}
			b.seg(botkit.FromOneBot(qq.SegFile, d))
		case "quote":
			b.seg(quote(n, channel, depth))
		case "face", "emoji":
			b.seg(face(n))
		case "llonebot:market-face":
			b.seg(marketFace(n))
		case "llonebot:ark":
			b.seg(qq.Segment{Type: qq.SegJSON, Payload: n.Attrs["data"]})
		case "message":
			if n.Attrs["forward"] == "true" {
				b.seg(forward(n, channel, depth))
			} else {
				b.add(n.Children, channel, depth)
			}
		case "br":
			b.text("\n")
		case "p":
			if !b.endsLine() {
				b.text("\n")
			}
			b.add(n.Children, channel, depth)
			b.text("\n")
		case "a":
			if len(n.Children) == 0 {
				b.text(n.Attrs["href"])
			} else {
				b.add(n.Children, channel, depth)
			}
		default:
			switch {
			case metaElements[n.Type]:
			case n.Type == qq.SegMFace:
				b.seg(marketFace(n))
			case oneBotTypes[n.Type]:
				s := botkit.FromOneBot(n.Type, data(n))
				if n.Type == qq.SegReply {
					s.ID = messageID(channel, s.ID)
				}
				b.seg(s)
			case inlineElements[n.Type] || len(n.Children) > 0:
				b.add(n.Children, channel, depth)
			default:
				b.seg(qq.Segment{Type: n.Type})
			}
		}
	}
}

// data copies an element's attributes as segment data, "-" → "_" in the
// names, leaving out skip.
func data(n Element, skip ...string) map[string]string {
	d := make(map[string]string, len(n.Attrs)+1)
	for k, v := range n.Attrs {
		d[strings.ReplaceAll(k, "-", "_")] = v
	}
	for _, k := range skip {
		delete(d, k)
	}
	return d
}

func (b *segmentBuilder) at(n Element) {
	switch t := n.Attrs["type"]; {
	case t == "all" || t == "here":
		b.seg(qq.Segment{Type: qq.SegAt, Target: qq.MentionAll})
	case n.Attrs["id"] != "":
		b.seg(qq.Segment{Type: qq.SegAt, Target: n.Attrs["id"], Name: n.Attrs["name"]})
	case n.Attrs["name"] != "":
		b.text("@" + n.Attrs["name"])
	}
}

// media is an img, audio, video or file element: its attributes under the
// OneBot names botkit.FromOneBot reads (src → url, sub-type → sub_type).
func media(typ string, n Element) qq.Segment {
	return botkit.FromOneBot(typ, mediaData(n))
}

func mediaData(n Element) map[string]string {
	d := data(n, "src")
	d["url"] = n.Attr("src", "url")
	return d
}

// marketFace is LLBot's <llonebot:market-face> or Koishi's <mface>; its
// picture may be a nested <img>.
func marketFace(n Element) qq.Segment {
	s := botkit.FromOneBot(qq.SegMFace, data(n))
	if s.URL == "" {
		s.URL = nestedImage(n)
	}
	return s
}

func face(n Element) qq.Segment {
	switch id := n.Attrs["id"]; id {
	case faceDice:
		return qq.Segment{Type: qq.SegDice}
	case faceRPS:
		return qq.Segment{Type: qq.SegRPS}
	default:
		return qq.Segment{Type: qq.SegFace, ID: id}
	}
}

// nestedImage is the src of the first <img> inside n (a market face's
// picture).
func nestedImage(n Element) string {
	for _, c := range n.Children {
		if c.Type == "img" || c.Type == "image" {
			return c.Attr("src", "url")
		}
	}
	return ""
}

// quote is a reply whose quoted message is inline: the content is the
// element's children, the author its <author> or <user> child (Koishi also
// adds <member nick>, the card). A quote without children leaves Quoted
// nil, so the relay fetches the message by id.
func quote(n Element, channel string, depth int) qq.Segment {
	id := messageID(channel, n.Attrs["id"])
	s := qq.Segment{Type: qq.SegReply, ID: id}
	if len(n.Children) == 0 {
		return s
	}
	q := &qq.Message{ID: id}
	var content []Element
	for _, c := range n.Children {
		switch c.Type {
		case "author", "user":
			q.Sender.UserID = parseQQ(c.Attrs["id"])
			q.Sender.Nickname = c.Attr("name", "nick")
		case "member":
			q.Sender.Card = c.Attr("nick", "name")
		case "channel", "guild", "quote": // a quote's own quote is not shown
		default:
			content = append(content, c)
		}
	}
	if depth < maxForwardDepth {
		q.Segments = toSegments(content, channel, depth+1)
	}
	s.Quoted = q
	return s
}

// forward is a forwarded chat record: each <message> child, with its
// <author>, is one message.
func forward(n Element, channel string, depth int) qq.Segment {
	s := qq.Segment{Type: qq.SegForward, ID: n.Attrs["id"]}
	if depth >= maxForwardDepth {
		return s
	}
	for _, c := range n.Children {
		if c.Type != "message" {
			continue
		}
		var m qq.Message
		var content []Element
		for _, part := range c.Children {
			if part.Type == "author" || part.Type == "user" {
				m.Sender.UserID = parseQQ(part.Attrs["id"])
				m.Sender.Nickname = part.Attr("name", "nick")
				continue
			}
			content = append(content, part)
		}
		m.Segments = toSegments(content, channel, depth+1)
		s.Forward = append(s.Forward, m)
	}
	return s
}

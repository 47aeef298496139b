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
//	<at id name/>, <at type=all> → at{qq, name}, at{qq:"all"}
//	<img src sub-type summary>   → image{url, sub_type, summary, file}
//	<audio>, <video>, <file>     → record, video, file{url, name}
//	<quote id>…</quote>          → reply{id}, Quoted = its content and author
//	<face id name type>          → face{id, name, sub_type} (a nested <img> is
//	                               Koishi's picture of it, not content)
//	<llonebot:market-face>       → mface{summary, url, emoji_id, …}
//	<llonebot:ark data>          → json{data}
//	<message forward>            → forward, its <message> children as Forward
//	<br/>, <p>                   → line breaks
//
// Elements named like a OneBot segment (Koishi passes unknown OneBot
// segments on that way: <mface>, <json>, <dice>, …) become that segment with
// their attributes as data. Styling and other unknown elements with children
// give their children; unknown empty ones become a segment of their own
// type, shown as "[type]". Attribute names become data keys with "-" → "_".
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
			d := data(n, "src")
			d["url"] = n.Attr("src", "url")
			if t := n.Attr("title"); t != "" && d["file"] == "" {
				d["file"] = t
			}
			stickerImage(d)
			b.seg(qq.Segment{Type: qq.SegImage, Data: d})
		case "audio", "record":
			b.seg(media(qq.SegRecord, n))
		case "video":
			b.seg(media(qq.SegVideo, n))
		case "file":
			s := media(qq.SegFile, n)
			if s.Data["name"] == "" {
				if t := n.Attr("title"); t != "" {
					s.Data["name"] = t
				}
			}
			if strings.TrimSpace(s.Data["name"]) == "" && botkit.LooksLikeFileName(s.Data["file"]) {
				s.Data["name"] = strings.TrimSpace(s.Data["file"])
			}
			b.seg(s)
		case "quote":
			b.seg(quote(n, channel, depth))
		case "face", "emoji":
			b.seg(face(n))
		case "llonebot:market-face":
			d := data(n)
			if d["url"] == "" {
				d["url"] = nestedImage(n)
			}
			b.seg(qq.Segment{Type: qq.SegMFace, Data: d})
		case "llonebot:ark":
			b.seg(qq.Segment{Type: qq.SegJSON, Data: map[string]string{"data": n.Attrs["data"]}})
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
			case oneBotTypes[n.Type]:
				s := qq.Segment{Type: n.Type, Data: data(n)}
				if n.Type == qq.SegReply {
					s.Data["id"] = messageID(channel, s.Data["id"])
				}
				if n.Type == qq.SegMFace && s.Data["url"] == "" {
					s.Data["url"] = nestedImage(n)
				}
				b.seg(s)
			case inlineElements[n.Type] || len(n.Children) > 0:
				b.add(n.Children, channel, depth)
			default:
				b.seg(qq.Segment{Type: n.Type, Data: data(n)})
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
		b.seg(qq.Segment{Type: qq.SegAt, Data: map[string]string{"qq": "all"}})
	case n.Attrs["id"] != "":
		d := map[string]string{"qq": n.Attrs["id"]}
		if name := n.Attrs["name"]; name != "" {
			d["name"] = name
		}
		b.seg(qq.Segment{Type: qq.SegAt, Data: d})
	case n.Attrs["name"] != "":
		b.text("@" + n.Attrs["name"])
	}
}

// stickerImage gives an image's data the neutral sticker mark: sub_type
// (LLBot's sub-type attribute, or a subType one) "1" when the sub type or
// the summary says it is a sticker (botkit.IsStickerImage).
func stickerImage(d map[string]string) {
	if sub, ok := d["subType"]; ok {
		delete(d, "subType")
		if strings.TrimSpace(d["sub_type"]) == "" {
			d["sub_type"] = sub
		}
	}
	if botkit.IsStickerImage(d["sub_type"], d["summary"]) {
		if sub := strings.TrimSpace(d["sub_type"]); sub == "" || sub == "0" {
			d["sub_type"] = "1"
		}
	}
}

// media is an audio, video or file element: src → url.
func media(typ string, n Element) qq.Segment {
	d := data(n, "src")
	d["url"] = n.Attr("src", "url")
	return qq.Segment{Type: typ, Data: d}
}

func face(n Element) qq.Segment {
	id := n.Attrs["id"]
	switch id {
	case faceDice:
		return qq.Segment{Type: qq.SegDice, Data: map[string]string{}}
	case faceRPS:
		return qq.Segment{Type: qq.SegRPS, Data: map[string]string{}}
	}
	d := map[string]string{"id": id}
	if name := n.Attrs["name"]; name != "" {
		d["name"] = name
	}
	if t := n.Attrs["type"]; t != "" {
		d["sub_type"] = t // LLBot's face type, which its OneBot side calls sub_type
	}
	return qq.Segment{Type: qq.SegFace, Data: d}
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
	s := qq.Segment{Type: qq.SegReply, Data: map[string]string{"id": id}}
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
	s := qq.Segment{Type: qq.SegForward, Data: map[string]string{}}
	if id := n.Attrs["id"]; id != "" {
		s.Data["id"] = id
	}
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

package botkit

import (
	"strings"
	"unicode/utf8"

	"github.com/mcqq/bridge/qq"
)

// IsStickerImage tells an animated sticker or market face that arrives as an
// image from a picture. subType is the image's sub type in OneBot's
// spelling: "" or "0" for a picture, anything else a sticker. summary is
// the text QQ shows for it: a picture carries none or the plain "[图片]"
// (Milky implementations put that on every picture), while a summary that
// names something ("[动画表情]", "[狗头]") marks a sticker even without a
// sub type (NapCat sends market faces as images that way).
func IsStickerImage(subType, summary string) bool {
	if sub := strings.TrimSpace(subType); sub != "" && sub != "0" {
		return true
	}
	summary = strings.TrimSpace(summary)
	return summary != "" && summary != "[图片]"
}

// LooksLikeFileName accepts "modpack-1.20.1.zip" but not a path, a URL or
// an implementation's opaque file token, which OneBot bots put in the same
// "file" field that other builds fill with the file's name.
func LooksLikeFileName(s string) bool {
	s = strings.TrimSpace(s)
	dot := strings.LastIndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 || len(s)-dot > 11 || utf8.RuneCountInString(s) > 120 {
		return false
	}
	return !strings.ContainsAny(s, `/\:`)
}

// FromOneBot builds a neutral segment from OneBot-style data: the segment's
// type and its data as strings under OneBot's keys. The OneBot decoder (both
// message formats) and the Satori and Milky mappers, which rename their
// fields to those keys first, all end here, so each key's meaning is
// decided once:
//
//	text.text, markdown.content         → Text
//	at.qq, at.name                      → Target, Name
//	face.id, reply.id, forward.id       → ID
//	image, mface, record, video, file:
//	  url                               → URL (as sent; callers unescape)
//	image.summary, mface.summary        → Summary
//	image.sub_type (LLBot: subType)     → Sticker, with the summary
//	                                      (IsStickerImage)
//	file.name, else file.file when it   → Name
//	  holds a name (LooksLikeFileName)
//	json.data, xml.data                 → Payload
//	dice.result, rps.result             → Result
//
// Other keys and the data of other types carry nothing the bridge uses.
func FromOneBot(typ string, data map[string]string) qq.Segment {
	s := qq.Segment{Type: typ}
	switch typ {
	case qq.SegText:
		s.Text = data["text"]
	case qq.SegMarkdown:
		s.Text = data["content"]
	case qq.SegAt:
		s.Target, s.Name = data["qq"], data["name"]
	case qq.SegFace, qq.SegReply, qq.SegForward:
		s.ID = data["id"]
	case qq.SegImage:
		s.URL, s.Summary = data["url"], data["summary"]
		sub := data["sub_type"]
		if strings.TrimSpace(sub) == "" {
			sub = data["subType"]
		}
		s.Sticker = IsStickerImage(sub, s.Summary)
	case qq.SegMFace:
		s.URL, s.Summary = data["url"], data["summary"]
	case qq.SegRecord, qq.SegVideo:
		s.URL = data["url"]
	case qq.SegFile:
		s.URL, s.Name = data["url"], strings.TrimSpace(data["name"])
		if s.Name == "" && LooksLikeFileName(data["file"]) {
			s.Name = strings.TrimSpace(data["file"])
		}
	case qq.SegJSON, qq.SegXML:
		s.Payload = data["data"]
	case qq.SegDice, qq.SegRPS:
		s.Result = data["result"]
	}
	return s
}

// OneBotData is the inverse of FromOneBot: the segment's fields under
// OneBot's keys, empty ones left out (as OneBot bots leave them out of CQ
// codes). A sticker image gets sub_type "1".
func OneBotData(s qq.Segment) map[string]string {
	data := map[string]string{}
	set := func(key, value string) {
		if value != "" {
			data[key] = value
		}
	}
	switch s.Type {
	case qq.SegText:
		data["text"] = s.Text // even when empty: a text segment is its text
	case qq.SegMarkdown:
		set("content", s.Text)
	case qq.SegAt:
		set("qq", s.Target)
		set("name", s.Name)
	case qq.SegFace, qq.SegReply, qq.SegForward:
		set("id", s.ID)
	case qq.SegImage:
		set("url", s.URL)
		set("summary", s.Summary)
		if s.Sticker {
			data["sub_type"] = "1"
		}
	case qq.SegMFace:
		set("url", s.URL)
		set("summary", s.Summary)
	case qq.SegRecord, qq.SegVideo:
		set("url", s.URL)
	case qq.SegFile:
		set("url", s.URL)
		set("name", s.Name)
	case qq.SegJSON, qq.SegXML:
		set("data", s.Payload)
	case qq.SegDice, qq.SegRPS:
		set("result", s.Result)
	}
	return data
}

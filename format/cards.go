package format

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"

	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/minecraft"
)

// card is what the game shows of a json (ark) or xml card: "[卡片:Title]",
// a hover with Lines, and a click that opens URL.
type card struct {
	Title string   // "" when the card names nothing: shown as "[卡片消息]"
	Lines []string // hover lines: description, preview of a forwarded chat
	URL   string   // http(s) link, "" when none
}

// component renders a decoded card.
func (c card) component() minecraft.Component {
	text := "[卡片消息]"
	if c.Title != "" {
		text = "[卡片:" + c.Title + "]"
	}
	out := minecraft.Component{Text: text, Color: colorCard}
	hover := c.Lines
	if c.URL != "" {
		out.ClickURL = c.URL
		hover = append(hover, "点击打开链接")
	}
	if len(hover) > 0 {
		out.Hover = hoverText(strings.Join(hover, "\n"))
	}
	return out
}

// badCard is shown for a card whose payload cannot be parsed.
func badCard() minecraft.Component {
	return minecraft.Component{Text: "[卡片]", Color: colorCard}
}

// cardTag matches a leading type tag such as "[分享]" or "[QQ小程序]" that QQ
// puts before a card's prompt.
var cardTag = regexp.MustCompile(`^\[([^\[\]]{1,12})\]\s*`)

// cardTitle turns a prompt or brief into a title: the type tag goes when text
// follows it ("[分享]标题" → "标题"), and a bare tag keeps its name
// ("[聊天记录]" → "聊天记录"), since "[卡片:[分享]标题]" reads badly.
func cardTitle(s string) string {
	s = oneLine(s)
	if m := cardTag.FindStringSubmatchIndex(s); m != nil {
		if rest := strings.TrimSpace(s[m[1]:]); rest != "" {
			return rest
		}
		return strings.TrimSpace(s[m[2]:m[3]])
	}
	return s
}

// arkCard is the part of an ark payload (json segment data, Milky light_app
// json_payload) that names and links a card (where the title is found:
// docs/protocols.md#onebot-segments). Its fields are wirejson.LooseString,
// so one oddly typed field does not make a whole card unreadable.
type arkCard struct {
	Prompt wirejson.LooseString `json:"prompt"`
	Desc   wirejson.LooseString `json:"desc"`
	Meta   struct {
		MiniApp *struct { // com.tencent.miniapp_01
			Title    wirejson.LooseString `json:"title"` // app name
			Desc     wirejson.LooseString `json:"desc"`  // content title
			QQDocURL wirejson.LooseString `json:"qqdocurl"`
			URL      wirejson.LooseString `json:"url"`
		} `json:"detail_1"`
		News *struct { // com.tencent.structmsg, view news
			Title   wirejson.LooseString `json:"title"`
			Desc    wirejson.LooseString `json:"desc"`
			JumpURL wirejson.LooseString `json:"jumpUrl"`
		} `json:"news"`
		Music *struct { // com.tencent.structmsg, view music
			Title   wirejson.LooseString `json:"title"`
			Desc    wirejson.LooseString `json:"desc"` // artist
			JumpURL wirejson.LooseString `json:"jumpUrl"`
		} `json:"music"`
		Forward *struct { // com.tencent.multimsg: a forwarded chat record
			Source  wirejson.LooseString `json:"source"`
			Summary wirejson.LooseString `json:"summary"`
			News    []struct {
				Text wirejson.LooseString `json:"text"`
			} `json:"news"`
		} `json:"detail"`
		Contact *struct { // com.tencent.contact.lua
			Nickname wirejson.LooseString `json:"nickname"`
			Tag      wirejson.LooseString `json:"tag"`
			JumpURL  wirejson.LooseString `json:"jumpUrl"`
		} `json:"contact"`
	} `json:"meta"`
}

// jsonCard renders a json segment's ark payload. The title comes from the
// first of: prompt, the mini-app, news, music, forwarded-chat and contact
// metadata, the top-level desc; the hover carries the description the title
// leaves out and the link is the first http(s) URL the card offers.
func jsonCard(payload string) minecraft.Component {
	var a arkCard
	if err := json.Unmarshal([]byte(payload), &a); err != nil {
		return badCard()
	}
	var c card
	var titles []string
	add := func(title string, url wirejson.LooseString, lines ...wirejson.LooseString) {
		titles = append(titles, title)
		for _, l := range lines {
			if l := oneLine(string(l)); l != "" {
				c.Lines = append(c.Lines, l)
			}
		}
		if c.URL == "" {
			c.URL = httpURL(string(url))
		}
	}
	add(cardTitle(string(a.Prompt)), "")
	m := a.Meta
	if m.MiniApp != nil {
		add(firstNonEmpty(string(m.MiniApp.Desc), string(m.MiniApp.Title)), m.MiniApp.QQDocURL, m.MiniApp.Desc)
		if c.URL == "" {
			c.URL = httpURL(string(m.MiniApp.URL))
		}
	}
	if m.News != nil {
		add(string(m.News.Title), m.News.JumpURL, m.News.Desc)
	}
	if m.Music != nil {
		title := string(m.Music.Title)
		if artist := oneLine(string(m.Music.Desc)); title != "" && artist != "" {
			title += " - " + artist
		}
		add(title, m.Music.JumpURL, m.Music.Desc)
	}
	if m.Forward != nil {
		var lines []wirejson.LooseString
		for i, n := range m.Forward.News {
			if i == maxPreviewLines {
				break
			}
			lines = append(lines, n.Text)
		}
		add(string(m.Forward.Source), "", append(lines, m.Forward.Summary)...)
	}
	if m.Contact != nil {
		add(string(m.Contact.Nickname), m.Contact.JumpURL, m.Contact.Tag)
	}
	add(cardTitle(string(a.Desc)), "")

	c.Title = oneLine(stripSection(firstNonEmpty(titles...)))
	c.Lines = withoutLine(c.Lines, c.Title)
	return c.component()
}

// xmlCard renders an xml segment: the title from the root's brief attribute,
// else the first <title>; the link from the root's url attribute; the first
// <summary> as hover.
func xmlCard(payload string) minecraft.Component {
	dec := xml.NewDecoder(strings.NewReader(payload))
	var brief, url, title, summary string
	var inTitle, inSummary, seenRoot bool
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return badCard()
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !seenRoot {
				seenRoot = true
				for _, attr := range t.Attr {
					switch attr.Name.Local {
					case "brief":
						brief = attr.Value
					case "url":
						url = attr.Value
					}
				}
			}
			inTitle = t.Name.Local == "title" && title == ""
			inSummary = t.Name.Local == "summary" && summary == ""
		case xml.CharData:
			switch {
			case inTitle:
				title += string(t)
			case inSummary:
				summary += string(t)
			}
		case xml.EndElement:
			inTitle, inSummary = false, false
		}
	}
	if !seenRoot {
		return badCard()
	}
	c := card{
		Title: oneLine(stripSection(firstNonEmpty(cardTitle(brief), oneLine(title)))),
		URL:   httpURL(url),
	}
	c.Lines = withoutLine([]string{oneLine(title), oneLine(summary)}, c.Title)
	return c.component()
}

// withoutLine cleans hover lines: "§" codes out, and empty lines or lines
// equal to the title (which the hover would only repeat) dropped.
func withoutLine(lines []string, title string) []string {
	var out []string
	for _, l := range lines {
		if l = stripSection(l); l != "" && l != title {
			out = append(out, l)
		}
	}
	return out
}

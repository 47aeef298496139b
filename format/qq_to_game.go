package format

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// Colours of the pieces of a QQ line in the game (Minecraft colour names).
const (
	colorGroup   = "aqua"         // group name
	colorSender  = "green"        // sender
	colorText    = "white"        // text, markdown, the "：" separator
	colorMention = "green"        // @mentions
	colorFace    = "yellow"       // faces and the little games (dice, rps, poke, shake)
	colorImage   = "light_purple" // images and stickers
	colorMedia   = "gold"         // voice, video, file, chat record
	colorCard    = "gold"         // json/xml cards
	colorReply   = "gray"         // "(回复 @作者)"
	colorUnknown = "gray"         // "[type]" of segment types the bridge does not know
)

// maxPreviewLines is how many lines of a forwarded chat record a hover lists.
const maxPreviewLines = 5

// maxPreviewRunes cuts a single preview line in a hover.
const maxPreviewRunes = 60

// QQMessage is one group message on its way into the game. The relay resolves
// names first (cached look-ups) and passes them in, so rendering does no I/O.
type QQMessage struct {
	GroupID   int64
	GroupName string    // shown first, in aqua, when Options.ShowGroupName
	Sender    qq.Member // green; card, else nickname, else number
	// Players are the player names bound to the sender (accounts), shown
	// in the sender's hover.
	Players []string
	// Segments is the content. A reply segment among them renders nothing
	// itself: the reply shows on the sender line from Reply.
	Segments []qq.Segment
	Reply    *Reply // nil when the message is not a reply
	// Names holds display names (card, else nickname) of @-mentioned users;
	// a missing entry falls back to the at segment's own name, then the number.
	Names map[int64]string
}

// Reply describes the message a QQ message answers.
type Reply struct {
	Author string
	// Quoted is the quoted message's content; nil (or empty) when it could not
	// be fetched, which the hover says instead of showing it.
	Quoted []qq.Segment
}

// Options are the rendering switches from the configuration.
type Options struct {
	ShowGroupName bool // SHOW_GROUP_NAME
	ChatImage     bool // CHAT_IMAGE: images as ChatImage CICode instead of a link
}

// QQToGame renders a QQ group message as the game line that is broadcast:
// [group name] sender [(回复 @作者)] ： content. Content beyond
// MaxContentRunes characters (or a few kilobytes of links and hovers) is cut
// and ends with TruncationMark.
//
// The result is a single unstyled root component holding the line in Extra:
// in a top-level JSON array every later element would inherit the first
// one's style, its hover and click included.
func QQToGame(m QQMessage, o Options) []minecraft.Component {
	line := make([]minecraft.Component, 0, len(m.Segments)+4)
	if o.ShowGroupName {
		line = append(line, groupComponent(m))
	}
	line = append(line, senderComponent(m))
	if r := m.reply(); r != nil {
		line = append(line, replyComponent(*r, m.Names))
	}
	line = append(line, minecraft.Component{Text: "：", Color: colorText})
	line = appendContent(line, m.Segments, m.Names, o, budget{MaxContentRunes, maxContentBytes})
	// The plugin puts its message_prefix ("[鹊桥]") straight before the
	// message; the space keeps the two apart in chat.
	return []minecraft.Component{{Text: " ", Extra: line}}
}

// SegmentsToGame renders message content alone, without a sender line, e.g.
// for hovers and previews. Every component carries its own colour; wrap them
// in an unstyled root before sending them as a top-level array (see QQToGame).
func SegmentsToGame(segs []qq.Segment, names map[int64]string, o Options) []minecraft.Component {
	return appendSegments(make([]minecraft.Component, 0, len(segs)), segs, names, o)
}

func appendSegments(out []minecraft.Component, segs []qq.Segment, names map[int64]string, o Options) []minecraft.Component {
	for _, seg := range segs {
		if c, ok := segmentComponent(seg, names, o); ok {
			out = append(out, c)
		}
	}
	return out
}

// reply is m.Reply, or, when the relay set none, the quoted message a reply
// segment carries inline (Milky) so such a reply still shows as one.
func (m QQMessage) reply() *Reply {
	if m.Reply != nil {
		return m.Reply
	}
	for _, seg := range m.Segments {
		if seg.Type == qq.SegReply && seg.Quoted != nil {
			return &Reply{Author: seg.Quoted.Sender.DisplayName(), Quoted: seg.Quoted.Segments}
		}
	}
	return nil
}

// groupLabel is the group's name, else its number.
func (m QQMessage) groupLabel() string {
	if name := truncateRunes(oneLine(stripSection(m.GroupName)), maxNameRunes); name != "" {
		return name
	}
	return strconv.FormatInt(m.GroupID, 10)
}

func groupComponent(m QQMessage) minecraft.Component {
	return minecraft.Component{Text: m.groupLabel() + " ", Color: colorGroup}
}

func senderComponent(m QQMessage) minecraft.Component {
	name := truncateRunes(oneLine(stripSection(m.Sender.DisplayName())), maxNameRunes)
	if name == "" {
		name = "QQ用户"
	}
	hover := "QQ: " + strconv.FormatInt(m.Sender.UserID, 10) + "\n群: " + m.groupLabel()
	if len(m.Players) > 0 {
		hover += "\n玩家: " + truncateRunes(oneLine(strings.Join(m.Players, ", ")), maxNameRunes)
	}
	return minecraft.Component{Text: name, Color: colorSender, Hover: hoverText(hover)}
}

func replyComponent(r Reply, names map[int64]string) minecraft.Component {
	text := "(回复)"
	if author := truncateRunes(oneLine(stripSection(strings.TrimPrefix(strings.TrimSpace(r.Author), "@"))), maxNameRunes); author != "" {
		text = "(回复 @" + author + ")"
	}
	hover := []minecraft.Component{{Text: "回复内容：", Color: colorReply}}
	// A hover shows text only, so pictures stay "[图片]" even with ChatImage.
	quoted := appendContent(nil, r.Quoted, names, Options{}, budget{maxQuoteRunes, maxQuoteBytes})
	if len(quoted) == 0 {
		hover = append(hover, minecraft.Component{Text: "(原消息不可用)", Color: colorReply})
	} else {
		hover = append(hover, withoutEvents(quoted)...)
	}
	return minecraft.Component{Text: text, Color: colorReply, Hover: hover}
}

// withoutEvents drops hovers and clicks, which the game ignores inside a
// hover and which would only spend the line's byte budget.
func withoutEvents(cs []minecraft.Component) []minecraft.Component {
	out := make([]minecraft.Component, len(cs))
	for i, c := range cs {
		c.Hover, c.ClickURL, c.ClickSuggest = nil, "", ""
		c.Extra = withoutEvents(c.Extra)
		out[i] = c
	}
	return out
}

// segmentComponent renders one segment; ok is false for segments that show
// nothing by design (empty text, the reply marker).
func segmentComponent(seg qq.Segment, names map[int64]string, o Options) (minecraft.Component, bool) {
	switch seg.Type {
	case qq.SegText:
		text := gameText(seg.Text)
		return minecraft.Component{Text: text, Color: colorText}, text != ""
	case qq.SegMarkdown:
		text := stripMarkdown(gameText(seg.Text))
		return minecraft.Component{Text: text, Color: colorText}, text != ""
	case qq.SegReply:
		return minecraft.Component{}, false
	case qq.SegAt:
		return mentionComponent(seg, names), true
	case qq.SegFace:
		return faceComponent(seg), true
	case qq.SegImage:
		if seg.Sticker {
			return stickerComponent(seg), true
		}
		return imageComponent(seg, o), true
	case qq.SegMFace:
		return stickerComponent(seg), true
	case qq.SegRecord:
		return minecraft.Component{Text: "[语音]", Color: colorMedia}, true
	case qq.SegVideo:
		return linked("[视频]", colorMedia, "点击查看视频", seg.URL), true
	case qq.SegFile:
		return fileComponent(seg), true
	case qq.SegForward:
		return forwardComponent(seg), true
	case qq.SegJSON:
		return jsonCard(seg.Payload), true
	case qq.SegXML:
		return xmlCard(seg.Payload), true
	case qq.SegDice:
		text := "[骰子]"
		if r := oneLine(stripSection(strings.TrimSpace(seg.Result))); r != "" {
			text = "[骰子:" + r + "]"
		}
		return minecraft.Component{Text: text, Color: colorFace}, true
	case qq.SegRPS:
		return minecraft.Component{Text: "[猜拳]", Color: colorFace}, true
	case qq.SegPoke:
		return minecraft.Component{Text: "[戳一戳]", Color: colorFace}, true
	case qq.SegShake:
		return minecraft.Component{Text: "[窗口抖动]", Color: colorFace}, true
	}
	name := oneLine(stripSection(seg.Type))
	if name == "" {
		name = "未知消息"
	}
	return minecraft.Component{Text: "[" + name + "]", Color: colorUnknown}, true
}

func mentionComponent(seg qq.Segment, names map[int64]string) minecraft.Component {
	target := strings.TrimSpace(seg.Target)
	if target == qq.MentionAll {
		return minecraft.Component{Text: "@全体成员", Color: colorMention}
	}
	var name string
	if id, err := strconv.ParseInt(target, 10, 64); err == nil {
		name = names[id]
	}
	if name == "" {
		name = strings.TrimPrefix(strings.TrimSpace(seg.Name), "@")
	}
	if name == "" {
		name = target
	}
	if name == "" {
		name = "未知成员"
	}
	return minecraft.Component{Text: "@" + truncateRunes(oneLine(stripSection(name)), maxNameRunes), Color: colorMention}
}

func stickerComponent(seg qq.Segment) minecraft.Component {
	name := strings.TrimSpace(seg.Summary)
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		name = name[1 : len(name)-1]
	}
	name = oneLine(stripSection(name))
	if name == "" {
		name = "动画表情"
	}
	c := minecraft.Component{Text: "[" + name + "]", Color: colorImage, Hover: hoverText(name)}
	c.ClickURL = httpURL(seg.URL)
	return c
}

func imageComponent(seg qq.Segment, o Options) minecraft.Component {
	link := httpURL(seg.URL)
	if o.ChatImage && link != "" {
		// ChatImage (client mod) shows the picture inline from this code.
		return minecraft.Component{Text: "[[CICode,url=" + link + ",name=图片]]", Color: colorImage}
	}
	return linked("[图片]", colorImage, "点击查看图片", link)
}

func fileComponent(seg qq.Segment) minecraft.Component {
	text := "[文件]"
	if name := oneLine(stripSection(strings.TrimSpace(seg.Name))); name != "" {
		text = "[文件:" + name + "]"
	}
	return linked(text, colorMedia, "点击下载文件", seg.URL)
}

func forwardComponent(seg qq.Segment) minecraft.Component {
	c := minecraft.Component{Text: "[聊天记录]", Color: colorMedia, Hover: hoverText("聊天记录")}
	if len(seg.Forward) == 0 {
		return c
	}
	lines := make([]string, 0, maxPreviewLines+1)
	for i, msg := range seg.Forward {
		if i == maxPreviewLines {
			lines = append(lines, "…共"+strconv.Itoa(len(seg.Forward))+"条")
			break
		}
		lines = append(lines, previewLine(msg))
	}
	c.Hover = hoverText(strings.Join(lines, "\n"))
	return c
}

// previewLine is one forwarded message as "sender: text", or just the text
// when the sender is unknown (Milky preview lines already name it).
func previewLine(msg qq.Message) string {
	// Rendered only a little past what is shown, so a huge message costs
	// no more than a short one.
	shown := appendContent(nil, msg.Segments, nil, Options{}, budget{maxPreviewRunes + 1, maxQuoteBytes})
	body := oneLine(minecraft.PlainText(shown))
	body = truncateRunes(body, maxPreviewRunes)
	if sender := oneLine(stripSection(msg.Sender.DisplayName())); sender != "" {
		return sender + ": " + body
	}
	return body
}

// linked is a clickable label: it opens link and says so in the hover. A
// link that is not http(s) is left out, because the game refuses other
// schemes and newer servers reject the whole message over an invalid URL.
func linked(text, color, hover, link string) minecraft.Component {
	c := minecraft.Component{Text: text, Color: color}
	if link = httpURL(link); link != "" {
		c.ClickURL = link
		c.Hover = hoverText(hover)
	}
	return c
}

// httpURL returns raw as a link the game opens — an absolute http(s) URL
// its URI parser accepts — or "" when it is none, so the label stays plain
// text: 1.21.5+ servers reject a whole message over one bad link, and clients
// disconnect over it. Characters a QQ link may carry unescaped (spaces,
// quotes, braces, a lone "%") are percent-encoded first.
func httpURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	if minecraft.ValidURL(raw) {
		return raw
	}
	if escaped := escapeURL(raw); minecraft.ValidURL(escaped) {
		return escaped
	}
	return ""
}

// escapeURL percent-encodes the printable ASCII characters a URI may not
// contain, and a "%" that does not start an escape.
func escapeURL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		bad := strings.IndexByte(" \"<>\\^`{|}", c) >= 0 ||
			c == '%' && (i+2 >= len(s) || !isHexDigit(s[i+1]) || !isHexDigit(s[i+2]))
		if bad {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hoverText(s string) []minecraft.Component {
	return []minecraft.Component{{Text: s}}
}

// oneLine collapses line breaks to spaces and trims, for names and titles;
// control characters go.
func oneLine(s string) string {
	s = safetext.Clean(s)
	if strings.Contains(s, "\n") {
		return strings.Join(strings.Fields(s), " ")
	}
	return strings.TrimSpace(s)
}

// truncateRunes cuts s to at most n characters, marking a cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

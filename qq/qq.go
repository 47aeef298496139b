// Package qq is the protocol-neutral model of the QQ side: messages, segments
// and members as the relay and the formatter see them. The OneBot 11, Milky
// and Satori packages translate their wire shapes into these types.
package qq

import (
	"strconv"
	"strings"
	"time"
)

// Segment types use OneBot 11 names; Milky's and Satori's equivalents are
// mapped onto them (mention → at, market_face → mface, light_app → json, …).
// Types the bridge does not know keep their wire name and are rendered as
// "[type]".
const (
	SegText     = "text"
	SegAt       = "at"
	SegFace     = "face"
	SegImage    = "image"
	SegMFace    = "mface"
	SegRecord   = "record"
	SegVideo    = "video"
	SegFile     = "file"
	SegReply    = "reply"
	SegForward  = "forward"
	SegJSON     = "json"
	SegXML      = "xml"
	SegDice     = "dice"
	SegRPS      = "rps"
	SegPoke     = "poke"
	SegShake    = "shake"
	SegMarkdown = "markdown"
)

// MentionAll is the Target of an at segment that mentions everyone.
const MentionAll = "all"

// Segment is one piece of a QQ message. Type says which fields carry
// something; the others stay empty. The adapters fill them the same way
// whatever the protocol, so the relay and the formatter never see how an
// implementation spelled a field or typed a value:
//
//	text           Text
//	markdown       Text: the markdown source
//	at             Target: the mentioned QQ number, or MentionAll;
//	               Name: the name the bot showed, when it sent one
//	face           ID: the face id ("14")
//	image          URL; Summary: what QQ shows for it ("[动画表情]");
//	               Sticker: an animated sticker or market face, not a picture
//	mface          URL, Summary
//	record, video  URL
//	file           URL; Name: the file's name, when the bot gave it
//	reply          ID: the quoted message (a Message.ID, or the bare
//	               sequence number a Milky reply carries); Quoted
//	forward        ID; Forward
//	json, xml      Payload: the card's JSON or XML text
//	dice, rps      Result
//	poke, shake    nothing else; likewise the types the bridge does not know
//
// For outgoing media, URL is what the bot fetches: an http(s) link, a path
// or base64:// data.
type Segment struct {
	Type    string
	Text    string
	Target  string
	Name    string
	ID      string
	URL     string
	Summary string
	Sticker bool
	Result  string
	Payload string
	// Quoted is the quoted message of a reply when the payload carries it
	// inline (Milky, Satori do); otherwise the relay fetches it by ID.
	Quoted *Message
	// Forward holds the messages of a forwarded chat record when they are
	// available (NapCat with parseMultMsg, Milky's preview lines).
	Forward []Message
}

// Text returns a text segment.
func Text(s string) Segment { return Segment{Type: SegText, Text: s} }

// Member is what the bridge knows about a message's sender.
type Member struct {
	UserID   int64
	Nickname string
	Card     string // group card; "" when unset
	Role     string // owner, admin, member; "" when unknown
}

// DisplayName is the card, else the nickname, else the QQ number.
func (m Member) DisplayName() string {
	if c := strings.TrimSpace(m.Card); c != "" {
		return c
	}
	if n := strings.TrimSpace(m.Nickname); n != "" {
		return n
	}
	if m.UserID != 0 {
		return strconv.FormatInt(m.UserID, 10)
	}
	return ""
}

// Message is one QQ message.
type Message struct {
	// ID identifies the message for reply look-ups: the OneBot message_id, or
	// Milky's "scene:peer:seq".
	ID       string
	Sender   Member
	Segments []Segment
	Time     time.Time
}

// PlainText concatenates the text segments.
func (m Message) PlainText() string {
	var b strings.Builder
	for _, s := range m.Segments {
		if s.Type == SegText {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// EventKind tells which kind of QQ event arrived.
type EventKind int

const (
	GroupMessage EventKind = iota + 1
	PrivateMessage
	// MemberLeft: UserID left GroupID or was removed from it (OneBot
	// group_decrease, Milky group_member_decrease, Satori
	// guild-member-removed).
	MemberLeft
)

func (k EventKind) String() string {
	switch k {
	case GroupMessage:
		return "group_message"
	case PrivateMessage:
		return "private_message"
	case MemberLeft:
		return "member_left"
	}
	return "unknown"
}

// Event is one decoded QQ event the relay acts on. Own messages, heartbeats,
// requests and notices other than a member leaving never become Events.
type Event struct {
	Kind      EventKind
	SelfID    int64
	GroupID   int64  // GroupMessage and MemberLeft
	GroupName string // when the bot reports it
	UserID    int64  // MemberLeft: who left
	Message   Message
}

// APIError is a failed action reported by the QQ bot.
type APIError struct {
	Action  string
	Retcode int64
	Message string
}

func (e *APIError) Error() string {
	return e.Action + ": retcode " + strconv.FormatInt(e.Retcode, 10) + ": " + e.Message
}

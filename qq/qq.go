// Package qq is the protocol-neutral model of the QQ side: messages, segments
// and members as the relay and the formatter see them. The OneBot 11 and Milky
// packages translate their wire shapes into these types.
package qq

import (
	"strconv"
	"strings"
	"time"
)

// Segment types use OneBot 11 names; Milky's equivalents are mapped onto them
// (mention → at, market_face → mface, light_app → json, …). Types the bridge
// does not know keep their wire name and are rendered as "[type]".
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

// Segment is one piece of a QQ message. Data holds the segment's scalar fields
// with numbers and booleans normalised to strings at decode time, so the
// formatter never cares whether an implementation sent "14" or 14.
//
// Conventional keys (OneBot names): text.text; at.qq ("all" for everyone) and
// at.name when the bot supplied it; face.id; image.url, image.summary,
// image.sub_type ("0" or absent for a picture, anything else a sticker: the
// adapters mark stickers known by other signs); mface.summary, mface.url;
// record/video.url; file.name (filled by the adapters), file.url; reply.id; forward.id; json.data;
// xml.data; dice.result; rps.result; markdown.content.
type Segment struct {
	Type string
	Data map[string]string
	// Quoted is the quoted message of a reply when the payload carries it
	// inline (Milky does); otherwise the relay fetches it by reply.id.
	Quoted *Message
	// Forward holds the messages of a forwarded chat record when they are
	// available (NapCat with parseMultMsg, Milky's preview lines).
	Forward []Message
}

// Text returns a text segment.
func Text(s string) Segment { return Segment{Type: SegText, Data: map[string]string{"text": s}} }

// Get returns Data[key] ("" when absent).
func (s Segment) Get(key string) string { return s.Data[key] }

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
			b.WriteString(s.Data["text"])
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

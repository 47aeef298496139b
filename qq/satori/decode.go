package satori

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/qq"
)

// Opcodes of the event stream's frames {"op": …, "body": …}.
const (
	opEvent    = 0 // server → client: an event
	opPing     = 1 // client → server, answered by PONG
	opPong     = 2
	opIdentify = 3 // client → server: token and last sn, first frame
	opReady    = 4 // server → client: the logins, answer to IDENTIFY
	opMeta     = 5 // server → client: proxy URLs and such
)

// Channel types (Satori Channel.Type).
const (
	channelText   = 0
	channelDirect = 1
)

// privatePrefix starts the channel id of a private chat: "private:<QQ>".
const privatePrefix = "private:"

// Frame is one frame of the event stream.
type Frame struct {
	Op   int
	Body json.RawMessage
}

// DecodeFrame reads the {op, body} envelope of an event-stream frame.
func DecodeFrame(b []byte) (Frame, error) {
	var w struct {
		Op   *int            `json:"op"`
		Body json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return Frame{}, fmt.Errorf("satori frame: %w", err)
	}
	if w.Op == nil {
		return Frame{}, errors.New("satori frame: no op")
	}
	return Frame{Op: *w.Op, Body: w.Body}, nil
}

// Satori implementations disagree on JSON types (ids as numbers or strings);
// every field the bridge reads is a wirejson type. Numeric fields are
// wirejson.Number and read through int64, so a fraction is cut off, never an
// error.

type wireUser struct {
	ID   wirejson.String `json:"id"`
	Name wirejson.String `json:"name"`
	Nick wirejson.String `json:"nick"`
}

type wireRole struct {
	ID   wirejson.String `json:"id"`
	Name wirejson.String `json:"name"`
}

type wireMember struct {
	User  *wireUser       `json:"user"`
	Nick  wirejson.String `json:"nick"`
	Name  wirejson.String `json:"name"`
	Roles []wireRole      `json:"roles"`
}

type wireChannel struct {
	ID   wirejson.String `json:"id"`
	Type wirejson.Number `json:"type"`
	Name wirejson.String `json:"name"`
}

type wireGuild struct {
	ID   wirejson.String `json:"id"`
	Name wirejson.String `json:"name"`
}

// wireMessage is a Satori Message: the message of an event, or what
// message.get answers (which carries user, member, channel and guild itself).
type wireMessage struct {
	ID        wirejson.String `json:"id"`
	MessageID wirejson.String `json:"message_id"` // Koishi's older spelling
	Content   wirejson.String `json:"content"`
	CreatedAt wirejson.Number `json:"created_at"` // ms
	User      *wireUser       `json:"user"`
	Member    *wireMember     `json:"member"`
	Channel   *wireChannel    `json:"channel"`
	Guild     *wireGuild      `json:"guild"`
}

type wireLogin struct {
	User     *wireUser       `json:"user"`
	SelfID   wirejson.String `json:"self_id"` // before Satori 1.1
	Platform wirejson.String `json:"platform"`
	Status   wirejson.Number `json:"status"`
}

// wireEvent is the body of an EVENT frame (the keys the bridge reads).
type wireEvent struct {
	Type      wirejson.String `json:"type"`
	SelfID    wirejson.String `json:"self_id"`
	Platform  wirejson.String `json:"platform"`
	Timestamp wirejson.Number `json:"timestamp"` // ms
	Login     *wireLogin      `json:"login"`
	Message   *wireMessage    `json:"message"`
	User      *wireUser       `json:"user"`
	Member    *wireMember     `json:"member"`
	Channel   *wireChannel    `json:"channel"`
	Guild     *wireGuild      `json:"guild"`
}

// Login is the bot account a READY frame names.
type Login struct {
	Platform string // "llonebot", Koishi's "onebot"
	UserID   string // the bot's QQ number
	Name     string
	Online   bool // status ONLINE (1)
}

// loginOnline is Satori's Status.ONLINE.
const loginOnline = 1

// DecodeReady reads the logins of a READY body; those without a platform
// or user id are left out.
func DecodeReady(body []byte) ([]Login, error) {
	var r struct {
		Logins []wireLogin `json:"logins"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("satori READY: %w", err)
	}
	var out []Login
	for _, l := range r.Logins {
		login := Login{Platform: string(l.Platform), UserID: string(l.SelfID), Online: int64(l.Status) == loginOnline}
		if l.User != nil {
			login.UserID = firstNonEmpty(string(l.User.ID), login.UserID)
			login.Name = string(l.User.Name)
		}
		if login.Platform != "" && login.UserID != "" {
			out = append(out, login)
		}
	}
	return out, nil
}

// Kind classifies an event decoded by DecodeEvent.
type Kind int

const (
	// KindMessage is a group or private message from someone else.
	KindMessage Kind = iota + 1
	// KindOwnMessage is a message the bot sent (servers report those too).
	KindOwnMessage
	// KindOther is every other event type and channel kind.
	KindOther
	// KindMemberLeft is guild-member-removed: a qq.MemberLeft event.
	KindMemberLeft
)

func (k Kind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindOwnMessage:
		return "own_message"
	case KindOther:
		return "other"
	case KindMemberLeft:
		return "member_left"
	}
	return "unknown"
}

// DecodeEvent decodes the body of an EVENT frame. message-created becomes a
// qq.Event: a group message when the channel is a group (its id the group
// number), a private one for "private:<QQ>" channels; the sender's card is
// member.nick and the role comes from member.roles when the server sends
// them (Koishi does, LLBot does not). The type is returned for logging.
func DecodeEvent(body []byte) (qq.Event, Kind, string, error) {
	var w wireEvent
	if err := json.Unmarshal(body, &w); err != nil {
		return qq.Event{}, 0, "", fmt.Errorf("satori event: %w", err)
	}
	if w.Type == "" {
		return qq.Event{}, 0, "", errors.New("satori event: no type")
	}
	self := string(w.SelfID)
	if w.Login != nil && w.Login.User != nil && w.Login.User.ID != "" {
		self = string(w.Login.User.ID)
	}
	ev := qq.Event{SelfID: parseQQ(self)}
	switch w.Type {
	case "message-created":
	case "guild-member-removed", "guild-member-deleted": // the second: older servers' name
		return memberLeft(ev, w)
	default:
		return ev, KindOther, string(w.Type), nil
	}
	if w.Message == nil {
		return qq.Event{}, 0, "", errors.New("satori message-created: no message")
	}
	// An event carries user, member, channel and guild beside the message.
	m := *w.Message
	m.User, m.Member = cmpOr(m.User, w.User), cmpOr(m.Member, w.Member)
	m.Channel, m.Guild = cmpOr(m.Channel, w.Channel), cmpOr(m.Guild, w.Guild)
	kind, group, err := m.scene()
	if err != nil {
		return qq.Event{}, 0, "", fmt.Errorf("satori message-created: %w", err)
	}
	if kind == 0 {
		return ev, KindOther, string(w.Type), nil
	}
	msg, err := m.message()
	if err != nil {
		return qq.Event{}, 0, "", fmt.Errorf("satori message-created: %w", err)
	}
	if msg.Time.IsZero() && int64(w.Timestamp) > 0 {
		msg.Time = time.UnixMilli(int64(w.Timestamp))
	}
	ev.Kind, ev.GroupID, ev.Message = kind, group, msg
	if kind == qq.GroupMessage && m.Guild != nil {
		ev.GroupName = string(m.Guild.Name)
	}
	if self != "" && m.User != nil && string(m.User.ID) == self {
		return ev, KindOwnMessage, string(w.Type), nil
	}
	return ev, KindMessage, string(w.Type), nil
}

// memberLeft reads guild-member-removed: guild.id is the group, user.id
// (else member.user.id) who left or was removed. The bot itself leaving is
// no member leaving.
func memberLeft(ev qq.Event, w wireEvent) (qq.Event, Kind, string, error) {
	user := cmpOr(w.User, memberUser(w.Member))
	var group, who int64
	if w.Guild != nil {
		group = parseQQ(string(w.Guild.ID))
	}
	if user != nil {
		who = parseQQ(string(user.ID))
	}
	if group == 0 || who == 0 {
		return qq.Event{}, 0, "", fmt.Errorf("satori %s: no guild id or user id", w.Type)
	}
	if ev.SelfID != 0 && who == ev.SelfID {
		return ev, KindOther, string(w.Type), nil
	}
	ev.Kind, ev.GroupID, ev.UserID = qq.MemberLeft, group, who
	return ev, KindMemberLeft, string(w.Type), nil
}

// cmpOr returns a unless it is nil.
func cmpOr[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// scene tells a group message (with its number) from a private one; kind 0
// is a channel the bridge does not bridge (a QQ guild channel, say).
func (m wireMessage) scene() (kind qq.EventKind, group int64, err error) {
	if m.Channel == nil || m.Channel.ID == "" {
		return 0, 0, errors.New("no channel")
	}
	id := string(m.Channel.ID)
	if strings.HasPrefix(id, privatePrefix) || int64(m.Channel.Type) == channelDirect {
		return qq.PrivateMessage, 0, nil
	}
	if int64(m.Channel.Type) != channelText {
		return 0, 0, nil
	}
	if m.Guild != nil && m.Guild.ID != "" && m.Guild.ID != m.Channel.ID {
		return 0, 0, nil // a channel inside a QQ guild, not a group
	}
	if group = parseQQ(id); group == 0 {
		return 0, 0, nil
	}
	return qq.GroupMessage, group, nil
}

// message converts a Satori message into the neutral model. Its ID and the
// ids of quotes in it carry the channel, so GetMessage can find them.
func (m wireMessage) message() (qq.Message, error) {
	var sender qq.Member
	if u := cmpOr(m.User, memberUser(m.Member)); u != nil {
		sender.UserID = parseQQ(string(u.ID))
		if sender.UserID == 0 {
			return qq.Message{}, fmt.Errorf("user id %q is not a QQ number", string(u.ID))
		}
		sender.Nickname = firstNonEmpty(string(u.Name), string(u.Nick))
	}
	if m.Member != nil {
		sender.Card = string(m.Member.Nick)
		sender.Role = role(m.Member.Roles)
	}
	channel := ""
	if m.Channel != nil {
		channel = string(m.Channel.ID)
	}
	msg := qq.Message{
		ID:       messageID(channel, firstNonEmpty(string(m.ID), string(m.MessageID))),
		Sender:   sender,
		Segments: Segments(string(m.Content), channel),
	}
	if int64(m.CreatedAt) > 0 {
		msg.Time = time.UnixMilli(int64(m.CreatedAt))
	}
	return msg, nil
}

func memberUser(m *wireMember) *wireUser {
	if m == nil {
		return nil
	}
	return m.User
}

// role is the highest of owner, admin and member among a member's roles,
// read from each role's name or id (LLBot: {"id":"4","name":"owner"};
// Koishi: {"id":"admin"}); "" when none is one of them.
func role(roles []wireRole) string {
	rank := map[string]int{"member": 1, "admin": 2, "owner": 3}
	best := ""
	for _, r := range roles {
		for _, v := range []wirejson.String{r.Name, r.ID} {
			name := strings.ToLower(strings.TrimSpace(string(v)))
			if rank[name] > rank[best] {
				best = name
			}
		}
	}
	return best
}

// member converts a guild.member.get answer.
func (m wireMember) member(user int64) qq.Member {
	out := qq.Member{UserID: user, Card: string(m.Nick), Role: role(m.Roles)}
	if m.User != nil {
		out.Nickname = firstNonEmpty(string(m.User.Name), string(m.User.Nick))
	}
	return out
}

// parseQQ reads a QQ or group number; 0 when s is not one.
func parseQQ(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// messageID qualifies a Satori message id with its channel: message.get
// needs both, and the relay hands the client back only the id it was given.
// Channel ids are group numbers or "private:<QQ>", never containing "/", so
// the first "/" separates the two.
func messageID(channel, id string) string {
	if channel == "" || id == "" {
		return id
	}
	return channel + "/" + id
}

// splitMessageID undoes messageID; a bare id has no channel.
func splitMessageID(s string) (channel, id string) {
	if c, rest, ok := strings.Cut(s, "/"); ok && parseQQ(strings.TrimPrefix(c, privatePrefix)) != 0 {
		return c, rest
	}
	return "", s
}
func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

package satori

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/qq"
	qqonebot "github.com/mcqq/bridge/qq/onebot"
	"github.com/mcqq/bridge/qq/satori"
)

// contentLocked writes segments as the server's element string: LLBot's
// shapes (llbot_message_created_group.json) or Koishi's
// (koishi_message_created_group.json). A reply quotes the stored message it
// names, inline, as both servers do.
func (b *Bot) contentLocked(channel string, segs []qq.Segment) string {
	var s strings.Builder
	el := func(name string, attrs map[string]string, inner string) {
		s.WriteString("<" + name)
		for _, k := range slices.Sorted(maps.Keys(attrs)) {
			if attrs[k] != "" {
				s.WriteString(" " + k + `="` + satori.EscapeAttr(attrs[k]) + `"`)
			}
		}
		if inner == "" {
			s.WriteString("/>")
			return
		}
		s.WriteString(">" + inner + "</" + name + ">")
	}
	for _, seg := range segs {
		switch seg.Type {
		case qq.SegText:
			s.WriteString(satori.EscapeText(seg.Text))
		case qq.SegAt:
			if seg.Target == qq.MentionAll {
				el("at", map[string]string{"type": "all"}, "")
			} else {
				el("at", map[string]string{"id": seg.Target, "name": b.mentionNameLocked(channel, seg.Target, seg.Name)}, "")
			}
		case qq.SegReply:
			b.quoteLocked(&s, el, seg.ID)
		case qq.SegFace:
			if b.opts.Koishi {
				name, _ := format.FaceName(seg.ID)
				el("face", map[string]string{"id": seg.ID, "name": name, "platform": "onebot"},
					`<img src="https://koishi.js.org/QFace/static/s`+satori.EscapeAttr(seg.ID)+`.png"/>`)
			} else {
				el("face", map[string]string{"id": seg.ID, "type": "1", "platform": "llonebot"}, "")
			}
		case qq.SegImage:
			sub := "0"
			if seg.Sticker {
				sub = "1"
			}
			attrs := map[string]string{"src": seg.URL, "sub-type": sub}
			if b.opts.Koishi {
				attrs["summary"] = seg.Summary
			} else {
				attrs["width"], attrs["height"] = "1080", "1920"
			}
			el("img", attrs, "")
		case qq.SegRecord:
			el("audio", map[string]string{"src": seg.URL, "duration": "7"}, "")
		case qq.SegVideo:
			el("video", map[string]string{"src": seg.URL}, "")
		case qq.SegMFace:
			attrs := map[string]string{"summary": seg.Summary}
			if b.opts.Koishi {
				attrs["url"] = seg.URL
				el("mface", attrs, "")
			} else {
				el("llonebot:market-face", attrs, `<img src="`+satori.EscapeAttr(seg.URL)+`" width="300" height="300"/>`)
			}
		case qq.SegJSON:
			if b.opts.Koishi {
				el("json", map[string]string{"data": seg.Payload}, "")
			} else {
				el("llonebot:ark", map[string]string{"data": seg.Payload}, "")
			}
		default:
			// Koishi passes other OneBot segments on as elements; LLBot's
			// Satori side drops what it has no element for.
			if b.opts.Koishi {
				el(seg.Type, qqonebot.SegmentData(seg), "")
			}
		}
	}
	return s.String()
}

// quoteLocked writes the quote of stored message id: LLBot puts the quoted
// content inside; Koishi names the author first. An unknown message is left
// out, as LLBot does when it cannot load it.
func (b *Bot) quoteLocked(s *strings.Builder, el func(string, map[string]string, string), id string) {
	q, ok := b.stored[id]
	if !ok {
		return
	}
	inner := q.content
	if b.opts.Koishi {
		inner = `<user id="` + strconv.FormatInt(q.sender.UserID, 10) + `" name="` + satori.EscapeAttr(q.sender.Nickname) + `"/>` +
			`<member nick="` + satori.EscapeAttr(q.sender.Card) + `"/><channel id="` + satori.EscapeAttr(q.channel) + `" type="0"/>` + inner
	}
	if inner == "" {
		inner = " " // still an element with content, as the servers write it
	}
	el("quote", map[string]string{"id": id}, inner)
}

// mentionNameLocked is the name an <at> carries: the segment's own, else the
// member's card or nickname (LLBot takes it from the message text).
func (b *Bot) mentionNameLocked(channel, qqText, name string) string {
	if name != "" {
		return name
	}
	group, _ := strconv.ParseInt(channel, 10, 64)
	user, _ := strconv.ParseInt(qqText, 10, 64)
	if m, ok := b.members[[2]int64{group, user}]; ok {
		return m.DisplayName()
	}
	return ""
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func avatar(user int64) string {
	return fmt.Sprintf("http://q.qlogo.cn/headimg_dl?dst_uin=%d&spec=640", user)
}

// userObject is a Satori User.
func (b *Bot) userObject(m qq.Member) map[string]any {
	u := map[string]any{"id": strconv.FormatInt(m.UserID, 10), "name": m.Nickname, "avatar": avatar(m.UserID)}
	if b.opts.Koishi {
		u["user_id"], u["username"] = u["id"], m.Nickname
	} else {
		u["is_bot"] = false
	}
	return u
}

// roleObjects are a member's roles: LLBot numbers them like NTQQ with the
// name beside; Koishi has the OneBot role as id.
func (b *Bot) roleObjects(m qq.Member) []map[string]any {
	role := cmpOr(m.Role, "member")
	if b.opts.Koishi {
		return []map[string]any{{"id": role}}
	}
	id := map[string]string{"owner": "4", "admin": "3"}[role]
	return []map[string]any{{"id": cmpOr(id, "2"), "name": role}}
}

func (b *Bot) botMember() qq.Member { return qq.Member{UserID: b.opts.SelfID, Nickname: botNickname} }

// botUser is the bot as a User in a Login: Koishi lists fewer fields.
func (b *Bot) botUser() map[string]any {
	if b.opts.Koishi {
		return map[string]any{"id": strconv.FormatInt(b.opts.SelfID, 10), "name": botNickname, "avatar": avatar(b.opts.SelfID)}
	}
	return b.userObject(b.botMember())
}

// loginObject is the Login READY and login.get name.
func (b *Bot) loginObject() map[string]any {
	user := b.botUser()
	if b.opts.Koishi {
		return map[string]any{"sn": 0, "user": user, "platform": "onebot", "self_id": strconv.FormatInt(b.opts.SelfID, 10),
			"status": 1, "features": []string{"message.create", "message.get", "guild.get", "guild.member.get"}}
	}
	return map[string]any{"sn": 1, "user": user, "adapter": "llonebot", "platform": "llonebot", "status": 1,
		"features":   []string{"guild.get", "guild.member.get", "login.get", "message.create", "message.get", "guild.plain"},
		"proxy_urls": []string{}}
}

func (b *Bot) platform() string {
	if b.opts.Koishi {
		return "onebot"
	}
	return "llonebot"
}

// messageLocked is a stored message as a Satori Message, with user, member,
// channel and guild as message.get and message.create answer it.
func (b *Bot) messageLocked(id string, m stored) map[string]any {
	out := map[string]any{"id": id, "content": m.content, "user": b.userObject(m.sender), "created_at": m.at.UnixMilli()}
	if b.opts.Koishi {
		out["message_id"] = id
	}
	group, _ := strconv.ParseInt(m.channel, 10, 64)
	if group == 0 {
		out["channel"] = map[string]any{"id": m.channel, "name": m.sender.Nickname, "type": 1}
		return out
	}
	out["channel"] = map[string]any{"id": m.channel, "name": b.groupNameLocked(group), "type": 0}
	out["guild"] = b.guildLocked(group)
	out["member"] = b.memberObject(m.sender, false)
	return out
}

func (b *Bot) groupNameLocked(group int64) string {
	if name, ok := b.groupNames[group]; ok {
		return name
	}
	return "群" + strconv.FormatInt(group, 10)
}

// guildLocked is a Satori Guild; Koishi's events name only its id.
func (b *Bot) guildLocked(group int64) map[string]any {
	id := strconv.FormatInt(group, 10)
	return map[string]any{"id": id, "name": b.groupNameLocked(group), "avatar": "https://p.qlogo.cn/gh/" + id + "/" + id + "/640"}
}

// memberObject is a GuildMember: as guild.member.get answers it (lookup),
// or as events carry it, where LLBot leaves the roles out.
func (b *Bot) memberObject(m qq.Member, lookup bool) map[string]any {
	out := map[string]any{"user": b.userObject(m), "nick": m.Card}
	if lookup && !b.opts.Koishi {
		out["nick"] = cmpOr(m.Card, m.Nickname) // LLBot: the card, else the nickname
		out["avatar"], out["joined_at"] = avatar(m.UserID), int64(1650000000000)
	}
	if lookup || b.opts.Koishi {
		out["roles"] = b.roleObjects(m)
	}
	return out
}

// eventLocked is the EVENT frame of message-created for a stored message.
func (b *Bot) eventLocked(id string, m stored, group int64) []byte {
	b.sn++
	body := map[string]any{
		"id": b.sn, "sn": b.sn, "type": "message-created", "self_id": strconv.FormatInt(b.opts.SelfID, 10),
		"platform": b.platform(), "timestamp": m.at.UnixMilli(),
		"login":   map[string]any{"sn": 1, "user": b.botUser(), "platform": b.platform()},
		"message": map[string]any{"id": id, "content": m.content, "created_at": m.at.UnixMilli()},
		"user":    b.userObject(m.sender),
	}
	if b.opts.Koishi { // the time is the event's timestamp only
		body["message"] = map[string]any{"id": id, "message_id": id, "content": m.content}
		body["subtype"] = map[bool]string{true: "group", false: "private"}[group != 0]
		body["_type"] = "onebot"
	}
	if group == 0 {
		body["channel"] = map[string]any{"id": m.channel, "name": m.sender.Nickname, "type": 1}
	} else {
		body["channel"] = map[string]any{"id": m.channel, "name": b.groupNameLocked(group), "type": 0}
		body["member"] = b.memberObject(m.sender, false)
		body["guild"] = b.guildLocked(group)
		if b.opts.Koishi {
			body["channel"] = map[string]any{"id": m.channel, "type": 0}
			body["guild"] = map[string]any{"id": m.channel}
		}
	}
	return b.frame(opEvent, body)
}

// Opcodes of the event stream.
const (
	opEvent    = 0
	opPing     = 1
	opPong     = 2
	opIdentify = 3
	opReady    = 4
)

// frame encodes {op, body}; nil (logged) if body cannot be encoded.
func (b *Bot) frame(op int, body any) []byte {
	f, err := json.Marshal(map[string]any{"op": op, "body": body})
	if err != nil {
		b.log.Error("satori stand-in: cannot encode a frame", "op", op, "err", err.Error())
		return nil
	}
	return f
}

package milky

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/mcqq/bridge/qq"
)

func messageKey(scene string, peer, seq int64) string {
	return scene + ":" + strconv.FormatInt(peer, 10) + ":" + strconv.FormatInt(seq, 10)
}

func (m *Bot) groupEntityLocked(group int64) map[string]any {
	name, ok := m.groupNames[group]
	if !ok {
		name = "群" + strconv.FormatInt(group, 10)
	}
	count := 1 // the bot
	for key := range m.members {
		if key[0] == group {
			count++
		}
	}
	return map[string]any{
		"group_id": group, "group_name": name, "member_count": count, "max_member_count": 500,
		"remark": "", "created_time": 1600000000, "description": "", "question": "", "announcement": "",
	}
}

func memberEntity(group int64, mem qq.Member, now int64) map[string]any {
	role := mem.Role
	if role == "" {
		role = "member"
	}
	return map[string]any{
		"user_id": mem.UserID, "nickname": mem.Nickname, "sex": "unknown", "group_id": group,
		"card": mem.Card, "title": "", "level": 1, "role": role, "join_time": 1650000000, "last_sent_time": now,
	}
}

// incomingSegmentsLocked encodes neutral segments the way an implementation
// delivers them (Milky IncomingSegment, milky_incoming_segments_catalog.json).
// A reply quotes the stored message it points at, inline, as LLBot does.
func (m *Bot) incomingSegmentsLocked(scene string, peer int64, segs []qq.Segment) []map[string]any {
	out := make([]map[string]any, 0, len(segs))
	for _, s := range segs {
		typ, data := incomingSegment(s)
		if typ == "reply" {
			quoted := []map[string]any{}
			var sender, at int64
			seq, _ := data["message_seq"].(int64)
			if q, ok := m.stored[messageKey(scene, peer, seq)]; ok {
				sender, _ = q["sender_id"].(int64)
				at, _ = q["time"].(int64)
				if segs, ok := q["segments"].([]map[string]any); ok {
					quoted = segs
				}
			}
			data["sender_id"], data["time"], data["segments"] = sender, at, quoted
		}
		out = append(out, map[string]any{"type": typ, "data": data})
	}
	return out
}

// incomingSegment maps one neutral segment to a Milky incoming segment;
// the fields the neutral model does not carry (ids, sizes, titles) get
// plausible fixed values.
func incomingSegment(s qq.Segment) (string, map[string]any) {
	num := func(v string) int64 { n, _ := strconv.ParseInt(v, 10, 64); return n }
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	resource := resourceID(s.URL)
	switch s.Type {
	case qq.SegText:
		return "text", map[string]any{"text": s.Text}
	case qq.SegAt:
		if s.Target == qq.MentionAll {
			return "mention_all", map[string]any{}
		}
		return "mention", map[string]any{"user_id": num(s.Target), "name": s.Name}
	case qq.SegFace:
		return "face", map[string]any{"face_id": s.ID, "is_large": false}
	case qq.SegReply:
		return "reply", map[string]any{"message_seq": num(s.ID)}
	case qq.SegImage:
		sub := "normal"
		if s.Sticker {
			sub = "sticker"
		}
		return "image", map[string]any{
			"resource_id": resource, "temp_url": s.URL, "width": 1080, "height": 1920,
			"summary": or(s.Summary, "[图片]"), "sub_type": sub,
		}
	case qq.SegRecord:
		return "record", map[string]any{"resource_id": resource, "temp_url": s.URL, "duration": 7}
	case qq.SegVideo:
		return "video", map[string]any{"resource_id": resource, "temp_url": s.URL, "width": 1280, "height": 720, "duration": 31}
	case qq.SegFile:
		return "file", map[string]any{"file_id": "/fake-file", "file_name": s.Name, "file_size": 0}
	case qq.SegForward:
		preview := []string{}
		for _, msg := range s.Forward {
			preview = append(preview, msg.PlainText())
		}
		return "forward", map[string]any{
			"forward_id": s.ID, "title": "群聊的聊天记录", "preview": preview,
			"summary": fmt.Sprintf("查看%d条转发消息", len(preview)),
		}
	case qq.SegMFace:
		return "market_face", map[string]any{
			"emoji_package_id": 0, "emoji_id": "", "key": "",
			"summary": or(s.Summary, "[动画表情]"), "url": s.URL,
		}
	case qq.SegJSON:
		var card struct {
			App string `json:"app"`
		}
		_ = json.Unmarshal([]byte(s.Payload), &card)
		return "light_app", map[string]any{"app_name": card.App, "json_payload": s.Payload}
	case qq.SegXML:
		return "xml", map[string]any{"service_id": 1, "xml_payload": s.Payload}
	case qq.SegMarkdown:
		return "markdown", map[string]any{"content": s.Text}
	}
	return s.Type, map[string]any{}
}

// resourceID makes a stable opaque resource_id for a media URL.
func resourceID(url string) string {
	h := fnv.New64a()
	h.Write([]byte(url))
	return "Eh" + strconv.FormatUint(h.Sum64(), 36)
}

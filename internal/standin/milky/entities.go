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

// incomingSegment maps one neutral segment to a Milky incoming segment.
func incomingSegment(s qq.Segment) (string, map[string]any) {
	get := s.Get
	num := func(k string) int64 { v, _ := strconv.ParseInt(get(k), 10, 64); return v }
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	resource := resourceID(get("url"))
	switch s.Type {
	case qq.SegText:
		return "text", map[string]any{"text": get("text")}
	case qq.SegAt:
		if get("qq") == "all" {
			return "mention_all", map[string]any{}
		}
		return "mention", map[string]any{"user_id": num("qq"), "name": get("name")}
	case qq.SegFace:
		return "face", map[string]any{"face_id": get("id"), "is_large": get("is_large") == "true"}
	case qq.SegReply:
		return "reply", map[string]any{"message_seq": num("id")}
	case qq.SegImage:
		sub := "normal"
		if t := get("sub_type"); t != "" && t != "0" {
			sub = "sticker"
		}
		return "image", map[string]any{
			"resource_id": resource, "temp_url": get("url"), "width": 1080, "height": 1920,
			"summary": or(get("summary"), "[图片]"), "sub_type": sub,
		}
	case qq.SegRecord:
		return "record", map[string]any{"resource_id": resource, "temp_url": get("url"), "duration": 7}
	case qq.SegVideo:
		return "video", map[string]any{"resource_id": resource, "temp_url": get("url"), "width": 1280, "height": 720, "duration": 31}
	case qq.SegFile:
		return "file", map[string]any{"file_id": or(get("file_id"), "/fake-file"), "file_name": get("name"), "file_size": num("size")}
	case qq.SegForward:
		preview := []string{}
		for _, msg := range s.Forward {
			preview = append(preview, msg.PlainText())
		}
		return "forward", map[string]any{
			"forward_id": get("id"), "title": or(get("title"), "群聊的聊天记录"), "preview": preview,
			"summary": or(get("summary"), fmt.Sprintf("查看%d条转发消息", len(preview))),
		}
	case qq.SegMFace:
		return "market_face", map[string]any{
			"emoji_package_id": num("emoji_package_id"), "emoji_id": get("emoji_id"), "key": get("key"),
			"summary": or(get("summary"), "[动画表情]"), "url": get("url"),
		}
	case qq.SegJSON:
		var card struct {
			App string `json:"app"`
		}
		_ = json.Unmarshal([]byte(get("data")), &card)
		return "light_app", map[string]any{"app_name": card.App, "json_payload": get("data")}
	case qq.SegXML:
		return "xml", map[string]any{"service_id": 1, "xml_payload": get("data")}
	case qq.SegMarkdown:
		return "markdown", map[string]any{"content": get("content")}
	}
	data := make(map[string]any, len(s.Data))
	for k, v := range s.Data {
		data[k] = v
	}
	return s.Type, data
}

// resourceID makes a stable opaque resource_id for a media URL.
func resourceID(url string) string {
	h := fnv.New64a()
	h.Write([]byte(url))
	return "Eh" + strconv.FormatUint(h.Sum64(), 36)
}

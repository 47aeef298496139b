package onebot

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/mcqq/bridge/internal/wirejson"
)

// A fast path for the frames the bot sends most. Reading a message event
// with encoding/json costs more than everything else the bridge does with
// the message, almost all of it in matching keys to fields by reflection.
// So the common shapes are read by a small scanner over a frame already
// checked to be valid JSON, filling the same wire structs and calling the
// same field decoders (wirejson's UnmarshalJSON) as encoding/json would.
// Anything the scanner does not take exactly as encoding/json would — a
// known key in another case or written with escapes, a field given twice,
// a value of a kind the field cannot hold — makes it give up, and the frame
// is decoded by encoding/json. FuzzFastDecodeMatches holds the two paths to
// the same result.

// unmarshalInto decodes val as encoding/json would into a field of a type
// with an UnmarshalJSON method.
func unmarshalInto(u json.Unmarshaler, val []byte) bool { return u.UnmarshalJSON(val) == nil }

// eventKeys are the keys of wireEvent's fields; the order is that of the
// switch in decodeEventFast.
var eventKeys = []string{"post_type", "message_type", "notice_type", "self_id", "status", "retcode",
	"time", "message_id", "user_id", "group_id", "group_name", "message", "sender"}

// decodeEventFast reads a frame into w as json.Unmarshal would; ok is false
// when it cannot be sure to (see above).
func decodeEventFast(frame []byte) (w wireEvent, ok bool) {
	if !wirejson.Valid(frame) {
		return w, false
	}
	s := wirejson.NewScanner(frame)
	ok = s.Fields(eventKeys, func(field int, val []byte) bool {
		null := string(val) == "null"
		switch field {
		case 0:
			if null {
				return true // the pointer stays nil
			}
			w.PostType = new(wirejson.String)
			return unmarshalInto(w.PostType, val)
		case 1:
			return unmarshalInto(&w.MessageType, val)
		case 2:
			return unmarshalInto(&w.NoticeType, val)
		case 3:
			w.SelfID = json.RawMessage(val)
		case 4:
			w.Status = json.RawMessage(val)
		case 5:
			w.Retcode = json.RawMessage(val)
		case 6:
			return unmarshalInto(&w.Time, val)
		case 7:
			return unmarshalInto(&w.MessageID, val)
		case 8:
			return unmarshalInto(&w.UserID, val)
		case 9:
			return unmarshalInto(&w.GroupID, val)
		case 10:
			return unmarshalInto(&w.GroupName, val)
		case 11:
			w.Message = json.RawMessage(val)
		case 12:
			if null {
				return true
			}
			w.Sender = new(wireSender)
			return decodeSenderFast(val, w.Sender)
		}
		return true
	})
	return w, ok
}

var senderKeys = []string{"user_id", "nickname", "card", "role"}

func decodeSenderFast(val []byte, sd *wireSender) bool {
	s := wirejson.NewScanner(val)
	return s.Fields(senderKeys, func(field int, val []byte) bool {
		switch field {
		case 0:
			return unmarshalInto(&sd.UserID, val)
		case 1:
			return unmarshalInto(&sd.Nickname, val)
		case 2:
			return unmarshalInto(&sd.Card, val)
		default:
			return unmarshalInto(&sd.Role, val)
		}
	})
}

var segmentKeys = []string{"type", "data"}

// segmentsFast reads a segment array, valid JSON, as json.Unmarshal into
// []wireSegment would.
func segmentsFast(raw []byte) (items []wireSegment, ok bool) {
	s := wirejson.NewScanner(raw)
	ok = s.Elements(func(val []byte) bool {
		var w wireSegment
		inner := wirejson.NewScanner(val)
		if !inner.Fields(segmentKeys, func(field int, val []byte) bool {
			if field == 0 {
				return unmarshalInto(&w.Type, val)
			}
			w.Data = json.RawMessage(val)
			return true
		}) {
			return false
		}
		items = append(items, w)
		return true
	})
	return items, ok
}

// fieldsFast reads a segment's data object, valid JSON, as json.Unmarshal
// into a map[string]json.RawMessage would (a later key replaces an earlier
// one).
func fieldsFast(d []byte) (fields map[string]json.RawMessage, ok bool) {
	fields = map[string]json.RawMessage{}
	s := wirejson.NewScanner(d)
	ok = s.Members(func(key []byte, escaped bool, val []byte) bool {
		if escaped || !utf8.Valid(key) {
			return false // keys with escapes or invalid UTF-8: let encoding/json decode them
		}
		fields[string(key)] = json.RawMessage(val)
		return true
	})
	return fields, ok
}

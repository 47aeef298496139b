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

// scanner walks a valid JSON document.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value returns the next value and moves past it; nil at the end.
func (s *scanner) value() []byte {
	s.skipSpace()
	if s.i >= len(s.b) {
		return nil
	}
	start := s.i
	switch s.b[s.i] {
	case '"':
		s.skipString()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				s.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				break
			}
		}
	default: // number, true, false, null
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.b[start:s.i]
			}
			s.i++
		}
	}
	if s.i > len(s.b) {
		return nil
	}
	return s.b[start:s.i]
}

func (s *scanner) skipString() {
	s.i++ // the opening quote
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return
		default:
			s.i++
		}
	}
}

// members calls each for every member of the object that is the next
// value, with its key as written (without quotes, escapes not decoded) and
// whether the key has escapes. It reports false when the value is not an
// object or each returned false.
func (s *scanner) members(each func(key []byte, escaped bool, val []byte) bool) bool {
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	s.i++
	for first := true; ; first = false {
		s.skipSpace()
		if s.i >= len(s.b) {
			return false
		}
		if s.b[s.i] == '}' && first {
			s.i++
			return true
		}
		if s.b[s.i] != '"' {
			return false
		}
		start := s.i
		s.skipString()
		if s.i > len(s.b) {
			return false
		}
		key := s.b[start+1 : s.i-1]
		escaped := false
		for _, c := range key {
			if c == '\\' {
				escaped = true
				break
			}
		}
		s.skipSpace()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		val := s.value()
		if val == nil || !each(key, escaped, val) {
			return false
		}
		s.skipSpace()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// elements calls each for every element of the array that is the next
// value; false when it is not an array or each returned false.
func (s *scanner) elements(each func(val []byte) bool) bool {
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		return false
	}
	s.i++
	for first := true; ; first = false {
		s.skipSpace()
		if s.i >= len(s.b) {
			return false
		}
		if s.b[s.i] == ']' && first {
			s.i++
			return true
		}
		val := s.value()
		if val == nil || !each(val) {
			return false
		}
		s.skipSpace()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

// fieldKey tells how a struct's member key is to be taken: the index of
// the known field it names exactly, or -1 for a key encoding/json would not
// match to any of them. ok is false when encoding/json might match it to a
// known field in a way the scanner does not follow (another case, escapes,
// non-ASCII letters that fold to ASCII ones).
func fieldKey(key []byte, escaped bool, known []string) (field int, ok bool) {
	if escaped {
		return 0, false
	}
	for i, k := range known {
		if string(key) == k {
			return i, true
		}
	}
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return 0, false
		}
	}
	for _, k := range known {
		if len(k) == len(key) && asciiEqualFold(k, key) {
			return 0, false
		}
	}
	return -1, true // a key the struct does not have: ignored
}

func asciiEqualFold(a string, b []byte) bool {
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

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
	if !json.Valid(frame) {
		return w, false
	}
	var seen uint32
	s := scanner{b: frame}
	ok = s.members(func(key []byte, escaped bool, val []byte) bool {
		field, ok := fieldKey(key, escaped, eventKeys)
		if !ok || field >= 0 && seen&(1<<field) != 0 {
			return false
		}
		if field < 0 {
			return true
		}
		seen |= 1 << field
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
	var seen uint32
	s := scanner{b: val}
	return s.members(func(key []byte, escaped bool, val []byte) bool {
		field, ok := fieldKey(key, escaped, senderKeys)
		if !ok || field >= 0 && seen&(1<<field) != 0 {
			return false
		}
		if field < 0 {
			return true
		}
		seen |= 1 << field
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
	s := scanner{b: raw}
	ok = s.elements(func(val []byte) bool {
		var w wireSegment
		var seen uint32
		inner := scanner{b: val}
		if !inner.members(func(key []byte, escaped bool, val []byte) bool {
			field, ok := fieldKey(key, escaped, segmentKeys)
			if !ok || field >= 0 && seen&(1<<field) != 0 {
				return false
			}
			if field < 0 {
				return true
			}
			seen |= 1 << field
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
	s := scanner{b: d}
	ok = s.members(func(key []byte, escaped bool, val []byte) bool {
		if escaped || !utf8.Valid(key) {
			return false // keys with escapes or invalid UTF-8: let encoding/json decode them
		}
		fields[string(key)] = json.RawMessage(val)
		return true
	})
	return fields, ok
}

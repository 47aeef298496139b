package wirejson

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// The pieces of a fast path for decoding the frames peers send most: a
// scanner over a frame already checked to be valid JSON, and the rule
// encoding/json uses to match a member's key to a struct field. A decoder
// built on them fills the same wire structs, with the same field decoders,
// as encoding/json would, and gives up (falling back to encoding/json) on
// anything it does not take exactly alike; each such decoder has a fuzz
// target holding the two paths to the same result.

// NewScanner returns a Scanner at the start of b.
func NewScanner(b []byte) Scanner { return Scanner{b: b} }

// Scanner walks a document already checked to be valid JSON (json.Valid):
// it finds where values, keys and members begin and end and decodes
// nothing. On other input it gives up (false or nil) or returns garbage,
// never panics.
type Scanner struct {
	b []byte
	i int
}

func (s *Scanner) skipSpace() { s.i = skipBlanks(s.b, s.i) }

// Value returns the next value and moves past it; nil at the end.
func (s *Scanner) Value() []byte {
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

func (s *Scanner) skipString() {
	s.i++ // the opening quote
	for {
		for s.i+8 <= len(s.b) && !quoteOrBackslash(binary.LittleEndian.Uint64(s.b[s.i:])) {
			s.i += 8
		}
		for s.i < len(s.b) && s.b[s.i] != '"' && s.b[s.i] != '\\' {
			s.i++
		}
		if s.i >= len(s.b) {
			return
		}
		if s.b[s.i] == '"' {
			s.i++
			return
		}
		s.i += 2 // an escape
	}
}

// next reads what follows a member or element: a comma (more is true) or
// the container's closing byte (more is false, ok true); ok is false for
// anything else.
func (s *Scanner) next(closing byte) (more, ok bool) {
	s.skipSpace()
	if s.i >= len(s.b) {
		return false, false
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		return true, true
	case closing:
		s.i++
		return false, true
	}
	return false, false
}

// Members calls each for every member of the object that is the next
// value, with its key as written (without quotes, escapes not decoded) and
// whether the key has escapes. It reports false when the value is not an
// object or each returned false.
func (s *Scanner) Members(each func(key []byte, escaped bool, val []byte) bool) bool {
	return s.container('{', '}', func() bool {
		if s.b[s.i] != '"' {
			return false
		}
		start := s.i
		s.skipString()
		if s.i > len(s.b) || s.i <= start+1 || s.b[s.i-1] != '"' {
			return false // the input ends inside the key
		}
		key := s.b[start+1 : s.i-1]
		s.skipSpace()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		val := s.Value()
		return val != nil && each(key, bytes.IndexByte(key, '\\') >= 0, val)
	})
}

// Elements calls each for every element of the array that is the next
// value; false when it is not an array or each returned false.
func (s *Scanner) Elements(each func(val []byte) bool) bool {
	return s.container('[', ']', func() bool {
		val := s.Value()
		return val != nil && each(val)
	})
}

// container walks the object or array that is the next value, from open to
// closing, calling item with the scanner at the start of each member or
// element; item reads it and reports whether to go on. It reports false
// when the value does not open with open, ends early, or item said stop.
func (s *Scanner) container(open, closing byte, item func() bool) bool {
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != open {
		return false
	}
	s.i++
	for first := true; ; first = false {
		s.skipSpace()
		if s.i >= len(s.b) {
			return false
		}
		if s.b[s.i] == closing && first {
			s.i++
			return true
		}
		if !item() {
			return false
		}
		if more, ok := s.next(closing); !more {
			return ok
		}
	}
}

// Fields reads the object that is the next value as json.Unmarshal into a
// struct with the fields known (at most 64) would: it calls each with the
// index and value of every member whose key names one exactly, and skips
// members encoding/json would ignore. It reports false, for the caller to
// fall back to encoding/json, when the value is not an object, a key might
// match a field in a way the scanner does not follow (see FieldKey), a field
// comes twice (encoding/json keeps the last), or each returned false.
func (s *Scanner) Fields(known []string, each func(field int, val []byte) bool) bool {
	var seen uint64
	return s.Members(func(key []byte, escaped bool, val []byte) bool {
		field, ok := FieldKey(key, escaped, known)
		if !ok || field >= 0 && seen&(1<<field) != 0 {
			return false
		}
		if field < 0 {
			return true
		}
		seen |= 1 << field
		return each(field, val)
	})
}

// FieldKey tells how a struct's member key is to be taken: the index of
// the known field it names exactly, or -1 for a key encoding/json would not
// match to any of them. ok is false when encoding/json might match it to a
// known field in a way the scanner does not follow (another case, escapes,
// non-ASCII letters that fold to ASCII ones).
func FieldKey(key []byte, escaped bool, known []string) (field int, ok bool) {
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

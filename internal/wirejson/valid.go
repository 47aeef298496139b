package wirejson

import "encoding/binary"

// Valid reports whether b is exactly one JSON value with optional blanks
// around it, as json.Valid does, at several times its speed: the fast
// decoders check every frame before scanning it. The rules are
// encoding/json's: strings may hold any byte from 0x20 up, invalid UTF-8
// included, but no control character; escapes are the eight short ones and
// \u with four hex digits; numbers have no leading zeros, no leading '+'
// and digits after '.' and 'e'; containers nest at most 10,000 deep.
// FuzzValidMatches holds it to json.Valid.
func Valid(b []byte) bool {
	var buf [64]byte
	open := buf[:0] // '{' or '[' for each container entered and not yet closed
	i := skipBlanks(b, 0)
	for {
		// A value starts at i.
		if i >= len(b) {
			return false
		}
		switch c := b[i]; c {
		case '{', '[':
			if len(open) == maxNesting {
				return false
			}
			open = append(open, c)
			i = skipBlanks(b, i+1)
			if i < len(b) && b[i] == c+2 { // '}' and ']' are two above their openers
				open = open[:len(open)-1]
				i++
				break
			}
			if c == '{' {
				if i = memberKey(b, i); i < 0 {
					return false
				}
			}
			continue
		case '"':
			i = stringEnd(b, i)
		case 't':
			i = literalEnd(b, i, "true")
		case 'f':
			i = literalEnd(b, i, "false")
		case 'n':
			i = literalEnd(b, i, "null")
		default:
			i = numberEnd(b, i)
		}
		if i < 0 {
			return false
		}
		// After a value: a comma and the next member or element, or the
		// end of containers, or the end of the document.
		for {
			i = skipBlanks(b, i)
			if len(open) == 0 {
				return i == len(b)
			}
			if i >= len(b) {
				return false
			}
			top := open[len(open)-1]
			if b[i] == top+2 {
				open = open[:len(open)-1]
				i++
				continue
			}
			if b[i] != ',' {
				return false
			}
			i = skipBlanks(b, i+1)
			if top == '{' {
				if i = memberKey(b, i); i < 0 {
					return false
				}
			}
			break
		}
	}
}

// maxNesting is encoding/json's limit on nested objects and arrays.
const maxNesting = 10000

func skipBlanks(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// memberKey reads a member's key and colon at i, returning where its value
// starts (blanks skipped), or -1.
func memberKey(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = stringEnd(b, i); i < 0 {
		return -1
	}
	i = skipBlanks(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipBlanks(b, i+1)
}

// plainInString marks the bytes a string holds as they are.
var plainInString = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// stringEnd returns the index after the string literal starting at i, or -1.
func stringEnd(b []byte, i int) int {
	i++ // the opening quote
	for {
		// Eight bytes at a time while none of them is a quote, a backslash
		// or a control character, then byte by byte.
		for i+8 <= len(b) && !specialInString(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && plainInString[b[i]] {
			i++
		}
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			if i+1 >= len(b) {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return -1
				}
				i += 6
			default:
				return -1
			}
		default: // a control character
			return -1
		}
	}
}

// specialInString reports whether one of the eight bytes in v may be a
// quote, a backslash or a control character (a byte below 0x20); it may
// say so of bytes that are not, never the other way round.
func specialInString(v uint64) bool {
	return (v-0x20*ones)&^v&highs|zeroByte(v^'"'*ones)|zeroByte(v^'\\'*ones) != 0
}

// quoteOrBackslash is specialInString without control characters, which
// a valid document has none of in its strings.
func quoteOrBackslash(v uint64) bool {
	return zeroByte(v^'"'*ones)|zeroByte(v^'\\'*ones) != 0
}

const ones, highs = 0x0101010101010101, 0x8080808080808080

// zeroByte is non-zero when one of the eight bytes in x may be zero.
func zeroByte(x uint64) uint64 { return (x - ones) &^ x & highs }

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func literalEnd(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// numberEnd returns the index after the number starting at i, or -1.
func numberEnd(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		start := i + 1
		if i = digits(b, start); i == start {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		if i = digits(b, start); i == start {
			return -1
		}
	}
	return i
}

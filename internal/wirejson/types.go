package wirejson

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mcqq/bridge/internal/safetext"
)

// Int is an integer sent as a JSON number or as a string:
//   - null, "" and a string of blanks read as 0 (an unset id);
//   - a number, or a string holding one (blanks around it ignored), may be
//     written as an integral float such as 1e3 or 1.0: JavaScript prints
//     large integers that way;
//   - a fraction, a value beyond int64, a boolean, an object or an array is
//     an error.
type Int int64

// UnmarshalJSON implements the rules above.
func (n *Int) UnmarshalJSON(b []byte) error {
	if v, ok := plainInteger(b); ok { // most ids: read without making a string
		*n = Int(v)
		return nil
	}
	return n.unmarshalText(b)
}

// unmarshalText is UnmarshalJSON for any input, by way of numericText.
func (n *Int) unmarshalText(b []byte) error {
	text, blank, err := numericText(b)
	if err != nil {
		return fmt.Errorf("want an integer, got %s", excerpt(b))
	}
	if blank {
		*n = 0
		return nil
	}
	v, err := parseInteger(text)
	if err != nil {
		return fmt.Errorf("want an integer, got %s", excerpt(b))
	}
	*n = Int(v)
	return nil
}

// plainInteger reads a number literal without fraction or exponent that
// fits in an int64, as numericText and parseInteger would; ok is false for
// anything else (FuzzIntPlain).
func plainInteger(b []byte) (v int64, ok bool) {
	b = bytes.TrimSpace(b)
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	// 19 digits stay below 2^64; a leading zero is no JSON number.
	if len(b) == 0 || len(b) > 19 || b[0] == '0' && len(b) > 1 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return int64(-u), true // two's complement: -(1<<63) is math.MinInt64
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	}
	return 0, false
}

// parseInteger accepts decimal integers and integral floats.
func parseInteger(s string) (int64, error) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
		return 0, strconv.ErrSyntax
	}
	return int64(f), nil
}

// Number is a float sent as a JSON number or as a string: null, "" and a
// string of blanks read as 0; a string holding a number may have blanks
// around it; infinities, NaN, booleans, objects and arrays are errors.
type Number float64

// UnmarshalJSON implements the rules above.
func (n *Number) UnmarshalJSON(b []byte) error {
	text, blank, err := numericText(b)
	if err != nil {
		return fmt.Errorf("want a number, got %s", excerpt(b))
	}
	if blank {
		*n = 0
		return nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("want a number, got %s", excerpt(b))
	}
	*n = Number(f)
	return nil
}

// numericText is the text Int and Number parse: a number literal as
// written, or a string's content without surrounding blanks. blank reports
// null or an empty string, which read as 0.
func numericText(b []byte) (text string, blank bool, err error) {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return "", true, nil
	case len(b) > 0 && b[0] == '"':
		s, err := Unquote(b)
		if err != nil {
			return "", false, err
		}
		s = strings.TrimSpace(s)
		return s, s == "", nil
	case isNumber(b):
		return string(b), false, nil
	}
	return "", false, strconv.ErrSyntax
}

// String is text sent as a JSON string or as another scalar:
//   - a string as it is; null reads as "";
//   - true and false as "true" and "false";
//   - a number as a plain decimal: an integer as sent, however long; any
//     other number in its shortest form without exponent (1e3 → "1000",
//     1.50 → "1.5"), so an id sent as a float still reads as its digits;
//     one beyond the float range keeps the spelling sent;
//   - an object or an array is an error.
type String string

// UnmarshalJSON implements the rules above.
func (s *String) UnmarshalJSON(b []byte) error {
	text, kind := scalar(b)
	switch kind {
	case kindNull:
		*s = ""
	case kindScalar:
		*s = String(text)
	default: // an object, an array, or not JSON at all
		return fmt.Errorf("want a string, got %s", excerpt(b))
	}
	return nil
}

// LooseString is String for fields whose odd type should cost only the
// field itself: an object or an array reads as "" instead of failing the
// document it is part of.
type LooseString string

// UnmarshalJSON implements the rules above.
func (s *LooseString) UnmarshalJSON(b []byte) error {
	text, kind := scalar(b)
	switch kind {
	case kindScalar:
		*s = LooseString(text)
	case kindInvalid:
		return fmt.Errorf("want a JSON value, got %s", excerpt(b))
	default: // null, object, array
		*s = ""
	}
	return nil
}

// Scalar reads raw the way String does; ok is false for null, objects,
// arrays and anything that is not one valid JSON scalar, so a caller
// walking a map of raw values can skip those.
func Scalar(raw []byte) (text string, ok bool) {
	text, kind := scalar(raw)
	return text, kind == kindScalar
}

type valueKind int

const (
	kindInvalid valueKind = iota
	kindNull
	kindScalar
	kindComposite // object or array; not checked further
)

// scalar classifies one JSON value and, for a scalar, returns its text by
// String's rules.
func scalar(b []byte) (string, valueKind) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", kindInvalid
	}
	switch b[0] {
	case '"':
		s, err := Unquote(b)
		if err != nil {
			return "", kindInvalid
		}
		return s, kindScalar
	case '{', '[':
		return "", kindComposite
	}
	switch string(b) {
	case "null":
		return "", kindNull
	case "true", "false":
		return string(b), kindScalar
	}
	if !isNumber(b) {
		return "", kindInvalid
	}
	if bytes.IndexAny(b, ".eE") < 0 {
		return string(b), kindScalar // a plain integer, however long
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return string(b), kindScalar // beyond float range: the digits as sent
	}
	return strconv.FormatFloat(f, 'f', -1, 64), kindScalar
}

// isNumber reports whether b is a JSON number literal:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isNumber(b []byte) bool { return numberEnd(b, 0) == len(b) }

func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// excerpt is the start of a value for an error message.
func excerpt(b []byte) string { return safetext.Excerpt(bytes.TrimSpace(b), 40) }

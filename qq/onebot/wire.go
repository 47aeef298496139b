package onebot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

// NapCat and LLBot disagree on JSON types (ids as numbers or strings, segment
// data as strings or numbers, protocols §C/§E), so every field the bridge
// reads goes through one of these lenient types.

// wireInt is an integer sent as a JSON number or a numeric string; null and
// "" read as 0.
type wireInt int64

func (n *wireInt) UnmarshalJSON(b []byte) error {
	text := string(b)
	switch {
	case text == "null":
		*n = 0
		return nil
	case strings.HasPrefix(text, `"`):
		s, err := wirejson.Unquote(b)
		if err != nil {
			return err
		}
		text = strings.TrimSpace(s)
		if text == "" {
			*n = 0
			return nil
		}
	}
	v, err := parseInteger(text)
	if err != nil {
		return fmt.Errorf("want an integer, got %s", botkit.Excerpt(b, 40))
	}
	*n = wireInt(v)
	return nil
}

// parseInteger accepts decimal integers and integral floats such as 1e3
// (JavaScript may print large integers that way).
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

// wireString is text sent as a JSON string or any other scalar (numbers keep
// their literal spelling); null reads as "". Objects and arrays are an error.
type wireString string

func (s *wireString) UnmarshalJSON(b []byte) error {
	v, ok, err := scalarText(b)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("want text, got %s", botkit.Excerpt(b, 40))
	}
	*s = wireString(v)
	return nil
}

// scalarText renders a JSON scalar as text: strings unquoted, numbers and
// booleans as written, null as "". ok is false for objects and arrays.
func scalarText(b []byte) (text string, ok bool, err error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", false, fmt.Errorf("empty JSON value")
	}
	switch b[0] {
	case '"':
		s, err := wirejson.Unquote(b)
		if err != nil {
			return "", false, err
		}
		return s, true, nil
	case '{', '[':
		return "", false, nil
	case 'n':
		return "", true, nil
	default: // number, true, false: already validated by the outer decoder
		return string(b), true, nil
	}
}

// dataValue renders one segment data value as the string the neutral model
// stores. Nested objects (NapCat's face "raw") become compact JSON text, the
// same text NapCat puts into CQ strings, so both message formats agree.
// present is false for null, which NapCat also leaves out of CQ strings.
func dataValue(b json.RawMessage) (value string, present bool, err error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", false, fmt.Errorf("empty JSON value")
	}
	switch b[0] {
	case 'n':
		return "", false, nil
	case '{', '[':
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return "", false, err
		}
		return buf.String(), true, nil
	}
	text, _, err := scalarText(b)
	return text, err == nil, err
}

package onebot

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/mcqq/bridge/internal/wirejson"
)

// NapCat and LLBot disagree on JSON types (ids as numbers or strings, segment
// data as strings or numbers), so every field the bridge reads is a
// wirejson type, and segment data goes through dataValue.

// dataValue renders one segment data value as the string botkit.FromOneBot
// reads: scalars by wirejson.String's rules. Nested objects (NapCat's face
// "raw") become compact JSON text, the same text NapCat puts into CQ
// strings, so both message formats agree. present is false for null, which
// NapCat also leaves out of CQ strings.
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
	text, ok := wirejson.Scalar(b)
	if !ok {
		return "", false, fmt.Errorf("want a JSON value, got %.40s", b)
	}
	return text, true, nil
}

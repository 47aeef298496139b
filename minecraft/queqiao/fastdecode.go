package queqiao

import (
	"encoding/json"

	"github.com/mcqq/bridge/internal/wirejson"
)

// Answers are most of what a connection reads while the bridge sends (one
// per broadcast), and encoding/json spends more on matching their keys to
// fields than on anything else. So an answer is read by a small scanner
// over a frame checked to be valid JSON, filling the same wireResponse with
// the same field decoders encoding/json would call. Whatever the scanner
// does not take exactly as encoding/json would (a key in another case or
// with escapes, a key given twice, a value a field cannot hold) makes it
// give up, and encoding/json reads the frame. The reader only peeks at an
// answer's post_type and echo (peekAnswerFast), its request reads the rest.
// FuzzFastResponseMatches holds both to encoding/json.

// responseKeys are wireResponse's keys, in the order of the switch in
// decodeResponseFast.
var responseKeys = []string{"api", "code", "status", "message", "data", "echo"}

// decodeResponseFast reads frame as json.Unmarshal into a wireResponse
// would; ok is false when it cannot be sure to.
func decodeResponseFast(frame []byte) (w wireResponse, ok bool) {
	if !wirejson.Valid(frame) {
		return w, false
	}
	s := wirejson.NewScanner(frame)
	ok = s.Fields(responseKeys, func(field int, val []byte) bool {
		var u json.Unmarshaler
		switch field {
		case 0:
			u = &w.API
		case 1:
			u = &w.Code
		case 2:
			u = &w.Status
		case 3:
			u = &w.Message
		case 4:
			w.Data = json.RawMessage(val)
			return true
		default:
			u = &w.Echo
		}
		return u.UnmarshalJSON(val) == nil
	})
	return w, ok
}

// peekKeys are the keys answerEcho reads: an answer's post_type and echo.
var peekKeys = []string{"post_type", "echo"}

// peekAnswerFast reads frame's post_type and echo as json.Unmarshal into a
// struct of those two wirejson.String fields would; ok is false when it
// cannot be sure to.
func peekAnswerFast(frame []byte) (postType, echo wirejson.String, ok bool) {
	if !wirejson.Valid(frame) {
		return "", "", false
	}
	s := wirejson.NewScanner(frame)
	ok = s.Fields(peekKeys, func(field int, val []byte) bool {
		if field == 0 {
			return postType.UnmarshalJSON(val) == nil
		}
		return echo.UnmarshalJSON(val) == nil
	})
	return postType, echo, ok
}

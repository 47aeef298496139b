package queqiao

import (
	"encoding/json"
	"strconv"

	"github.com/mcqq/bridge/internal/wirejson"
)

// The stand-in does the plugin's work on the benchmark's own cores, so its
// per-request cost caps what a benchmark can measure of the bridge: one
// connection's requests are answered one after another. The requests and
// answers it handles most (a broadcast and its success) are therefore read
// with wirejson's scanner and written directly, each exactly as
// encoding/json would (FuzzFastRequestMatches, TestAnswerEncoding);
// anything else goes through encoding/json.

// wireRequest is a request as the stand-in reads it: keys as encoding/json
// matches them (case-insensitively), values raw.
type wireRequest struct {
	API  *string         `json:"api"`
	Data json.RawMessage `json:"data"`
	Echo json.RawMessage `json:"echo"`
}

// decodeRequest reads a request frame as json.Unmarshal into a wireRequest.
func decodeRequest(frame []byte) (wireRequest, error) {
	if r, ok := decodeRequestFast(frame); ok {
		return r, nil
	}
	var r wireRequest
	err := json.Unmarshal(frame, &r)
	return r, err
}

var requestKeys = []string{"api", "data", "echo"}

// decodeRequestFast is decodeRequest when it can be sure to read frame as
// encoding/json does; ok is false otherwise.
func decodeRequestFast(frame []byte) (r wireRequest, ok bool) {
	if !wirejson.Valid(frame) {
		return r, false
	}
	s := wirejson.NewScanner(frame)
	ok = s.Fields(requestKeys, func(field int, val []byte) bool {
		switch field {
		case 0:
			if string(val) == "null" {
				return true
			}
			if val[0] != '"' {
				return false // encoding/json's type error
			}
			api, err := wirejson.Unquote(val)
			r.API = &api
			return err == nil
		case 1:
			r.Data = json.RawMessage(val)
		default:
			r.Echo = json.RawMessage(val)
		}
		return true
	})
	return r, ok
}

// messageOf is the message member of a request's data (valid JSON, not
// null), as json.Unmarshal into struct{ Message json.RawMessage } reads it;
// ok is false when data is not an object or the scanner cannot be sure.
func messageOf(data json.RawMessage) (message json.RawMessage, ok bool) {
	s := wirejson.NewScanner(data)
	ok = s.Fields(messageKey, func(_ int, val []byte) bool {
		message = json.RawMessage(val)
		return true
	})
	return message, ok
}

var messageKey = []string{"message"}

// encodeAnswer is json.Marshal(r), written directly for an answer without
// data whose texts need no escaping.
func encodeAnswer(r response) ([]byte, error) {
	if r.Data != nil || !wirejson.Plain(r.PostType) || !wirejson.Plain(r.Status) || !wirejson.Plain(r.Message) ||
		r.API != nil && !wirejson.Plain(*r.API) || r.Echo != nil && !wirejson.Plain(*r.Echo) {
		return json.Marshal(r)
	}
	b := make([]byte, 0, 96+len(r.Message)+len(r.PostType)+len(r.Status)+
		len(deref(r.API))+len(deref(r.Echo)))
	b = append(b, `{"api":`...)
	b = appendNullable(b, r.API)
	b = append(b, `,"code":`...)
	b = strconv.AppendInt(b, int64(r.Code), 10)
	b = append(b, `,"post_type":"`...)
	b = append(b, r.PostType...)
	b = append(b, `","status":"`...)
	b = append(b, r.Status...)
	b = append(b, `","message":"`...)
	b = append(b, r.Message...)
	b = append(b, `","data":null,"echo":`...)
	b = appendNullable(b, r.Echo)
	return append(b, '}'), nil
}

func appendNullable(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = append(b, *s...)
	return append(b, '"')
}

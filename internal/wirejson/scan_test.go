package wirejson

import "testing"

// The Scanner is meant for valid documents, but gives up rather than
// panics on anything else: every prefix of a real frame (a truncated read,
// a key cut after its opening quote), walked member by member and value by
// value.
func TestScannerNeverPanicsOnCutDocuments(t *testing.T) {
	frame := `{"post_type":"message","message":[{"type":"text","data":{"text":"今晚\"8点\""}}],` +
		`"sender":{"user_id":20002,"card":"阿丽"},"echo":"q\\1","n":-1.5e3,"ok":true,"x":null}`
	var walk func(s Scanner, depth int)
	walk = func(s Scanner, depth int) {
		if depth > 4 {
			return
		}
		elements := s
		s.Members(func(key []byte, escaped bool, val []byte) bool {
			walk(NewScanner(val), depth+1)
			return true
		})
		elements.Elements(func(val []byte) bool {
			walk(NewScanner(val), depth+1)
			return true
		})
	}
	for cut := 0; cut <= len(frame); cut++ {
		for _, doc := range []string{frame[:cut], frame[cut:]} {
			walk(NewScanner([]byte(doc)), 0)
		}
	}
	for _, doc := range []string{`{"`, `{"a":1,"`, ` { "`, `{"a\"`, `{"a\`, `{"a"`, `{"a":`} {
		walk(NewScanner([]byte(doc)), 0)
	}
}

package onebot

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// sseOracle reads stream the simplest way the SSE format allows (every
// event kept, whatever its size), for comparison with readSSE.
func sseOracle(stream []byte) (events [][]byte) {
	lines := bytes.Split(stream, []byte("\n"))
	lines = lines[:len(lines)-1] // what follows the last "\n" is unfinished
	var data []byte
	hasData := false
	for _, line := range lines {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			if hasData {
				events = append(events, data)
			}
			data, hasData = nil, false
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if string(field) != "data" {
			continue
		}
		if hasData {
			data = append(data, '\n')
		}
		data = append(data, bytes.TrimPrefix(value, []byte(" "))...)
		hasData = true
	}
	return events
}

// checkReadSSE compares readSSE with sseOracle: events within the limit
// arrive in order and intact, larger ones are skipped with their full size.
func checkReadSSE(t *testing.T, stream []byte, limit int) {
	t.Helper()
	var got [][]byte
	var skipped []int
	err := readSSE(bytes.NewReader(stream), limit,
		func(data []byte) { got = append(got, bytes.Clone(data)) },
		func(size int) { skipped = append(skipped, size) })
	if err != nil {
		t.Fatalf("readSSE: %v", err) // a bytes.Reader never fails
	}
	var want [][]byte
	var wantSkipped []int
	for _, ev := range sseOracle(stream) {
		if len(ev) > limit {
			wantSkipped = append(wantSkipped, len(ev))
		} else {
			want = append(want, ev)
		}
	}
	if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
		t.Errorf("events\n got  %.200q\n want %.200q", got, want)
	}
	if !reflect.DeepEqual(skipped, wantSkipped) {
		t.Errorf("skipped sizes %v, want %v", skipped, wantSkipped)
	}
}

// Lines longer than readSSE's 64 KiB read buffer come in several reads.
func TestReadSSELongLines(t *testing.T) {
	for name, tc := range map[string]struct {
		stream string
		limit  int
	}{
		"CRLF split between reads":  {"data: " + strings.Repeat("y", 64<<10-len("data: ")-1) + "\r\n\r\n", 1 << 20},
		"kept":                      {"data: " + strings.Repeat("z", 70<<10) + "\n\ndata: after\n\n", 1 << 20},
		"skipped":                   {"data: " + strings.Repeat("z", 70<<10) + "\n\ndata: after\n\n", 64 << 10},
		"skipped after a kept line": {"data: a\ndata: " + strings.Repeat("z", 70<<10) + "\ndata: b\n\ndata: after\n\n", 64 << 10},
	} {
		t.Run(name, func(t *testing.T) { checkReadSSE(t, []byte(tc.stream), tc.limit) })
	}
}

func FuzzReadSSE(f *testing.F) {
	f.Add([]byte("data: {\"post_type\":\"meta_event\"}\n\n"), uint8(64))
	f.Add([]byte(": ping\r\nevent: message\r\nid: 1\r\ndata: a\r\ndata:b\r\n\r\nretry: 5\n\ndata: unfinished"), uint8(3))
	f.Add([]byte("data: "+strings.Repeat("x", 100)+"\n\ndata: small\n\n"), uint8(10))
	f.Fuzz(func(t *testing.T, stream []byte, limit uint8) {
		checkReadSSE(t, stream, int(limit)+1)
	})
}

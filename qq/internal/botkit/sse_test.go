package botkit

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

type sseEvent struct{ name, data string }

// sseOracle reads stream the simplest way the SSE format allows (every
// event kept, whatever its size), for comparison with ReadSSE.
func sseOracle(stream []byte) (events []sseEvent) {
	lines := bytes.Split(stream, []byte("\n"))
	lines = lines[:len(lines)-1] // what follows the last "\n" is unfinished
	var name, data []byte
	hasData := false
	for _, line := range lines {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			if hasData {
				events = append(events, sseEvent{string(name), string(data)})
			}
			name, data, hasData = nil, nil, false
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			name = value
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			hasData = true
		}
	}
	return events
}

// checkReadSSE compares ReadSSE with sseOracle: events within the limit
// arrive in order, intact and with their names, larger ones are skipped with
// their full size.
func checkReadSSE(t *testing.T, stream []byte, limit int) {
	t.Helper()
	var got []sseEvent
	var skipped []int
	err := ReadSSE(bytes.NewReader(stream), limit,
		func(name string, data []byte) { got = append(got, sseEvent{name, string(data)}) },
		func(size int) { skipped = append(skipped, size) })
	if err != nil {
		t.Fatalf("ReadSSE: %v", err) // a bytes.Reader never fails
	}
	var want []sseEvent
	var wantSkipped []int
	for _, ev := range sseOracle(stream) {
		if len(ev.data) > limit || len(ev.name) > limit {
			wantSkipped = append(wantSkipped, max(len(ev.data), len(ev.name)))
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

// TestReadSSEFraming: names, ids, retries, comments, CRLF and an unfinished
// last event, as LLBot and yogurt (Milky) and NapCat (OneBot) send them.
func TestReadSSEFraming(t *testing.T) {
	stream := ": keep-alive\n\n" +
		"event: milky_event\ndata: {\"a\":1}\n\n" +
		"event: other\r\ndata: x\r\n\r\n" +
		"data: line1\ndata:line2\nid: 7\nretry: 100\n\n" +
		"event: milky_event\n\n" + // no data: not dispatched, and the name is not kept
		"data: after a nameless blank\n\n" +
		"data: unterminated"
	var got []sseEvent
	err := ReadSSE(strings.NewReader(stream), 1024,
		func(name string, data []byte) { got = append(got, sseEvent{name, string(data)}) },
		func(size int) { t.Errorf("skipped an event of %d bytes", size) })
	if err != nil {
		t.Fatal(err)
	}
	want := []sseEvent{{"milky_event", `{"a":1}`}, {"other", "x"}, {"", "line1\nline2"}, {"", "after a nameless blank"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
	checkReadSSE(t, []byte(stream), 1024)
}

// An oversized event, whether one long line or many short ones, is skipped
// with its size and the stream goes on: bad input is logged and skipped.
func TestReadSSESkipsOversizedEvents(t *testing.T) {
	for name, stream := range map[string]string{
		"long line":   "data: " + strings.Repeat("x", 100) + "\n\ndata: next\n\n",
		"many lines":  strings.Repeat("data: 12345678\n", 10) + "\ndata: next\n\n",
		"named event": "event: milky_event\ndata: " + strings.Repeat("x", 100) + "\n\ndata: next\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			var got []string
			var skipped []int
			err := ReadSSE(strings.NewReader(stream), 64,
				func(name string, data []byte) { got = append(got, name+"|"+string(data)) },
				func(size int) { skipped = append(skipped, size) })
			if err != nil {
				t.Fatal(err)
			}
			if len(skipped) != 1 || skipped[0] <= 64 {
				t.Errorf("skipped %v, want one event over 64 bytes", skipped)
			}
			if !reflect.DeepEqual(got, []string{"|next"}) {
				t.Errorf("events after the oversized one = %q, want the next one, nameless", got)
			}
			checkReadSSE(t, []byte(stream), 64)
		})
	}
}

// Lines longer than ReadSSE's 64 KiB read buffer come in several reads.
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
	f.Add([]byte("event: milky_event\ndata: {}\n\nevent: x\n\ndata: y\n\n"), uint8(8))
	f.Fuzz(func(t *testing.T, stream []byte, limit uint8) {
		checkReadSSE(t, stream, int(limit)+1)
	})
}

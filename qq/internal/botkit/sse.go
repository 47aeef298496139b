package botkit

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// ReadSSE reads a text/event-stream and calls onEvent with the name ("" when
// the event has no "event:" line) and the data of each complete event: its
// "data:" lines joined by newlines. Ids, retries and comments (keep-alives)
// are ignored; lines end with "\n" or "\r\n". An event whose data (or name)
// is larger than limit is not kept: onSkip gets its size and reading goes
// on, as a WebSocket session skips an oversized frame. onEvent must not keep
// data. ReadSSE returns nil at the end of the stream, dropping an
// unfinished last event as the SSE standard says, or the read error.
func ReadSSE(r io.Reader, limit int, onEvent func(name string, data []byte), onSkip func(size int)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	keep := len("event: ") + limit // a longer line is skipped anyway
	var (
		line     []byte
		name     string
		nameSize int    // the current event's name size, kept or not
		data     []byte // the current event's data, while it is within limit
		size     int    // the current event's data size, kept or not
		hasData  bool
	)
	for {
		var n int
		var err error
		line, n, err = readSSELine(br, line[:0], keep)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 { // a blank line ends the event
			switch {
			case !hasData:
			case size > limit || nameSize > limit:
				onSkip(max(size, nameSize))
			default:
				onEvent(name, data)
			}
			name, nameSize, data, size, hasData = "", 0, data[:0], 0, false
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			name, nameSize = string(value), len(value)+n-len(line)
			continue
		case "data":
		default:
			continue
		}
		if hasData {
			size++ // the newline joining data lines
		}
		size += len(value) + n - len(line) // what was cut off a long line counts too
		if size <= limit {
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
		}
		hasData = true
	}
}

// readSSELine reads one line into buf, without its end, keeping at most keep
// bytes of it; n is the line's full length. err is io.EOF at the end of the
// stream, also after a last line without an end.
func readSSELine(br *bufio.Reader, buf []byte, keep int) (line []byte, n int, err error) {
	var tail [2]byte // the line's last two bytes, to tell "\r\n" from "\n"
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		if room := keep - len(buf); room > 0 {
			buf = append(buf, chunk[:min(len(chunk), room)]...)
		}
		for _, b := range chunk[max(len(chunk)-2, 0):] {
			tail[0], tail[1] = tail[1], b
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return buf, n, err
		}
		break
	}
	n-- // the "\n"
	if n > 0 && tail[0] == '\r' {
		n--
	}
	return buf[:min(len(buf), n)], n, nil
}

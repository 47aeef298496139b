package botkit

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// readBody returns exactly what was sent, whatever the reader's pace and
// the declared length, and never holds much more than a declared length.
func TestReadBody(t *testing.T) {
	for _, size := range []int{0, 1, 16 << 10, 16<<10 + 1, 100_000, 4 << 20} {
		want := bytes.Repeat([]byte("0123456789"), size/10+1)[:size]
		for _, declared := range []int64{-1, int64(size)} {
			for name, r := range map[string]io.Reader{
				"whole":    bytes.NewReader(want),
				"trickled": iotest.OneByteReader(bytes.NewReader(want)),
				"half":     iotest.HalfReader(bytes.NewReader(want)),
			} {
				if size > 100_000 && name == "trickled" {
					continue
				}
				got, err := readBody(r, declared)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%d bytes (declared %d, %s): got %d bytes, %v", size, declared, name, len(got), err)
				}
				if declared >= 0 && int64(cap(got)) > declared {
					t.Errorf("%d bytes declared: buffer of %d", declared, cap(got))
				}
			}
		}
	}
	if _, err := readBody(iotest.ErrReader(io.ErrUnexpectedEOF), -1); err == nil {
		t.Error("a failed read went unnoticed")
	}
	// More than declared (net/http never lets that through) is still read.
	if got, err := readBody(bytes.NewReader([]byte("0123456789")), 4); err != nil || string(got) != "0123456789" {
		t.Errorf("more than declared: %q, %v", got, err)
	}
}

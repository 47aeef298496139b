package ws

import (
	"io"
	"net"
	"testing"
)

// Writes between begin and flush reach the peer in one write, in order;
// writes outside a batch go through at once.
func TestBatchConnCollectsWritesUntilFlush(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	c := &batchConn{Conn: client}
	got := make(chan []byte, 4)
	go func() {
		for {
			buf := make([]byte, 64)
			n, err := server.Read(buf)
			if err != nil {
				close(got)
				return
			}
			got <- buf[:n]
		}
	}()

	c.begin()
	for _, p := range []string{"one ", "two ", "three"} {
		if n, err := c.Write([]byte(p)); err != nil || n != len(p) {
			t.Fatalf("buffered write: %d, %v", n, err)
		}
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "one two three" {
		t.Fatalf("the batch arrived as %q", b)
	}
	if _, err := c.Write([]byte("alone")); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "alone" {
		t.Fatalf("a write outside a batch arrived as %q", b)
	}
	client.Close()
	if _, ok := <-got; ok {
		t.Fatal("more data than written")
	}
	if err := c.flush(); err != nil && err != io.ErrClosedPipe {
		t.Fatalf("an empty flush wrote: %v", err)
	}
}

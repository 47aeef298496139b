package ws

import (
	"net"
	"sync"
)

// batchConn lets the writer put a run of frames on the wire with one write
// instead of one each: between begin and flush, writes to the connection
// collect in a buffer. Outside a batch, writes go straight through, so
// frames written by others (gorilla answers pings from the reader) are never
// held longer than the batch in progress. Safe for concurrent use.
type batchConn struct {
	net.Conn

	mu       sync.Mutex
	batching bool
	buf      []byte
}

// maxKeptBatch is the largest buffer kept between batches.
const maxKeptBatch = 256 << 10

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// begin starts collecting writes.
func (c *batchConn) begin() {
	c.mu.Lock()
	c.batching = true
	c.mu.Unlock()
}

// flush writes what was collected, with the write deadline set for the
// frames, and stops collecting.
func (c *batchConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = false
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > maxKeptBatch {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

package satori

import "time"

// SetPingInterval shortens the PING period; call it before Run.
func SetPingInterval(c *Client, d time.Duration) { c.pingInterval = d }

package onebot

import (
	"context"
	"encoding/json"
	"time"
)

// Call runs any action the way the client's own methods do, for tests of
// answers to actions the bridge has no method for.
func Call(ctx context.Context, c *Client, action string, params any) (json.RawMessage, error) {
	return c.call(ctx, action, params)
}

// SetHealthInterval shortens webhook mode's get_login_info period; call it
// before Run.
func SetHealthInterval(c *Client, d time.Duration) { c.healthInterval = d }

// Accepting reports whether ServeHTTP takes posts and connections, which it
// does from when Run has started until it ends.
func Accepting(c *Client) bool {
	_, ok := c.gate.Enter()
	if ok {
		c.gate.Leave()
	}
	return ok
}

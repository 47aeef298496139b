package queqiao

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/internal/ws"
)

// handleResponse hands an answer to its request. The plugin's error reply
// for a request it could not process (a component the game's codec rejects,
// say) has no echo; it quotes the raw request, whose echo is used when it
// can be read, else the reply belongs to the oldest request outstanding,
// since the plugin answers a connection's requests strictly in order. Either
// way that request fails at once instead of waiting for its timeout.
func (c *Client) handleResponse(cn *conn, r Response, frame []byte) {
	if r.Echo != "" {
		if !cn.pending.Resolve(r.Echo, frame) {
			c.log.Debug("response to no waiting request", "echo", r.Echo, "api", r.API)
		}
		return
	}
	if echo := quotedEcho(r.Data); echo != "" {
		if cn.pending.Resolve(echo, frame) {
			c.log.Warn("plugin could not process a request", "code", r.Code, "message", r.Message)
		} else {
			c.log.Warn("plugin could not process a request no longer waited for", "code", r.Code, "message", r.Message)
		}
		return
	}
	if _, ok := cn.pending.ResolveOldest(frame); ok {
		c.log.Warn("plugin could not process a request; failing the oldest one outstanding",
			"code", r.Code, "message", r.Message)
		return
	}
	c.log.Warn("plugin could not process a request no longer waited for", "code", r.Code, "message", r.Message)
}

// quotedEcho reads the echo of the raw request the plugin quotes in its
// parse-error reply ({"rawJsonMessage": "<request>"}); "" when there is none.
func quotedEcho(data json.RawMessage) string {
	var d struct {
		Raw string `json:"rawJsonMessage"`
	}
	if json.Unmarshal(data, &d) != nil || d.Raw == "" {
		return ""
	}
	var req struct {
		Echo wirejson.String `json:"echo"`
	}
	if json.Unmarshal([]byte(d.Raw), &req) != nil {
		return ""
	}
	return string(req.Echo)
}

// requestFrame encodes a request. A message the bridge encoded itself
// (minecraft.Marshal: compact, valid JSON) is written into the frame as it
// is, rather than checked and compacted again by encoding/json; api and echo
// are the bridge's own ASCII names. The bytes are encoding/json's either
// way.
func requestFrame(api string, data any, echo string) ([]byte, error) {
	d, ok := data.(messageData)
	if !ok || !wirejson.Plain(api) || !wirejson.Plain(echo) {
		return json.Marshal(request{API: api, Data: data, Echo: echo})
	}
	b := make([]byte, 0, len(d.Message)+len(api)+len(echo)+40)
	b = append(b, `{"api":"`...)
	b = append(b, api...)
	b = append(b, `","data":{"message":`...)
	b = append(b, d.Message...)
	b = append(b, `},"echo":"`...)
	b = append(b, echo...)
	return append(b, `"}`...), nil
}

// request is the envelope of an API call (docs/protocols.md#queqiao-envelope).
type request struct {
	API  string `json:"api"`
	Data any    `json:"data,omitempty"`
	Echo string `json:"echo"`
}

// live returns the connection requests may use, or an error wrapping
// link.ErrNotConnected.
func (c *Client) live(api string) (*conn, error) {
	c.mu.Lock()
	cn, ready := c.session, c.ready
	c.mu.Unlock()
	if cn == nil || !ready {
		return nil, fmt.Errorf("queqiao %s %s: %w", c.opts.Name, api, link.ErrNotConnected)
	}
	return cn, nil
}

// call sends one request on the live connection and waits for its answer.
func (c *Client) call(ctx context.Context, api string, data any) (Response, error) {
	cn, err := c.live(api)
	if err != nil {
		return Response{}, err
	}
	return c.request(ctx, cn, api, data)
}

// request sends one request on cn and waits for its response, at most
// RequestTimeout.
func (c *Client) request(ctx context.Context, cn *conn, api string, data any) (Response, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	r, err := c.start(ctx, cn, api, data)
	if err != nil {
		return Response{}, err
	}
	return c.wait(ctx, r, api)
}

func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, c.opts.RequestTimeout, c.timedOut)
}

// start sends one request on cn without waiting for the answer.
func (c *Client) start(ctx context.Context, cn *conn, api string, data any) (*ws.Request, error) {
	r, err := ws.Start(ctx, cn.ws, cn.pending, func(echo string) ([]byte, error) {
		return requestFrame(api, data, echo)
	})
	if err != nil {
		return nil, c.requestError(api, err)
	}
	return r, nil
}

// wait waits for the answer to r and reads it.
func (c *Client) wait(ctx context.Context, r *ws.Request, api string) (Response, error) {
	raw, err := r.Wait(ctx)
	if err != nil {
		return Response{}, c.requestError(api, err)
	}
	resp, err := decodeResponse(raw) // handleFrame saw it is a response
	if err != nil {
		return Response{}, fmt.Errorf("queqiao %s %s: %w", c.opts.Name, api, err)
	}
	if resp.API == "" {
		resp.API = api // absent before plugin 0.3.3, null on the parse-error path
	}
	if err := resp.Err(); err != nil {
		return resp, fmt.Errorf("queqiao %s: %w", c.opts.Name, err)
	}
	return resp, nil
}

func (c *Client) requestError(api string, err error) error {
	if errors.Is(err, ws.ErrClosed) {
		err = fmt.Errorf("connection closed before the answer: %w", link.ErrNotConnected)
	}
	return fmt.Errorf("queqiao %s %s: %w", c.opts.Name, api, err)
}

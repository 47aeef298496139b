package milky

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gorilla/websocket"
	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/internal/ws"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

// sseEventName is the SSE event name LLBot and yogurt give every Milky event.
const sseEventName = "milky_event"

// Run keeps the connection to the bot until ctx ends, reconnecting with
// backoff. Each attempt first calls get_login_info (token check, SelfID),
// then reads events from the WebSocket at {base}/event, or over SSE from the
// same URL when the bot refuses the WebSocket upgrade with a status other
// than 401/403. In webhook mode there is no stream: events come through
// ServeHTTP, and Run calls get_login_info again every 30 s to see that the
// bot still answers. Meanwhile Run accepts webhook posts through ServeHTTP,
// whatever the mode, and waits for their handlers before it returns nil once
// ctx ends.
func (c *Client) Run(ctx context.Context) error {
	defer c.http.CloseIdleConnections()
	c.gate.Open(ctx)
	defer c.gate.Close()
	session := c.streamSession
	if c.opts.Webhook {
		session = botkit.WebhookSession(c.login, c.healthInterval)
	}
	link.Supervise(ctx, c.log, &c.state, c.ender.Wrap(session))
	return nil
}

// streamSession is one connection attempt to the event stream for
// link.Supervise.
func (c *Client) streamSession(ctx context.Context, up func()) error {
	if err := c.login(ctx); err != nil {
		return err
	}
	err := c.streamWebSocket(ctx, up)
	if !errors.Is(err, errWebSocketRefused) {
		return err
	}
	if !c.sseNoticed {
		c.sseNoticed = true
		c.log.Info("reading events over SSE", "reason", err.Error())
	} else {
		c.log.Debug("reading events over SSE", "reason", err.Error())
	}
	return c.streamSSE(ctx, up)
}

// errWebSocketRefused marks an upgrade refused for a reason other than the
// token, e.g. an implementation with only SSE enabled.
var errWebSocketRefused = errors.New("WebSocket upgrade refused")

func (c *Client) streamWebSocket(ctx context.Context, up func()) error {
	eventURL := "ws" + strings.TrimPrefix(c.base, "http") + "/event" // http→ws, https→wss
	h := http.Header{}
	botkit.Authorize(h, c.opts.AccessToken)
	sess, err := ws.Dial(ctx, eventURL, h, ws.Options{ReadLimit: botkit.MaxFrame, Logger: c.log})
	if err != nil {
		status, refused := handshakeStatus(err)
		switch {
		case !refused:
			return fmt.Errorf("event stream: %w", err)
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return fmt.Errorf("event stream: %w (HTTP %d): check QQ_ACCESS_TOKEN", ErrUnauthorized, status)
		}
		return fmt.Errorf("event stream: %w: %w", errWebSocketRefused, err)
	}
	up()
	err = sess.Run(ctx, c.handleFrame)
	if err == nil {
		return nil
	}
	// LLBot accepts the upgrade and then closes with 1008 "Unauthorized".
	if code, reason, ok := ws.CloseText(err); ok && code == websocket.ClosePolicyViolation {
		return fmt.Errorf("event stream closed with %d %q: %w: check QQ_ACCESS_TOKEN", code, reason, ErrUnauthorized)
	}
	return fmt.Errorf("event stream: %w", err)
}

// handshakeStatus is the HTTP status of a refused WebSocket handshake; ok is
// false for errors before any HTTP answer.
func handshakeStatus(err error) (status int, ok bool) {
	var he *ws.HandshakeError
	if errors.As(err, &he) {
		return he.StatusCode, true
	}
	return 0, false
}

func (c *Client) streamSSE(ctx context.Context, up func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/event", nil)
	if err != nil {
		return fmt.Errorf("event stream (SSE): %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	botkit.Authorize(req.Header, c.opts.AccessToken)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("event stream (SSE): %w", err)
	}
	defer resp.Body.Close()
	if err := httpStatusError(resp.StatusCode, resp.Status); err != nil {
		return fmt.Errorf("event stream (SSE): %w", err)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return fmt.Errorf("event stream (SSE): content type %q, want text/event-stream", mt)
	}
	up()
	body, stopWatch := botkit.WatchQuiet(ctx, resp.Body, c.healthInterval, c.login, c.ender.Lost)
	defer stopWatch()
	err = botkit.ReadSSE(body, botkit.MaxFrame,
		func(name string, data []byte) {
			if name != "" && name != sseEventName {
				c.log.Debug("SSE event ignored", "event", name)
				return
			}
			c.handleFrame(data)
		},
		func(size int) {
			c.log.Warn("skipping an oversized event from the stream", "bytes", size, "limit", botkit.MaxFrame)
		})
	if ctx.Err() != nil {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("event stream (SSE): %w", err)
}

// handleFrame decodes one event frame from the stream and passes it on.
func (c *Client) handleFrame(frame []byte) {
	ev, kind, err := DecodeEvent(frame)
	if err != nil {
		c.log.Warn("skipping a bad event", "err", err.Error(), "frame", safetext.Excerpt(frame, 200))
		return
	}
	c.dispatch(ev, kind, frame)
}

// dispatch queues a message in Events and logs what the bridge does not act
// on. It never blocks, and reports false only for a message the relay no
// longer takes (shutting down).
func (c *Client) dispatch(ev qq.Event, kind Kind, frame []byte) bool {
	switch kind {
	case KindMessage:
		// self_id may be missing from an implementation's envelope.
		if self := c.SelfID(); self != 0 && ev.Message.Sender.UserID == self {
			return true
		}
		c.lookups.Remember(ev)
		return c.events.Push(ev, len(frame))
	case KindMemberLeft:
		if self := c.SelfID(); self != 0 && ev.UserID == self {
			return true // the bot itself left
		}
		c.lookups.ForgetMember(ev.GroupID, ev.UserID)
		return c.events.Push(ev, len(frame))
	case KindBotOffline:
		var off struct {
			Data struct {
				Reason wirejson.String `json:"reason"`
			} `json:"data"`
		}
		_ = json.Unmarshal(frame, &off)
		c.log.Warn("the QQ account went offline; no messages until it logs in again", "reason", string(off.Data.Reason))
	default:
		c.log.Debug("event ignored", "kind", kind.String())
	}
	return true
}

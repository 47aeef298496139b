package milky

import (
	"bufio"
	"bytes"
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
	"github.com/mcqq/bridge/internal/ws"
	"github.com/mcqq/bridge/qq"
)

// sseEventName is the SSE event name LLBot and yogurt give every Milky event.
const sseEventName = "milky_event"

// Run keeps the connection to the bot until ctx ends, reconnecting with
// backoff. Each attempt first calls get_login_info (token check, SelfID),
// then reads events from the WebSocket at {base}/event, or over SSE from the
// same URL when the bot refuses the WebSocket upgrade with a status other
// than 401/403. In webhook mode there is no stream: events come through
// ServeHTTP and Run only logs in and waits. Run returns nil once ctx ends.
func (c *Client) Run(ctx context.Context) error {
	defer c.transport.CloseIdleConnections()
	link.Supervise(ctx, c.log, &c.state, c.session)
	return nil
}

// session is one connection attempt for link.Supervise.
func (c *Client) session(ctx context.Context, up func()) error {
	if err := c.login(ctx); err != nil {
		return err
	}
	if c.opts.Webhook {
		up()
		<-ctx.Done()
		return nil
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
	c.authorize(h)
	sess, err := ws.Dial(ctx, eventURL, h, ws.Options{ReadLimit: maxFrame, Logger: c.log})
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
	err = sess.Run(ctx, func(frame []byte) { c.handleFrame(ctx, frame) })
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
	c.authorize(req.Header)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("event stream (SSE): %w", err)
	}
	defer resp.Body.Close()
	if err := httpStatusError(resp); err != nil {
		return fmt.Errorf("event stream (SSE): %w", err)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return fmt.Errorf("event stream (SSE): content type %q, want text/event-stream", mt)
	}
	up()
	err = readSSE(resp.Body, maxFrame, func(name string, data []byte) {
		if name != "" && name != sseEventName {
			c.log.Debug("SSE event ignored", "event", name)
			return
		}
		c.handleFrame(ctx, data)
	})
	if ctx.Err() != nil {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("event stream (SSE): %w", err)
}

// readSSE reads a text/event-stream and calls onEvent for each complete
// event: its "event:" name and its "data:" lines joined by newlines. It
// returns at the end of the stream or on the first read error; a line longer
// than maxLine is an error. onEvent must not keep data.
func readSSE(r io.Reader, maxLine int, onEvent func(name string, data []byte)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var (
		name    string
		data    []byte
		hasData bool
	)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 { // a blank line ends an event
			if hasData {
				onEvent(name, data)
			}
			name, data, hasData = "", data[:0], false
			continue
		}
		if line[0] == ':' { // a comment, used as keep-alive
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			name = string(value)
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			hasData = true
			if len(data) > maxLine {
				return fmt.Errorf("event larger than %d bytes", maxLine)
			}
		}
	}
	return sc.Err()
}

// handleFrame decodes one event frame from the stream and passes it on.
func (c *Client) handleFrame(ctx context.Context, frame []byte) {
	ev, kind, err := DecodeEvent(frame)
	if err != nil {
		c.log.Warn("skipping a bad event", "err", err.Error(), "frame", excerpt(frame, 200))
		return
	}
	c.dispatch(ctx, ev, kind, frame)
}

// dispatch hands a message to Events, blocking while the relay is behind
// (dropping it would lose a chat line; the stream can wait), and logs what
// the bridge does not act on.
func (c *Client) dispatch(ctx context.Context, ev qq.Event, kind Kind, frame []byte) {
	switch kind {
	case KindMessage:
		// self_id may be missing from an implementation's envelope.
		if self := c.SelfID(); self != 0 && ev.Message.Sender.UserID == self {
			return
		}
		c.remember(ev)
		select {
		case c.events <- ev:
		case <-ctx.Done():
		}
	case KindBotOffline:
		var off struct {
			Data struct {
				Reason jsonText `json:"reason"`
			} `json:"data"`
		}
		_ = json.Unmarshal(frame, &off)
		c.log.Warn("the QQ account went offline; no messages until it logs in again", "reason", string(off.Data.Reason))
	default:
		c.log.Debug("event ignored", "kind", kind.String())
	}
}

// remember caches what a message tells for free: the sender's member info,
// the group's name and the message itself (a later reply may quote it).
func (c *Client) remember(ev qq.Event) {
	c.messages.Put(ev.Message.ID, ev.Message)
	if ev.Kind != qq.GroupMessage {
		return
	}
	if s := ev.Message.Sender; s.UserID != 0 && (s.Nickname != "" || s.Card != "") {
		c.members.Put(memberKey{ev.GroupID, s.UserID}, s)
	}
	if ev.GroupName != "" {
		c.groups.Put(ev.GroupID, ev.GroupName)
	}
}

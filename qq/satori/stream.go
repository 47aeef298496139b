package satori

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/internal/ws"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

// Close codes a Satori server ends the event stream with.
const (
	closeBadFrame = 4000 // it could not read a frame of ours
	closeBadToken = 4004 // IDENTIFY carried the wrong token
)

// Run keeps the event stream open until ctx ends, reconnecting with
// backoff. Each attempt dials {base}/v1/events, sends IDENTIFY with the
// token and waits for READY, which names the bot account API calls must
// use; the link counts as up from then on. The client PINGs every 10 s.
// Servers do not replay events missed while the stream was down. Run
// returns nil once ctx has ended.
func (c *Client) Run(ctx context.Context) error {
	defer c.http.CloseIdleConnections()
	link.Supervise(ctx, c.log, &c.state, c.ender.Wrap(c.session))
	return nil
}

// session is one connection attempt for link.Supervise.
func (c *Client) session(ctx context.Context, up func()) error {
	eventURL := "ws" + strings.TrimPrefix(c.base, "http") + "/v1/events" // http→ws, https→wss
	h := http.Header{}
	botkit.Authorize(h, c.opts.AccessToken)
	sess, err := ws.Dial(ctx, eventURL, h, ws.Options{ReadLimit: botkit.MaxFrame, Logger: c.log})
	if err != nil {
		var he *ws.HandshakeError
		switch {
		case !errors.As(err, &he):
			return fmt.Errorf("event stream: %w", err)
		case he.StatusCode == http.StatusUnauthorized || he.StatusCode == http.StatusForbidden:
			return fmt.Errorf("event stream: %w (%w): check QQ_ACCESS_TOKEN", ErrUnauthorized, err)
		case he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusMethodNotAllowed:
			return fmt.Errorf("event stream: %w (%w): check that QQ_URL is the Satori base URL, path prefix included (Koishi: …/satori)", ErrNotFound, err)
		}
		return fmt.Errorf("event stream: %w", err)
	}

	st := &streamState{ready: make(chan struct{}), up: up}
	identify, _ := json.Marshal(map[string]any{"op": opIdentify, "body": map[string]any{
		"token": c.opts.AccessToken, "sn": c.lastSN.Load(),
	}})
	// Queued before Run, so it is the first frame the server gets.
	if err := sess.Send(ctx, identify); err != nil {
		sess.Close(websocket.CloseNormalClosure, "")
		return fmt.Errorf("event stream: IDENTIFY: %w", err)
	}
	keeperDone := make(chan struct{})
	go func() {
		defer close(keeperDone)
		c.keep(ctx, sess, st)
	}()
	err = sess.Run(ctx, func(frame []byte) { c.handleFrame(ctx, sess, st, frame) })
	<-keeperDone
	switch {
	case err == nil:
		return nil // ctx ended
	case st.failure != nil:
		return st.failure
	case st.noReady.Load():
		return fmt.Errorf("event stream: no READY within %s after IDENTIFY", c.opts.RequestTimeout)
	}
	if code, reason, ok := ws.CloseText(err); ok {
		switch code {
		case closeBadToken:
			return fmt.Errorf("%w: the server closed the event stream with %d %q: check QQ_ACCESS_TOKEN", ErrUnauthorized, code, reason)
		case closeBadFrame:
			return fmt.Errorf("event stream closed with %d %q: the server could not read our IDENTIFY", code, reason)
		}
	}
	return fmt.Errorf("event stream: %w", err)
}

// streamState is one session's progress. ready is closed and up called by
// the reader when READY arrives; failure is set by the reader before it
// closes the session and read once Run has returned; noReady by the keeper.
type streamState struct {
	ready   chan struct{}
	isReady bool // the reader's own record that ready is closed
	up      func()
	failure error
	noReady atomic.Bool
}

// keep PINGs every pingInterval and closes the session when READY does not
// come within RequestTimeout. It returns when the session ends.
func (c *Client) keep(ctx context.Context, sess *ws.Session, st *streamState) {
	ping, _ := json.Marshal(map[string]any{"op": opPing, "body": map[string]any{}})
	ticker := time.NewTicker(c.pingInterval)
	defer ticker.Stop()
	deadline := time.NewTimer(c.opts.RequestTimeout)
	defer deadline.Stop()
	ready := st.ready
	for {
		select {
		case <-sess.Done():
			return
		case <-ready:
			deadline.Stop()
			ready = nil
		case <-deadline.C:
			st.noReady.Store(true)
			sess.Close(websocket.CloseNormalClosure, "no READY")
			return
		case <-ticker.C:
			if err := sess.Send(ctx, ping); err != nil {
				return
			}
		}
	}
}

// handleFrame acts on one frame from the server, in the reader goroutine.
func (c *Client) handleFrame(ctx context.Context, sess *ws.Session, st *streamState, frame []byte) {
	f, err := DecodeFrame(frame)
	if err != nil {
		c.log.Warn("skipping a bad frame", "err", err.Error(), "frame", safetext.Excerpt(frame, 200))
		return
	}
	switch f.Op {
	case opReady:
		if st.isReady {
			return
		}
		if err := c.ready(f.Body); err != nil {
			st.failure = fmt.Errorf("event stream: %w", err)
			sess.Close(websocket.CloseNormalClosure, "")
			return
		}
		st.isReady = true
		close(st.ready)
		st.up()
	case opEvent:
		c.handleEvent(f.Body)
	case opPong, opMeta:
	default:
		c.log.Debug("frame ignored", "op", f.Op)
	}
}

// ready takes the bot account from a READY body: the first online login,
// else the first.
func (c *Client) ready(body []byte) error {
	logins, err := DecodeReady(body)
	if err != nil {
		return err
	}
	if len(logins) == 0 {
		return fmt.Errorf("READY names no bot account (%s): is QQ logged in on the server?", safetext.Excerpt(body, 200))
	}
	login := logins[0]
	for _, l := range logins {
		if l.Online {
			login = l
			break
		}
	}
	if old := c.login.Swap(&login); old == nil || *old != login {
		c.log.Info("QQ account", "self_id", login.UserID, "nickname", login.Name, "platform", login.Platform, "logins", len(logins))
	}
	if !login.Online {
		c.log.Warn("the QQ account is not online on the Satori server; no messages until it logs in", "self_id", login.UserID)
	}
	return nil
}

// handleEvent decodes one event and queues a message in Events; it never
// waits. What LLBot leaves out of a message (the sender's role, a quote's
// author) the relay looks up when it needs it.
func (c *Client) handleEvent(body []byte) {
	var seq struct {
		SN wirejson.Number `json:"sn"`
	}
	if json.Unmarshal(body, &seq) == nil && int64(seq.SN) > 0 {
		c.lastSN.Store(int64(seq.SN))
	}
	ev, kind, typ, err := DecodeEvent(body)
	if err != nil {
		c.log.Warn("skipping a bad event", "err", err.Error(), "event", safetext.Excerpt(body, 200))
		return
	}
	switch kind {
	case KindMessage:
		if self := c.SelfID(); self != 0 && ev.Message.Sender.UserID == self {
			return
		}
		c.lookups.Remember(ev)
		c.events.Push(ev, len(body))
	case KindMemberLeft:
		if self := c.SelfID(); self != 0 && ev.UserID == self {
			return // the bot itself left
		}
		c.lookups.ForgetMember(ev.GroupID, ev.UserID)
		c.events.Push(ev, len(body))
	default:
		c.log.Debug("event ignored", "type", typ, "kind", kind.String())
	}
}

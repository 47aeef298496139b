package onebot

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mcqq/bridge/internal/standin"
)

// socketRole is what a forward WebSocket carries, by the path it was opened
// on: NapCat serves a universal socket on every path but /api, which carries
// actions only; LLBot serves /api for actions, /event for events (actions
// sent there are ignored) and the root for both.
type socketRole int

const (
	universal   socketRole = iota
	actionsOnly            // no lifecycle event, no heartbeats, no events
	eventsOnly             // actions are read and ignored
)

func (b *Bot) roleOf(path string) socketRole {
	switch strings.TrimSuffix(path, "/") {
	case "/api":
		return actionsOnly
	case "/event":
		if !b.napcat() {
			return eventsOnly
		}
	}
	return universal
}

// serveWebSocket is the forward WebSocket server. Like NapCat and LLBot it
// upgrades first and refuses a wrong token afterwards, with a 1403 frame.
func (b *Bot) serveWebSocket(run *standin.Run, w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		b.log.Debug("upgrade failed", "err", err)
		return
	}
	if b.opts.Token != "" && b.presentedToken(r) != b.opts.Token {
		b.log.Debug("refusing connection: wrong token", "peer", r.RemoteAddr)
		b.rejectToken(ws)
		return
	}
	role := b.roleOf(r.URL.Path)
	conn := standin.NewConn(ws)
	if role == actionsOnly {
		conn.MuteEvents()
	}
	b.server.ServeAccepted(run, conn, func(c *standin.Conn) error { return b.serveConn(c, role) })
}

// rejectToken sends the 1403 frame and closes: NapCat without a close code
// (the client sees 1005), LLBot with 1008.
func (b *Bot) rejectToken(ws *websocket.Conn) {
	conn := standin.NewConn(ws)
	resp := b.failure(nil, retcodeToken, "token验证失败")
	if b.napcat() {
		resp.Echo = json.RawMessage("null")
	}
	_ = conn.Write(marshal(resp))
	if b.napcat() {
		conn.Close(websocket.CloseNoStatusReceived, "") // 1005 is formatted as an empty payload
	} else {
		conn.Close(websocket.ClosePolicyViolation, "invalid access token")
	}
}

// serveConn sends the lifecycle event, then heartbeats while it answers
// actions, until the connection fails; an actions-only socket gets neither,
// an events-only one no answers.
func (b *Bot) serveConn(c *standin.Conn, role socketRole) error {
	if role != actionsOnly {
		if err := c.Write(marshal(b.lifecycleEvent())); err != nil {
			return err
		}
	}
	done := make(chan struct{})
	heartbeats := make(chan struct{})
	go func() {
		defer close(heartbeats)
		if role == actionsOnly {
			return
		}
		t := time.NewTicker(b.opts.HeartbeatInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if c.Write(marshal(b.heartbeatEvent())) != nil {
					return
				}
			}
		}
	}()
	var slow sync.WaitGroup // actions answered in the background (SetLatency)
	defer func() {
		close(done)
		<-heartbeats
		slow.Wait()
	}()
	for {
		typ, frame, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if typ != websocket.TextMessage || role == eventsOnly {
			continue
		}
		if d := b.latencyOf(actionOf(frame)); d > 0 {
			slow.Go(func() {
				select {
				case <-time.After(d):
				case <-done:
					return
				}
				if reply, ok := b.answer(frame); ok {
					_ = c.Write(marshal(reply))
				}
			})
			continue
		}
		reply, ok := b.answer(frame)
		if !ok {
			continue
		}
		if err := c.Write(marshal(reply)); err != nil {
			return err
		}
	}
}

// actionOf is the action an action frame names; "" when unreadable.
func actionOf(frame []byte) string {
	var req struct {
		Action string `json:"action"`
	}
	_ = json.Unmarshal(frame, &req)
	return req.Action
}

// answer handles one action frame from a WebSocket; ok is false when no
// reply is sent.
func (b *Bot) answer(frame []byte) (reply response, ok bool) {
	var req struct {
		Action string          `json:"action"`
		Params json.RawMessage `json:"params"`
		Echo   json.RawMessage `json:"echo"`
	}
	if err := json.Unmarshal(frame, &req); err != nil {
		return b.failure(nil, retcodeBadParams, "json解析失败: "+err.Error()), true
	}
	return b.act(req.Action, req.Params, req.Echo, false)
}

package onebot

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/websocket"
	"github.com/mcqq/bridge/internal/secret"
	"github.com/mcqq/bridge/internal/ws"
)

// ServeHTTP accepts the bot's reverse WebSocket (NapCat and LLBot open one
// "Universal" connection, docs/protocols.md#onebot-transports) on any path. The
// token is checked before upgrading: 401 when none is presented, 403 when it is
// wrong. One bot connection is active at a time; a new one replaces the old,
// which is closed with 1000 "replaced". It answers 503 unless Run is running in
// reverse mode.
//
// With the HTTP API (Options.URL http:// or https://) ServeHTTP is instead
// the receiver of the bot's webhook posts, on any path:
// X-Signature is checked over the raw body before it is parsed (401 when
// missing, 403 when wrong), a post with an event is answered 204, and any
// post 503 unless Run is running with Options.Webhook.
func (c *Client) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.api != nil {
		c.serveWebhook(w, r)
		return
	}
	peer := r.RemoteAddr
	if want := c.opts.AccessToken; want != "" {
		got, presented := requestToken(r)
		if !presented {
			c.log.Warn("refused a QQ bot connection without an access token", "peer", peer)
			http.Error(w, "access token required", http.StatusUnauthorized)
			return
		}
		if !secret.Equal(got, want) {
			c.log.Warn("refused a QQ bot connection with a wrong access token", "peer", peer)
			http.Error(w, "wrong access token", http.StatusForbidden)
			return
		}
	}
	ctx, ok := c.gate.Enter() // open only while Run runs in reverse mode
	if !ok {
		http.Error(w, "reverse WebSocket not enabled", http.StatusServiceUnavailable)
		return
	}
	defer c.gate.Leave()

	conn, err := ws.Accept(w, r, ws.Options{Logger: c.log})
	if err != nil { // the upgrader has already answered the request
		c.log.Warn("QQ bot WebSocket upgrade failed", "peer", peer, "err", err.Error())
		return
	}
	selfID, _ := strconv.ParseInt(strings.TrimSpace(r.Header.Get("X-Self-ID")), 10, 64)
	c.learnSelfID(selfID)
	s, displaced := c.attach(conn, true)
	if displaced != nil {
		displaced.ws.Close(websocket.CloseNormalClosure, "replaced")
		c.log.Info("a new QQ bot connection replaces the previous one", "peer", peer)
	}
	c.log.Info("QQ bot connected", "peer", peer, "self_id", selfID)

	err = conn.Run(ctx, func(frame []byte) { c.handleFrame(s, frame) })
	// A replaced connection changes nothing: its successor is already up.
	// At shutdown Run takes the link down.
	live := ctx.Err() == nil
	if c.detach(s, live, err) && live {
		c.log.Warn("QQ bot disconnected", "peer", peer, "err", errText(err))
	}
}

// requestToken finds the token a bot presents: "Authorization: Bearer x"
// (NapCat, LLBot), "Authorization: Token x" (older OneBot clients), else the
// access_token query parameter. NapCat sends "Bearer " with nothing after it
// when it has no token; that counts as none.
func requestToken(r *http.Request) (token string, presented bool) {
	if h := strings.TrimSpace(r.Header.Get("Authorization")); h != "" {
		value, known := secret.FromAuthorization(h, "Bearer", "Token")
		if !known {
			return h, true // some other scheme: presented, and wrong
		}
		if value != "" {
			return value, true
		}
	}
	if q := r.URL.Query().Get("access_token"); q != "" {
		return q, true
	}
	return "", false
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

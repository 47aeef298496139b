package milky

import (
	"net/http"

	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/internal/secret"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

// ServeHTTP receives webhook posts (QQ_LISTEN): each POST body is one event,
// as on the stream. The token is checked before the body is read: no
// "Authorization: Bearer" header → 401, a wrong token → 403. Messages are
// delivered to Events whatever the mode, while Run is running (503 before
// and after); the answer is 204 once the event is queued (the bot ignores it
// anyway), 400 for a body that is not an event.
func (c *Client) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "webhook events are POSTed", http.StatusMethodNotAllowed)
		return
	}
	if status := c.checkWebhookToken(r.Header.Get("Authorization")); status != http.StatusOK {
		c.log.Warn("webhook post refused: bad access token", "peer", r.RemoteAddr, "status", status)
		botkit.RefuseUnread(w, http.StatusText(status), status)
		return
	}
	// Read before registering with Run, so a slow sender cannot hold up
	// Run's return.
	body, ok := botkit.ReadPost(w, r, c.log)
	if !ok {
		return
	}
	if _, ok := c.gate.Enter(); !ok {
		http.Error(w, "not running", http.StatusServiceUnavailable)
		return
	}
	defer c.gate.Leave()
	ev, kind, err := DecodeEvent(body)
	if err != nil {
		c.log.Warn("skipping a bad webhook event", "peer", r.RemoteAddr, "err", err.Error(), "frame", safetext.Excerpt(body, 200))
		http.Error(w, "not a Milky event", http.StatusBadRequest)
		return
	}
	if !c.dispatch(ev, kind, body) {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkWebhookToken returns 200 when the Authorization header carries the
// configured token (or none is configured), else 401 or 403.
func (c *Client) checkWebhookToken(header string) int {
	want := c.opts.AccessToken
	if want == "" {
		return http.StatusOK
	}
	got, ok := secret.FromAuthorization(header, "Bearer")
	if !ok {
		return http.StatusUnauthorized
	}
	if !secret.Equal(got, want) {
		return http.StatusForbidden
	}
	return http.StatusOK
}

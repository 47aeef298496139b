package queqiao

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/mcqq/bridge/internal/secret"
	"github.com/mcqq/bridge/internal/ws"
)

// Listener accepts the reverse connections plugins open to MC_LISTEN
// (websocket_client.url_list, any path) and hands each to the Client of the
// server named in its x-self-name. Every check happens before the upgrade,
// so a refused plugin never gets a WebSocket: an unknown name gets 404, a
// missing token 401, a wrong one 403, a server that is already connected
// 409. Each refusal is logged once with the peer's address.
type Listener struct {
	clients map[string]*Client // by server name
	log     *slog.Logger
}

// NewListener serves the given clients; forward-mode clients are refused
// by name.
func NewListener(clients []*Client, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Listener{clients: make(map[string]*Client, len(clients)), log: log.With("listener", "queqiao")}
	for _, c := range clients {
		l.clients[c.Name()] = c
	}
	return l
}

// ServeHTTP checks and upgrades one plugin connection, then runs it until
// it ends.
func (l *Listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, status, reason := l.check(r)
	if c == nil {
		l.log.Warn("refused QueQiao connection", "peer", r.RemoteAddr, "status", status, "reason", reason)
		http.Error(w, reason, status)
		return
	}
	s, err := ws.Accept(w, r, ws.Options{Logger: c.log})
	if err != nil {
		l.log.Warn("QueQiao upgrade failed", "peer", r.RemoteAddr, "server", c.Name(), "err", err.Error())
		return // Accept has answered the request
	}
	if err := c.Attach(r.Context(), s); errors.Is(err, ErrAlreadyConnected) {
		// Two plugins got past the check at the same time.
		l.log.Warn("refused QueQiao connection", "peer", r.RemoteAddr, "server", c.Name(), "reason", err.Error())
	}
}

// check finds the client for r, or says why r is refused.
func (l *Listener) check(r *http.Request) (*Client, int, string) {
	// The plugin sends headers; query parameters are the 0.5.0 fallback.
	field := func(name string) string {
		if v := r.Header.Get(name); v != "" {
			return v
		}
		return r.URL.Query().Get(name)
	}
	raw := field("x-self-name")
	if raw == "" {
		return nil, http.StatusBadRequest, "missing x-self-name header (the server_name in the plugin's config.yml)"
	}
	// The plugin encodes it with Java's URLEncoder: "+" is a space. (A query
	// value is thus decoded twice, as the plugin's own server does.)
	name, err := url.QueryUnescape(raw)
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Sprintf("x-self-name %q is not URL-encoded correctly", raw)
	}
	c, ok := l.clients[name]
	if !ok {
		return nil, http.StatusNotFound, fmt.Sprintf("unknown server %q: no MC_<n>_NAME has this name", name)
	}
	if c.opts.URL != "" {
		return nil, http.StatusNotFound, fmt.Sprintf("server %q is configured for forward mode (MC_<n>_WS_URL); it does not take reverse connections", name)
	}
	if want := c.opts.Token; want != "" {
		got := field("Authorization")
		if got == "" {
			return nil, http.StatusUnauthorized, fmt.Sprintf("server %q needs a token: set access_token in the plugin's config.yml", name)
		}
		if token, ok := secret.FromAuthorization(got, "Bearer"); ok {
			got = token
		} // without the Bearer scheme, the whole header must be the token
		if !secret.Equal(got, want) {
			return nil, http.StatusForbidden, fmt.Sprintf("wrong token for server %q", name)
		}
	}
	if c.connected() {
		return nil, http.StatusConflict, fmt.Sprintf("server %q is already connected", name)
	}
	return c, 0, ""
}

package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/mcqq/bridge/internal/redact"
	"github.com/mcqq/bridge/internal/ws"
	"github.com/mcqq/bridge/minecraft/queqiao"
	"github.com/mcqq/bridge/minecraft/rcon"
	"github.com/mcqq/bridge/qq/milky"
	"github.com/mcqq/bridge/qq/onebot"
	"github.com/mcqq/bridge/qq/satori"
)

// Hints turn a connection error into what to change: the bridge's variable
// and the setting on the other side it must match. They appear in the log
// lines of a connection that is down, in /readyz and in -check. One function
// per side, so every known error of that side is explained in one place.

// qqHint explains the errors of the QQ connection.
func qqHint(cfg *Config) func(error) string {
	// What the bot calls the server QQ_URL points at, and its token.
	server := "the bot's server"
	token := "the bot's access token"
	switch {
	case cfg.QQProtocol == ProtocolMilky:
		server = "LLBot's Milky server (milky.http.port)"
		token = "LLBot's milky.http.accessToken"
	case cfg.QQProtocol == ProtocolSatori:
		server = "the Satori server (LLBot: its satori section; Koishi: the HTTP server with the Satori server plugin)"
		token = "the token of LLBot's satori section (Koishi: of its Satori server plugin)"
	case cfg.QQProtocol == ProtocolOneBot && strings.HasPrefix(cfg.QQURL, "http"):
		server = `NapCat's HTTP server or HTTP SSE server (LLBot: its "http" connection)`
		token = `the token of NapCat's HTTP server (LLBot: of its "http" connection)`
	case cfg.QQProtocol == ProtocolOneBot:
		server = `NapCat's WebSocket server (LLBot: its "ws" connection)`
		token = `the token of NapCat's WebSocket server (LLBot: of its "ws" connection)`
	}
	return func(err error) string {
		if errors.Is(err, onebot.ErrTokenRejected) || errors.Is(err, milky.ErrUnauthorized) || errors.Is(err, satori.ErrUnauthorized) {
			return fmt.Sprintf("QQ_ACCESS_TOKEN must equal %s (both empty for none)", token)
		}
		if errors.Is(err, satori.ErrNotFound) {
			// A 404 here is a missing path prefix, not another service's port.
			return "QQ_URL must be the Satori base URL, path prefix included: Koishi's Satori server mounts under /satori (" +
				withPath(cfg.QQURL, "/satori") + "), LLBot's under none (" + withPath(cfg.QQURL, "") + ")"
		}
		if strings.Contains(err.Error(), "X-Self-name Header") {
			// QueQiao's refusal of a client that did not say which server it is.
			return fmt.Sprintf("QQ_URL points at QueQiao's websocket_server, not the bot: use the port of %s", server)
		}
		return networkHint(err, "QQ_URL", cfg.QQURL, server)
	}
}

// gameHint explains the errors of server s's QueQiao connection.
func gameHint(s Server) func(error) string {
	p := fmt.Sprintf("MC_%d_", s.Index)
	return func(err error) string {
		if rej, ok := errors.AsType[*queqiao.RejectedError](err); ok {
			switch rej.Reason {
			case "Authorization Header is wrong":
				return p + "TOKEN must equal access_token in QueQiao's config.yml"
			case "X-Self-name Header is wrong":
				return fmt.Sprintf("%sNAME (%s) must equal server_name in QueQiao's config.yml", p, s.Name)
			}
			return ""
		}
		return networkHint(err, p+"WS_URL", s.WSURL, "QueQiao's websocket_server (config.yml)")
	}
}

// rconHint explains the errors of server s's RCON connection.
func rconHint(s Server) func(error) string {
	p := fmt.Sprintf("MC_%d_", s.Index)
	return func(err error) string {
		if errors.Is(err, rcon.ErrAuthFailed) {
			return p + "RCON_PASSWORD must equal rcon.password in server.properties"
		}
		if isRefused(err) {
			_, port, _ := net.SplitHostPort(s.RCONAddr)
			return fmt.Sprintf("nothing accepts connections on %s: is enable-rcon=true with rcon.port=%s in server.properties, and the server running?", s.RCONAddr, port)
		}
		if answersAnotherProtocol(err) {
			return fmt.Sprintf("something answers on %s but it is not the game's RCON: check the port in %sRCON_ADDR (rcon.port in server.properties)", s.RCONAddr, p)
		}
		return networkHint(err, p+"RCON_ADDR", "tcp://"+s.RCONAddr, "the game's RCON")
	}
}

// networkHint explains the errors of reaching what variable (a URL) points
// at, described as service; "" when err is none of them.
func networkHint(err error, variable, rawURL, service string) string {
	host, port := hostPort(rawURL)
	addr := net.JoinHostPort(host, port)
	if hs, ok := errors.AsType[*ws.HandshakeError](err); ok {
		return fmt.Sprintf("%s answered HTTP %d instead of a WebSocket: is %s the port of %s?", addr, hs.StatusCode, port, service)
	}
	if dns, ok := errors.AsType[*net.DNSError](err); ok && dns.IsNotFound {
		return fmt.Sprintf("the host %q in %s is not known: check %s", host, variable, variable)
	}
	switch {
	case isRefused(err):
		return fmt.Sprintf("nothing accepts connections on %s: is %s enabled on port %s, and is it running?", addr, service, port)
	case strings.Contains(err.Error(), "malformed HTTP response"):
		return fmt.Sprintf("%s does not speak HTTP: is port %s really %s, not the game's own port?", addr, port, service)
	case answersAnotherProtocol(err):
		return fmt.Sprintf("something answers on %s but it is not %s: check the port in %s", addr, service, variable)
	case errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("no answer from %s: check the address in %s, and that no firewall blocks the port", addr, variable)
	}
	return ""
}

// errSilentPeer is what -check passes to a hint when a connection ran out of
// time but the port accepts TCP connections: something listens there and
// does not answer as the expected peer would.
var errSilentPeer = errors.New("the port accepts connections but nothing answered")

// answersAnotherProtocol reports an error from a port where the TCP
// connection was made but the peer did not answer in its protocol.
func answersAnotherProtocol(err error) bool {
	_, notWebSocket := errors.AsType[*ws.NoHandshakeError](err)
	_, notRCON := errors.AsType[*rcon.NotRCONError](err)
	return notWebSocket || notRCON || errors.Is(err, errSilentPeer)
}

// isRefused reports a connection refused: nothing listens on the port. The
// text is checked too because Windows reports it with its own error code.
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "actively refused")
}

func isTimeout(err error) bool {
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

// hostPort is the host and port a URL points at, the port filled in from the
// scheme when the URL has none. A URL that does not parse (a stray % in its
// path) still gives the host and port between "//" and the path.
func hostPort(rawURL string) (host, port string) {
	u, err := url.Parse(rawURL)
	if err != nil {
		rest := rawURL
		if _, after, ok := strings.Cut(rest, "//"); ok {
			rest = after
		}
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			rest = rest[:i]
		}
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			rest = rest[i+1:] // no credentials in a hint
		}
		u = &url.URL{Scheme: strings.ToLower(strings.SplitN(rawURL, ":", 2)[0]), Host: rest}
	}
	host, port = u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "wss" || u.Scheme == "https" {
			port = "443"
		}
	}
	return host, port
}

// oneBotPathProblem warns about a forward-WebSocket OneBot QQ_URL whose
// path makes one direction dead while the connection looks fine: on /api
// NapCat and LLBot send no events, on /event LLBot ignores actions (NapCat
// serves both there). eventsDead is set for /api, which no bot serves in
// full. "" when the URL is fine.
func oneBotPathProblem(cfg *Config) (warning string, eventsDead bool) {
	if cfg.QQProtocol != ProtocolOneBot || !(strings.HasPrefix(cfg.QQURL, "ws://") || strings.HasPrefix(cfg.QQURL, "wss://")) {
		return "", false
	}
	u, err := url.Parse(cfg.QQURL)
	if err != nil {
		return "", false
	}
	root := withPath(cfg.QQURL, "/")
	switch strings.TrimSuffix(u.Path, "/") {
	case "/api":
		return fmt.Sprintf("QQ_URL ends in /api, where NapCat and LLBot send no events, so QQ messages would never reach the game: use the root path, %s", root), true
	case "/event":
		return fmt.Sprintf("QQ_URL ends in /event, where LLBot ignores the bridge's actions, so nothing would reach QQ: use the root path, %s", root), false
	}
	return "", false
}

// withPath is raw with its path replaced by path, everything else (scheme,
// port as written, query with its token) kept, and its secrets hidden: a
// URL to copy into QQ_URL once the token is put back.
func withPath(raw, path string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return path
	}
	u.Path, u.RawPath = path, ""
	return redact.URL(u.String())
}

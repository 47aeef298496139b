package botkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/internal/listener"
	"github.com/mcqq/bridge/internal/safetext"
)

// MaxFrame is the largest event or action answer accepted, as a WebSocket
// session's read limit.
const MaxFrame = 4 << 20

// idleConnTimeout lets our idle keep-alive connections go before Node's HTTP
// server (NapCat, LLBot) drops its side after 5 s, so an action is not sent
// into a connection that is being closed.
const idleConnTimeout = 4 * time.Second

// ErrNotConnected is wrapped by every error of an action that could not
// reach the bot (and, over a WebSocket, of one sent while no bot is
// connected); callers test it with errors.Is(err, link.ErrNotConnected).
var ErrNotConnected = fmt.Errorf("not connected to the QQ bot: %w", link.ErrNotConnected)

// NewHTTPClient returns a client for a bot's HTTP API with a transport of
// its own, so Run can drop its idle connections on the way out
// (CloseIdleConnections). It has no overall timeout, since an SSE stream
// lives long; every action is bounded by its context instead. No
// ResponseHeaderTimeout either: an SSE server may hold its headers back
// until the first event.
func NewHTTPClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.IdleConnTimeout = idleConnTimeout
	return &http.Client{Transport: transport}
}

// Authorize sets "Authorization: Bearer <token>" unless token is empty.
func Authorize(h http.Header, token string) {
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
}

// Answer is the bot's answer to a POST: its status and its body.
type Answer struct {
	StatusCode int
	Status     string // e.g. "404 Not Found"
	Body       []byte
}

// Post runs one action over a bot's HTTP API: params (nil: {}) as a JSON
// body POSTed to url with the token. A look-up (an action named get_…) may
// be sent again by net/http when a kept-alive connection turns out to be
// closed; anything else never is, since a message must not arrive twice. A
// bot that cannot be reached gives an error wrapping ErrNotConnected; when
// ctx ends first, the error is its cause. An answer larger than MaxFrame is
// an error.
func Post(ctx context.Context, client *http.Client, url, token, action string, params any) (Answer, error) {
	return PostWithHeader(ctx, client, url, token, nil, strings.HasPrefix(action, "get_"), params)
}

// PostWithHeader is Post with extra request headers (Satori names the bot
// account in headers) and the caller saying whether the action is a
// look-up, safe to send twice.
func PostWithHeader(ctx context.Context, client *http.Client, url, token string, header http.Header, lookup bool, params any) (Answer, error) {
	if params == nil {
		params = struct{}{} // every protocol wants an object even without parameters
	}
	body, err := json.Marshal(params)
	if err != nil {
		return Answer{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Answer{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	Authorize(req.Header, token)
	if lookup {
		// Marks the request as safe to send again without the header going
		// on the wire.
		req.Header["Idempotency-Key"] = nil
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Answer{}, context.Cause(ctx)
		}
		return Answer{}, fmt.Errorf("%w: %w", ErrNotConnected, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, MaxFrame+1))
	if err != nil {
		if ctx.Err() != nil {
			return Answer{}, context.Cause(ctx)
		}
		return Answer{}, fmt.Errorf("reading the answer: %w", err)
	}
	if len(answer) > MaxFrame {
		return Answer{}, fmt.Errorf("answer larger than %d bytes", MaxFrame)
	}
	return Answer{StatusCode: resp.StatusCode, Status: resp.Status, Body: answer}, nil
}

// ReadPost reads the body of a webhook post, at most MaxFrame bytes. On
// failure it has answered the request (413 for a larger body, 503 when the
// listener is reading as many bodies as it may, 400 when reading fails) and
// logged it with the peer address.
func ReadPost(w http.ResponseWriter, r *http.Request, log *slog.Logger) ([]byte, bool) {
	body, err := readBody(http.MaxBytesReader(w, r.Body, MaxFrame), r.ContentLength)
	if err == nil {
		return body, true
	}
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		log.Warn("refused an oversized webhook post", "peer", r.RemoteAddr, "limit", MaxFrame)
		http.Error(w, "event too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	if errors.Is(err, listener.ErrBusy) {
		log.Warn("refused a webhook post: too many being read", "peer", r.RemoteAddr)
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return nil, false
	}
	log.Warn("reading a webhook post failed", "peer", r.RemoteAddr, "err", err.Error())
	http.Error(w, "cannot read the body", http.StatusBadRequest)
	return nil, false
}

// RefuseUnread answers a webhook post refused before its body was read, and
// closes the connection after the answer: otherwise net/http would first
// read what is left of the body (up to 256 KiB), and a sender that never
// finishes it would hold the answer back.
// It takes http.Error's arguments.
func RefuseUnread(w http.ResponseWriter, msg string, status int) {
	w.Header().Set("Connection", "close")
	http.Error(w, msg, status)
}

// readBody reads r to its end. The buffer grows with what arrives, never
// beyond a declared length (io.ReadAll's would overshoot by up to a half),
// so a body that is read costs about its size, and one that is only
// declared costs nothing.
func readBody(r io.Reader, declared int64) ([]byte, error) {
	size := 16 << 10
	if declared >= 0 && declared < int64(size) {
		size = int(declared)
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) == declared {
				// All that was declared has come: only the end should follow.
				var probe [1]byte
				n, err := r.Read(probe[:])
				if n == 0 {
					if errors.Is(err, io.EOF) {
						return buf, nil
					}
					if err != nil {
						return buf, err
					}
					continue
				}
				buf = append(buf, probe[0]) // more than declared: grow as for an unknown length
				declared = -1
				continue
			}
			grow := max(cap(buf), 512)
			if declared > int64(cap(buf)) {
				grow = min(grow, int(declared)-cap(buf))
			}
			bigger := make([]byte, len(buf), cap(buf)+grow)
			copy(bigger, buf)
			buf = bigger
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// BodyExcerpt is safetext.Excerpt of an HTTP body on one line (safetext.OneLine),
// for an error: errors end up in log lines, /readyz and -check's table,
// which a body's line breaks ("404 page not found\n", an HTML page) would
// break.
func BodyExcerpt(b []byte, limit int) string {
	return safetext.OneLine(safetext.Excerpt(b, limit))
}

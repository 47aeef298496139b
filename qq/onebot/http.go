package onebot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/qq"
)

// The HTTP transport (protocols §A.3–A.5): each action is a POST to
// {URL}/{action} with its params as the JSON body; events come from the SSE
// stream {URL}/_events or, with Options.Webhook, as the bot's signed POSTs
// to ServeHTTP.

const (
	// maxFrame is the largest event or action answer accepted (SPEC §4).
	maxFrame = 4 << 20
	// webhookHealthInterval is how often webhook mode, which has no stream
	// to watch, asks get_login_info whether the bot still answers.
	webhookHealthInterval = 30 * time.Second
	// idleConnTimeout lets our idle keep-alive connections go before Node's
	// HTTP server (NapCat, LLBot) drops its side after 5 s, so an action is
	// not sent into a connection that is being closed.
	idleConnTimeout = 4 * time.Second
)

// ErrTokenRejected is wrapped by the errors of HTTP actions and of the SSE
// stream when the bot answers 401 or 403: QQ_ACCESS_TOKEN does not match the
// bot's token.
var ErrTokenRejected = errors.New("the QQ bot rejected the access token")

// httpAPI is the bot's HTTP API. One client serves the actions and the SSE
// stream, so it has no overall timeout (the stream lives long); every action
// is bounded by RequestTimeout through its context instead.
type httpAPI struct {
	base      string // the URL without a trailing slash
	display   string // base for messages, without a password
	transport *http.Transport
	client    *http.Client
}

func newHTTPAPI(u *url.URL) (*httpAPI, error) {
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("want http(s)://host:port, optionally with a path prefix, and no query")
	}
	// An own transport, so Run can drop its idle connections on the way out.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.IdleConnTimeout = idleConnTimeout
	return &httpAPI{
		base:      strings.TrimRight(u.String(), "/"),
		display:   strings.TrimRight(u.Redacted(), "/"),
		transport: transport,
		client:    &http.Client{Transport: transport},
	}, nil
}

// runHTTP is Run over the HTTP API: it keeps the SSE stream open or, with
// webhooks, accepts posts through ServeHTTP while checking that the API
// answers, until ctx ends.
func (c *Client) runHTTP(ctx context.Context) {
	defer c.api.transport.CloseIdleConnections()
	if !c.opts.Webhook {
		link.Supervise(ctx, c.log, &c.state, c.endable(c.sseSession))
		return
	}
	c.acceptHandlers(ctx)
	link.Supervise(ctx, c.log, &c.state, c.endable(c.webhookSession))
	c.stopHandlers()
}

// endable wraps an HTTP-mode session so that linkLost can end it early.
func (c *Client) endable(session link.Session) link.Session {
	return func(ctx context.Context, up func()) error {
		sessionCtx, end := context.WithCancelCause(ctx)
		defer end(nil)
		c.mu.Lock()
		c.endSession = end
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.endSession = nil
			c.mu.Unlock()
		}()
		err := session(sessionCtx, up)
		if err == nil && ctx.Err() == nil && sessionCtx.Err() != nil {
			return context.Cause(sessionCtx) // ended by linkLost: say why
		}
		return err
	}
}

// linkLost is called when an action could not reach the bot at all. Over
// HTTP nothing else would notice before the next stream read or health
// check, so the running session ends now (link.Supervise retries it with
// backoff) and the link goes down at once rather than when the session has
// returned: senders then hold their messages until the bot is back instead
// of retrying into the void.
func (c *Client) linkLost(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endSession == nil {
		return // between sessions: the link is down already
	}
	c.endSession(err)
	// Under mu: the next session registers before it can come up, so this
	// cannot take down a newer session that is already up.
	c.state.Set(false, err)
}

func (c *Client) authorize(h http.Header) {
	if c.opts.AccessToken != "" {
		h.Set("Authorization", "Bearer "+c.opts.AccessToken)
	}
}

// postAction runs one action over the HTTP API and returns the bot's answer,
// a response envelope as on the WebSocket. A failed action is an envelope
// too, whatever the HTTP status (LLBot answers an unknown action with 404),
// and so becomes a *qq.APIError in call. A bot that cannot be reached gives
// an error wrapping link.ErrNotConnected.
func (c *Client) postAction(ctx context.Context, action string, params any) ([]byte, error) {
	body, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.api.base+"/"+url.PathEscape(action), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	c.authorize(req.Header)
	if strings.HasPrefix(action, "get_") {
		// Marks a look-up as safe to send again when a kept-alive connection
		// turns out to be closed, without the header going on the wire.
		// Sends are never sent twice: a message must not arrive twice.
		req.Header["Idempotency-Key"] = nil
	}
	resp, err := c.api.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		err = fmt.Errorf("%w: %w", errNotConnected, err)
		c.linkLost(err)
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxFrame+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if len(answer) > maxFrame {
		return nil, fmt.Errorf("answer larger than %d bytes", maxFrame)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return nil, tokenRejected(resp.Status, answer)
	}
	if _, kind, err := DecodeEvent(answer); err != nil || kind != FrameResponse {
		return nil, fmt.Errorf("HTTP %s without a OneBot answer (is QQ_URL the bot's OneBot HTTP API?): %s",
			resp.Status, excerpt(bytes.TrimSpace(answer), 200))
	}
	return answer, nil
}

// tokenRejected explains a 401 or 403 with the start of the bot's answer
// (NapCat: {"message":"token verify failed!"}).
func tokenRejected(status string, body []byte) error {
	detail := "HTTP " + status
	if body = bytes.TrimSpace(body); len(body) > 0 {
		detail += ": " + excerpt(body, 100)
	}
	return fmt.Errorf("%w (%s): check QQ_ACCESS_TOKEN", ErrTokenRejected, detail)
}

// webhookSession is the link in webhook mode, where events need no
// connection: up once get_login_info answers, then checked again every
// healthInterval; the first failure ends the session.
func (c *Client) webhookSession(ctx context.Context, up func()) error {
	if err := c.checkLogin(ctx); err != nil {
		return err
	}
	up()
	ticker := time.NewTicker(c.healthInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			if err := c.checkLogin(ctx); err != nil {
				return fmt.Errorf("health check: %w", err)
			}
		}
	}
}

// checkLogin calls get_login_info and learns SelfID from it. Any answer
// from the bot, even a failed action, shows that it is reachable and takes
// our token.
func (c *Client) checkLogin(ctx context.Context) error {
	data, err := c.call(ctx, "get_login_info", struct{}{})
	if _, answered := errors.AsType[*qq.APIError](err); answered {
		return nil
	}
	if err != nil {
		return err
	}
	var info struct {
		UserID wireInt `json:"user_id"`
	}
	if json.Unmarshal(data, &info) == nil {
		c.learnSelfID(int64(info.UserID))
	}
	return nil
}

// sseSession reads the bot's SSE stream {URL}/_events until it ends;
// link.Supervise opens it again. The link is up while the stream is open.
func (c *Client) sseSession(ctx context.Context, up func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.api.base+"/_events", nil)
	if err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	c.authorize(req.Header)
	resp, err := c.api.client.Do(req)
	if err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("event stream: %w", tokenRejected(resp.Status, body))
	default:
		return c.noEventStream("HTTP " + resp.Status)
	}
	// NapCat's plain HTTP server answers /_events as an unknown action, in
	// JSON; only its "HTTP SSE server" streams.
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return c.noEventStream(fmt.Sprintf("content type %q", mt))
	}
	up()
	err = readSSE(resp.Body, maxFrame,
		func(data []byte) { c.handleFrame(ctx, nil, data) },
		func(size int) {
			c.log.Warn("skipping an oversized event from the QQ bot's stream", "bytes", size, "limit", maxFrame)
		})
	if ctx.Err() != nil {
		return nil
	}
	if err == nil {
		err = errors.New("the bot ended the stream")
	}
	return fmt.Errorf("event stream: %w", err)
}

func (c *Client) noEventStream(got string) error {
	return fmt.Errorf("event stream: %s/_events is no SSE stream (%s): enable the bot's SSE (NapCat: an HTTP SSE server), or set QQ_LISTEN to receive events as webhook posts",
		c.api.display, got)
}

// serveWebhook receives the bot's event posts (protocols §A.4). With an
// access token configured, the X-Signature of the raw body is checked before
// the body is parsed: a post without one gets 401, one with a wrong one 403,
// both logged with the peer address; without a token every post is taken.
// A good post is answered 204 (no quick operation) once its event is queued,
// a body that is not an event 400, and any post 503 unless Run is running
// in webhook mode.
func (c *Client) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if !c.opts.Webhook {
		http.Error(w, "webhook receiver not enabled", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "events are POSTed", http.StatusMethodNotAllowed)
		return
	}
	peer := r.RemoteAddr
	// Read before registering with Run, so a slow sender cannot hold up
	// Run's return.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFrame))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			c.log.Warn("refused an oversized webhook post", "peer", peer, "limit", maxFrame)
			http.Error(w, "event too large", http.StatusRequestEntityTooLarge)
			return
		}
		c.log.Warn("reading a webhook post failed", "peer", peer, "err", err.Error())
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	switch status := c.signatureStatus(r.Header.Get("X-Signature"), body); status {
	case http.StatusUnauthorized:
		c.log.Warn("refused a webhook post without a signature", "peer", peer)
		http.Error(w, "X-Signature required", status)
		return
	case http.StatusForbidden:
		c.log.Warn("refused a webhook post with a wrong signature", "peer", peer)
		http.Error(w, "wrong X-Signature", status)
		return
	}
	ctx, ok := c.startHandler()
	if !ok {
		http.Error(w, "not running", http.StatusServiceUnavailable)
		return
	}
	defer c.handlers.Done()

	ev, kind, err := DecodeEvent(body)
	if err == nil && kind == FrameResponse {
		err = errors.New("an action response, not an event")
	}
	if err != nil {
		c.log.Warn("skipping a bad webhook post", "peer", peer, "err", err.Error(), "frame", excerpt(body, 200))
		http.Error(w, "not a OneBot event", http.StatusBadRequest)
		return
	}
	if id, err := strconv.ParseInt(strings.TrimSpace(r.Header.Get("X-Self-ID")), 10, 64); err == nil {
		c.learnSelfID(id) // before handleEvent, which drops the bot's own messages by it
	}
	c.handleEvent(ctx, ev, kind)
	if ctx.Err() != nil {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// signatureStatus checks X-Signature, "sha1=" and the hex HMAC-SHA1 of the
// body keyed with the access token, in constant time: 200 when it matches or
// no token is configured, 401 when it is missing, 403 when it is wrong.
func (c *Client) signatureStatus(header string, body []byte) int {
	token := c.opts.AccessToken
	if token == "" {
		return http.StatusOK
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return http.StatusUnauthorized
	}
	hexSum, isSHA1 := strings.CutPrefix(header, "sha1=")
	got, err := hex.DecodeString(hexSum)
	if !isSHA1 || err != nil {
		return http.StatusForbidden
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return http.StatusForbidden
	}
	return http.StatusOK
}

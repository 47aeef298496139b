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

	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/internal/safetext"
	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/internal/botkit"
)

// The HTTP transport (docs/protocols.md#onebot-transports): each action is a
// POST to {URL}/{action} with its params as the JSON body; events come from the
// SSE stream {URL}/_events or, with Options.Webhook, as the bot's signed POSTs
// to ServeHTTP.

// ErrTokenRejected is wrapped by the errors of HTTP actions and of the SSE
// stream when the bot answers 401 or 403: QQ_ACCESS_TOKEN does not match the
// bot's token.
var ErrTokenRejected = errors.New("the QQ bot rejected the access token")

// httpAPI is the bot's HTTP API. Its client serves the actions and the SSE
// stream.
type httpAPI struct {
	base    string // the URL without a trailing slash
	display string // base for messages, without a password
	client  *http.Client
}

func newHTTPAPI(u *url.URL) (*httpAPI, error) {
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("want http(s)://host:port, optionally with a path prefix, and no query")
	}
	return &httpAPI{
		base:    strings.TrimRight(u.String(), "/"),
		display: strings.TrimRight(u.Redacted(), "/"),
		client:  botkit.NewHTTPClient(),
	}, nil
}

// runHTTP is Run over the HTTP API: it keeps the SSE stream open or, with
// webhooks, accepts posts through ServeHTTP while checking that the API
// answers, until ctx ends.
func (c *Client) runHTTP(ctx context.Context) {
	defer c.api.client.CloseIdleConnections()
	if !c.opts.Webhook {
		link.Supervise(ctx, c.log, &c.state, c.ender.Wrap(c.sseSession))
		return
	}
	c.gate.Open(ctx)
	link.Supervise(ctx, c.log, &c.state, c.ender.Wrap(botkit.WebhookSession(c.checkLogin, c.healthInterval)))
	c.gate.Close()
}

// postAction runs one action over the HTTP API and returns the bot's answer,
// a response envelope as on the WebSocket. A failed action is an envelope
// too, whatever the HTTP status (LLBot answers an unknown action with 404),
// and so becomes a *qq.APIError in call. A bot that cannot be reached gives
// an error wrapping link.ErrNotConnected and ends the running event session.
func (c *Client) postAction(ctx context.Context, action string, params any) ([]byte, error) {
	answer, err := botkit.Post(ctx, c.api.client, c.api.base+"/"+url.PathEscape(action), c.opts.AccessToken, action, params)
	if errors.Is(err, botkit.ErrNotConnected) {
		c.ender.Lost(err)
	}
	if err != nil {
		return nil, err
	}
	if answer.StatusCode == http.StatusUnauthorized || answer.StatusCode == http.StatusForbidden {
		return nil, tokenRejected(answer.Status, answer.Body)
	}
	if _, kind, err := DecodeEvent(answer.Body); err != nil || kind != FrameResponse {
		return nil, fmt.Errorf("HTTP %s without a OneBot answer (is QQ_URL the bot's OneBot HTTP API?): %s",
			answer.Status, botkit.BodyExcerpt(answer.Body, 200))
	}
	return answer.Body, nil
}

// tokenRejected explains a 401 or 403 with the start of the bot's answer
// (NapCat: {"message":"token verify failed!"}).
func tokenRejected(status string, body []byte) error {
	detail := "HTTP " + status
	if body = bytes.TrimSpace(body); len(body) > 0 {
		detail += ": " + botkit.BodyExcerpt(body, 100)
	}
	return fmt.Errorf("%w (%s): check QQ_ACCESS_TOKEN", ErrTokenRejected, detail)
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
		UserID wirejson.Int `json:"user_id"`
	}
	if json.Unmarshal(data, &info) == nil {
		c.learnSelfID(int64(info.UserID))
	}
	return nil
}

// sseSession reads the bot's SSE stream {URL}/_events until it ends;
// link.Supervise opens it again. The link is up while the stream is open
// and, when it has been quiet for a while, the bot still answers.
func (c *Client) sseSession(ctx context.Context, up func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.api.base+"/_events", nil)
	if err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	botkit.Authorize(req.Header, c.opts.AccessToken)
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
	body, stopWatch := botkit.WatchQuiet(ctx, resp.Body, c.healthInterval, c.checkLogin, c.ender.Lost)
	defer stopWatch()
	err = botkit.ReadSSE(body, botkit.MaxFrame,
		func(_ string, data []byte) { c.handleFrame(nil, data) },
		func(size int) {
			c.log.Warn("skipping an oversized event from the QQ bot's stream", "bytes", size, "limit", botkit.MaxFrame)
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

// serveWebhook receives the bot's event posts
// (docs/protocols.md#onebot-transports). With an access token configured, a
// post without an X-Signature gets 401 and one whose X-Signature is not "sha1="
// and 40 hex digits 403 before its body is read, so unsigned posts cost
// nothing; then the signature of the raw body is checked before the body is
// parsed (403 when wrong). Refusals are logged with the peer address; without a
// token every post is taken. A good post is answered 204 (no quick operation)
// once its event is queued, a body that is not an event 400, and any post 503
// unless Run is running in webhook mode or once the relay has stopped taking
// events.
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
	signature := r.Header.Get("X-Signature")
	status := c.signatureShape(signature)
	var body []byte
	if status == http.StatusOK {
		// Read before registering with Run, so a slow sender cannot hold up
		// Run's return.
		var ok bool
		if body, ok = botkit.ReadPost(w, r, c.log); !ok {
			return
		}
		status = c.signatureStatus(signature, body)
	}
	refuse := http.Error
	if body == nil {
		refuse = botkit.RefuseUnread
	}
	switch status {
	case http.StatusUnauthorized:
		c.log.Warn("refused a webhook post without a signature", "peer", peer)
		refuse(w, "X-Signature required", status)
		return
	case http.StatusForbidden:
		c.log.Warn("refused a webhook post with a wrong signature", "peer", peer)
		refuse(w, "wrong X-Signature", status)
		return
	}
	if _, ok := c.gate.Enter(); !ok {
		http.Error(w, "not running", http.StatusServiceUnavailable)
		return
	}
	defer c.gate.Leave()

	ev, kind, err := DecodeEvent(body)
	if err == nil && kind == FrameResponse {
		err = errors.New("an action response, not an event")
	}
	if err != nil {
		c.log.Warn("skipping a bad webhook post", "peer", peer, "err", err.Error(), "frame", safetext.Excerpt(body, 200))
		http.Error(w, "not a OneBot event", http.StatusBadRequest)
		return
	}
	if id, err := strconv.ParseInt(strings.TrimSpace(r.Header.Get("X-Self-ID")), 10, 64); err == nil {
		c.learnSelfID(id) // before handleEvent, which drops the bot's own messages by it
	}
	if !c.handleEvent(ev, kind, len(body)) {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// signatureShape checks what X-Signature can tell without the body: 200
// when it is "sha1=" and 40 hex digits or no token is configured, 401 when
// it is missing, 403 when it is something else.
func (c *Client) signatureShape(header string) int {
	if c.opts.AccessToken == "" {
		return http.StatusOK
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return http.StatusUnauthorized
	}
	hexSum, isSHA1 := strings.CutPrefix(header, "sha1=")
	if _, err := hex.DecodeString(hexSum); !isSHA1 || err != nil || len(hexSum) != 2*sha1.Size {
		return http.StatusForbidden
	}
	return http.StatusOK
}

// signatureStatus checks X-Signature, "sha1=" and the hex HMAC-SHA1 of the
// body keyed with the access token, in constant time: 200 when it matches or
// no token is configured, 401 when it is missing, 403 when it is wrong.
func (c *Client) signatureStatus(header string, body []byte) int {
	token := c.opts.AccessToken
	if token == "" {
		return http.StatusOK
	}
	if status := c.signatureShape(header); status != http.StatusOK {
		return status
	}
	got, _ := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(header), "sha1="))
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return http.StatusForbidden
	}
	return http.StatusOK
}

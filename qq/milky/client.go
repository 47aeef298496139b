// Package milky is the bridge's client for Milky, the HTTP-based QQ bot
// protocol of LLBot, Lagrange.Milky and yogurt (protocols §F): actions are
// JSON POSTs to {base}/api/{name}; events arrive over a WebSocket or SSE
// stream at {base}/event, or as webhook POSTs the bot sends to us.
//
// Milky's wire shapes are translated into the neutral model of package qq
// with OneBot names, so the relay and the formatter never see them.
package milky

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcqq/bridge/internal/cache"
	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/qq"
)

// Options configure a Client.
type Options struct {
	// BaseURL is QQ_URL: http(s)://host:port plus the implementation's
	// optional prefix path, e.g. http://127.0.0.1:3010.
	BaseURL string
	// AccessToken is sent as "Authorization: Bearer …" on API calls and the
	// event stream, and required from webhook posts. "" disables both.
	AccessToken string
	// Webhook: events arrive through ServeHTTP (QQ_LISTEN) instead of the
	// WebSocket/SSE stream.
	Webhook bool
	// RequestTimeout bounds every API call (default 10 s).
	RequestTimeout time.Duration
	Logger         *slog.Logger
}

const (
	defaultRequestTimeout = 10 * time.Second
	// maxFrame is the largest event or API answer accepted (SPEC §4).
	maxFrame = 4 << 20
	// eventBuffer lets the relay fall behind briefly without stalling the
	// stream reader.
	eventBuffer = 256

	lookupCacheSize = 4096
	lookupTTL       = 10 * time.Minute // members and group names
	messageTTL      = 30 * time.Minute // quoted messages
)

// ErrUnauthorized means the bot refused our access token (HTTP 401/403 or a
// WebSocket close 1008); check QQ_ACCESS_TOKEN.
var ErrUnauthorized = errors.New("access token rejected")

// Client talks to one Milky implementation. All methods are safe for
// concurrent use; Run must be called once.
type Client struct {
	opts      Options
	log       *slog.Logger
	base      string // BaseURL without a trailing slash
	transport *http.Transport
	http      *http.Client // no overall timeout: the SSE stream lives long

	state  link.State
	selfID atomic.Int64
	events chan qq.Event

	members  *cache.Cache[memberKey, qq.Member]
	groups   *cache.Cache[int64, string]
	messages *cache.Cache[string, qq.Message]

	// sseNoticed is only touched by the Run goroutine: the first fall-back
	// to SSE is logged at Info, later ones at Debug.
	sseNoticed bool
}

type memberKey struct{ group, user int64 }

// New checks the options and prepares a client; it does no I/O.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("milky: base URL %q: want http(s)://host:port with an optional prefix path", o.BaseURL)
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = defaultRequestTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	// An own transport so Run can drop its idle connections on the way out.
	// No ResponseHeaderTimeout: API calls are bounded by their context, and
	// an SSE server may hold its headers back until the first event.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Node's HTTP server (LLBot) drops idle connections after 5 s; letting
	// ours go first avoids sending a request into a connection being closed.
	transport.IdleConnTimeout = 4 * time.Second
	return &Client{
		opts:      o,
		log:       o.Logger,
		base:      strings.TrimRight(u.String(), "/"),
		transport: transport,
		http:      &http.Client{Transport: transport},
		events:    make(chan qq.Event, eventBuffer),
		members:   cache.New[memberKey, qq.Member](lookupCacheSize, lookupTTL),
		groups:    cache.New[int64, string](lookupCacheSize, lookupTTL),
		messages:  cache.New[string, qq.Message](lookupCacheSize, messageTTL),
	}, nil
}

// Events delivers group and private messages from others. It is never
// closed: webhook posts may still arrive while Run is stopping.
func (c *Client) Events() <-chan qq.Event { return c.events }

// State is the event stream's state; in webhook mode, whether the last API
// call reached the bot.
func (c *Client) State() *link.State { return &c.state }

// SelfID is the bot's QQ number, learned from get_login_info; 0 until then.
func (c *Client) SelfID() int64 { return c.selfID.Load() }

// SendGroupMessage sends msg to a group (send_group_message). Outgoing
// segments: text, at (mention / mention_all), face, reply, image, record,
// video; any other type fails the call.
func (c *Client) SendGroupMessage(ctx context.Context, group int64, msg []qq.Segment) error {
	segs, err := encodeSegments(msg)
	if err != nil {
		return fmt.Errorf("milky send_group_message: %w", err)
	}
	return c.call(ctx, "send_group_message", struct {
		GroupID int64             `json:"group_id"`
		Message []outgoingSegment `json:"message"`
	}{group, segs}, nil)
}

// SendPrivateMessage sends msg to a friend (send_private_message).
func (c *Client) SendPrivateMessage(ctx context.Context, user int64, msg []qq.Segment) error {
	segs, err := encodeSegments(msg)
	if err != nil {
		return fmt.Errorf("milky send_private_message: %w", err)
	}
	return c.call(ctx, "send_private_message", struct {
		UserID  int64             `json:"user_id"`
		Message []outgoingSegment `json:"message"`
	}{user, segs}, nil)
}

// Member looks up a group member (get_group_member_info), cached; senders of
// received group messages are cached as they arrive.
func (c *Client) Member(ctx context.Context, group, user int64) (qq.Member, error) {
	return c.members.Fetch(ctx, memberKey{group, user}, func(ctx context.Context) (qq.Member, error) {
		var data struct {
			Member memberEntity `json:"member"`
		}
		params := struct {
			GroupID int64 `json:"group_id"`
			UserID  int64 `json:"user_id"`
			NoCache bool  `json:"no_cache"`
		}{GroupID: group, UserID: user}
		if err := c.call(ctx, "get_group_member_info", params, &data); err != nil {
			return qq.Member{}, err
		}
		m := data.Member.member()
		m.UserID = user
		return m, nil
	})
}

// GroupName looks up a group's name (get_group_info), cached.
func (c *Client) GroupName(ctx context.Context, group int64) (string, error) {
	return c.groups.Fetch(ctx, group, func(ctx context.Context) (string, error) {
		var data struct {
			Group groupEntity `json:"group"`
		}
		params := struct {
			GroupID int64 `json:"group_id"`
			NoCache bool  `json:"no_cache"`
		}{GroupID: group}
		if err := c.call(ctx, "get_group_info", params, &data); err != nil {
			return "", err
		}
		return string(data.Group.Name), nil
	})
}

// GetMessage fetches a message by its ID "<scene>:<peer_id>:<message_seq>"
// (get_message), cached; received messages are cached as they arrive.
func (c *Client) GetMessage(ctx context.Context, id string) (qq.Message, error) {
	scene, peer, seq, err := parseMessageID(id)
	if err != nil {
		return qq.Message{}, err
	}
	return c.messages.Fetch(ctx, id, func(ctx context.Context) (qq.Message, error) {
		var data struct {
			Message incomingMessage `json:"message"`
		}
		params := struct {
			Scene string `json:"message_scene"`
			Peer  int64  `json:"peer_id"`
			Seq   int64  `json:"message_seq"`
		}{scene, peer, seq}
		if err := c.call(ctx, "get_message", params, &data); err != nil {
			return qq.Message{}, err
		}
		msg, err := data.Message.message()
		if err != nil {
			return qq.Message{}, fmt.Errorf("milky get_message: %w", err)
		}
		return msg, nil
	})
}

// login calls get_login_info: it validates the token and learns SelfID.
func (c *Client) login(ctx context.Context) error {
	var info struct {
		UIN      jsonInt  `json:"uin"`
		Nickname jsonText `json:"nickname"`
	}
	if err := c.call(ctx, "get_login_info", nil, &info); err != nil {
		return err
	}
	if info.UIN == 0 {
		return errors.New("milky get_login_info: no uin in the answer")
	}
	if old := c.selfID.Swap(int64(info.UIN)); old != int64(info.UIN) {
		c.log.Info("QQ account", "self_id", int64(info.UIN), "nickname", string(info.Nickname))
	}
	return nil
}

// call posts one API request and decodes the data of a successful answer into
// out (nil: ignored). It is bounded by RequestTimeout.
func (c *Client) call(ctx context.Context, api string, params, out any) (err error) {
	if c.opts.Webhook {
		defer func() { c.noteAPIResult(ctx, err) }()
	}
	if params == nil {
		params = struct{}{} // Milky wants an object even without parameters
	}
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("milky %s: %w", api, err)
	}
	reqCtx, cancel := context.WithTimeoutCause(ctx, c.opts.RequestTimeout,
		fmt.Errorf("no answer within %s: %w", c.opts.RequestTimeout, context.DeadlineExceeded))
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, c.base+"/api/"+api, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("milky %s: %w", api, err)
	}
	req.Header.Set("Content-Type", "application/json")
	c.authorize(req.Header)
	if strings.HasPrefix(api, "get_") {
		// A look-up may be sent again when a kept-alive connection turns out
		// to be closed; the empty key marks it so without going on the wire.
		// Sends are never retried: a message must not arrive twice.
		req.Header["Idempotency-Key"] = nil
	}

	resp, err := c.http.Do(req)
	if err != nil {
		if reqCtx.Err() != nil {
			return fmt.Errorf("milky %s: %w", api, context.Cause(reqCtx))
		}
		return fmt.Errorf("milky %s: %w", api, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxFrame+1))
	if err != nil {
		if reqCtx.Err() != nil {
			err = context.Cause(reqCtx)
		}
		return fmt.Errorf("milky %s: reading the answer: %w", api, err)
	}
	if len(answer) > maxFrame {
		return fmt.Errorf("milky %s: answer larger than %d bytes", api, maxFrame)
	}
	if err := httpStatusError(resp); err != nil {
		return fmt.Errorf("milky %s: %w", api, err)
	}
	return decodeAnswer(api, answer, out)
}

// httpStatusError explains the statuses Milky uses besides 200 (protocols
// §F.1): 401 bad token, 404 unknown API, 415 wrong content type.
func httpStatusError(resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w (HTTP %s): check QQ_ACCESS_TOKEN", ErrUnauthorized, resp.Status)
	case http.StatusNotFound:
		return fmt.Errorf("API not found (HTTP %s): check that QQ_URL is the Milky base URL, prefix included", resp.Status)
	case http.StatusUnsupportedMediaType:
		return fmt.Errorf("request refused as not JSON (HTTP %s)", resp.Status)
	}
	return fmt.Errorf("unexpected HTTP status %s", resp.Status)
}

// decodeAnswer checks the envelope {"status":"ok","retcode":0,"data":…}
// and decodes data into out; a failure is a *qq.APIError.
func decodeAnswer(api string, answer []byte, out any) error {
	var env struct {
		Status  string          `json:"status"`
		Retcode jsonInt         `json:"retcode"`
		Message jsonText        `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(answer, &env); err != nil || env.Status == "" {
		return fmt.Errorf("milky %s: not a Milky answer: %s", api, excerpt(answer, 200))
	}
	if env.Status != "ok" || env.Retcode != 0 {
		return fmt.Errorf("milky: %w", &qq.APIError{Action: api, Retcode: int64(env.Retcode), Message: string(env.Message)})
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("milky %s: decoding data: %w", api, err)
	}
	return nil
}

// noteAPIResult keeps State in webhook mode, where no stream shows whether
// the bot is reachable: any answer from the bot, even a failure, means up.
func (c *Client) noteAPIResult(ctx context.Context, err error) {
	var apiErr *qq.APIError
	switch {
	case err == nil || errors.As(err, &apiErr):
		c.state.Set(true, nil)
	case errors.Is(ctx.Err(), context.Canceled):
		// The caller gave up; that says nothing about the bot.
	default:
		c.state.Set(false, err)
	}
}

func (c *Client) authorize(h http.Header) {
	if c.opts.AccessToken != "" {
		h.Set("Authorization", "Bearer "+c.opts.AccessToken)
	}
}

// Package milky is the bridge's client for Milky, the HTTP-based QQ bot
// protocol of LLBot, Lagrange.Milky and yogurt (docs/protocols.md#milky):
// actions are JSON POSTs to {base}/api/{name}; events arrive over a WebSocket
// or SSE stream at {base}/event, or as webhook POSTs the bot sends to us.
//
// Milky's wire shapes are translated into the neutral model of package qq
// with OneBot names, so the relay and the formatter never see them.
package milky

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcqq/bridge/internal/inbox"
	"github.com/mcqq/bridge/internal/link"
	"github.com/mcqq/bridge/internal/redact"
	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/qq"
	"github.com/mcqq/bridge/qq/internal/botkit"
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
	// Inbox bounds the events waiting for the relay (Name and Logger are
	// filled in).
	Inbox inbox.Options
}

const (
	defaultRequestTimeout = link.DefaultRequestTimeout
)

// ErrUnauthorized means the bot refused our access token (HTTP 401/403 or a
// WebSocket close 1008); check QQ_ACCESS_TOKEN.
var ErrUnauthorized = errors.New("access token rejected")

// Client talks to one Milky implementation. All methods are safe for
// concurrent use; Run must be called once.
type Client struct {
	opts Options
	log  *slog.Logger
	base string       // BaseURL without a trailing slash
	http *http.Client // serves the API calls and the SSE stream

	state  link.State
	selfID atomic.Int64
	events *inbox.Inbox[qq.Event]
	// ender lets an API call that cannot reach the bot end the running
	// session (event stream or webhook health check).
	ender *botkit.Ender
	// gate binds webhook handlers to Run.
	gate botkit.Gate
	// healthInterval is how often webhook mode checks that the API answers,
	// and how long an SSE stream may be quiet before that is checked too.
	healthInterval time.Duration

	lookups *botkit.Lookups

	// sseNoticed is only touched by the Run goroutine: the first fall-back
	// to SSE is logged at Info, later ones at Debug.
	sseNoticed bool
}

// New checks the options and prepares a client; it does no I/O.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("milky: base URL %q: want http(s)://host:port with an optional prefix path", redact.URL(o.BaseURL))
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = defaultRequestTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		opts:           o,
		log:            o.Logger,
		base:           strings.TrimRight(u.String(), "/"),
		http:           botkit.NewHTTPClient(),
		events:         botkit.NewInbox(o.Inbox, o.Logger),
		healthInterval: botkit.HealthInterval,
		lookups:        botkit.NewLookups(),
	}
	c.ender = botkit.NewEnder(&c.state)
	return c, nil
}

// Events holds group and private messages from others until the relay takes
// them. The stream's reader and the webhook handler never wait for it.
func (c *Client) Events() *inbox.Inbox[qq.Event] { return c.events }

// State is the connection state: up while the event stream is open, or, with
// webhooks, while the bot answers get_login_info (checked every 30 s); an API
// call that cannot reach the bot takes it down at once.
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
	return c.lookups.Member(ctx, group, user, func(ctx context.Context) (qq.Member, error) {
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
	return c.lookups.GroupName(ctx, group, func(ctx context.Context) (string, error) {
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

// Groups lists the groups the bot is in (get_group_list), uncached: -check
// asks it once.
func (c *Client) Groups(ctx context.Context) ([]int64, error) {
	var data struct {
		Groups []struct {
			GroupID wirejson.Int `json:"group_id"`
		} `json:"groups"`
	}
	if err := c.call(ctx, "get_group_list", struct {
		NoCache bool `json:"no_cache"`
	}{}, &data); err != nil {
		return nil, err
	}
	groups := make([]int64, len(data.Groups))
	for i, g := range data.Groups {
		groups[i] = int64(g.GroupID)
	}
	return groups, nil
}

// GetMessage fetches a message by its ID "<scene>:<peer_id>:<message_seq>"
// (get_message), cached; received messages are cached as they arrive.
func (c *Client) GetMessage(ctx context.Context, id string) (qq.Message, error) {
	scene, peer, seq, err := parseMessageID(id)
	if err != nil {
		return qq.Message{}, err
	}
	return c.lookups.Message(ctx, id, func(ctx context.Context) (qq.Message, error) {
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
		UIN      wirejson.Int    `json:"uin"`
		Nickname wirejson.String `json:"nickname"`
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
// out (nil: ignored). It is bounded by RequestTimeout. A bot that cannot be
// reached gives an error wrapping link.ErrNotConnected and ends the running
// session.
func (c *Client) call(ctx context.Context, api string, params, out any) error {
	ctx, cancel := context.WithTimeoutCause(ctx, c.opts.RequestTimeout,
		fmt.Errorf("no answer within %s: %w", c.opts.RequestTimeout, context.DeadlineExceeded))
	defer cancel()
	answer, err := botkit.Post(ctx, c.http, c.base+"/api/"+api, c.opts.AccessToken, api, params)
	if errors.Is(err, botkit.ErrNotConnected) {
		c.ender.Lost(err)
	}
	if err != nil {
		return fmt.Errorf("milky %s: %w", api, err)
	}
	if err := httpStatusError(answer.StatusCode, answer.Status); err != nil {
		return fmt.Errorf("milky %s: %w", api, err)
	}
	return decodeAnswer(api, answer.Body, out)
}

// httpStatusError explains the statuses Milky uses besides 200: 401 bad
// token, 404 unknown API, 415 wrong content type.
func httpStatusError(code int, status string) error {
	switch code {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w (HTTP %s): check QQ_ACCESS_TOKEN", ErrUnauthorized, status)
	case http.StatusNotFound:
		return fmt.Errorf("API not found (HTTP %s): check that QQ_URL is the Milky base URL, prefix included", status)
	case http.StatusUnsupportedMediaType:
		return fmt.Errorf("request refused as not JSON (HTTP %s)", status)
	}
	return fmt.Errorf("unexpected HTTP status %s", status)
}

// decodeAnswer checks the envelope {"status":"ok","retcode":0,"data":…}
// and decodes data into out; a failure is a *qq.APIError.
func decodeAnswer(api string, answer []byte, out any) error {
	var env struct {
		Status  string          `json:"status"`
		Retcode wirejson.Int    `json:"retcode"`
		Message wirejson.String `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(answer, &env); err != nil || env.Status == "" {
		return fmt.Errorf("milky %s: not a Milky answer: %s", api, botkit.BodyExcerpt(answer, 200))
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

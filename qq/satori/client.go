package satori

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
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
	// BaseURL is QQ_URL: the server's base up to, not including, /v1
	// (LLBot http://127.0.0.1:5600, Koishi http://127.0.0.1:5140/satori).
	BaseURL string
	// AccessToken is sent as "Authorization: Bearer …" on API calls and in
	// IDENTIFY. "" sends none.
	AccessToken string
	// RequestTimeout bounds every API call and the wait for READY
	// (default 10 s).
	RequestTimeout time.Duration
	Logger         *slog.Logger
	// Inbox bounds the events waiting for the relay (Name and Logger are
	// filled in).
	Inbox inbox.Options
}

const (
	defaultRequestTimeout = link.DefaultRequestTimeout
	// pingInterval is how often the client PINGs; servers expect one about
	// every 10 s.
	pingInterval = 10 * time.Second
)

// ErrUnauthorized means the server refused our access token (HTTP 403
// "invalid token", or the event stream closed with 4004); check
// QQ_ACCESS_TOKEN.
var ErrUnauthorized = errors.New("access token rejected")

// ErrNotFound means the server has no Satori API or event stream at the
// base URL (HTTP 404 or 405): QQ_URL lacks the path prefix the server
// mounts under (Koishi: /satori), or is some other server's.
var ErrNotFound = errors.New("not found")

// Client talks to one Satori server. All methods are safe for concurrent
// use; Run must be called once.
type Client struct {
	opts Options
	log  *slog.Logger
	base string       // BaseURL without a trailing slash
	http *http.Client // serves the API calls

	state link.State
	// login is the account READY named; nil until then. API calls name it
	// in their headers.
	login  atomic.Pointer[Login]
	events *inbox.Inbox[qq.Event]
	// ender lets an API call that cannot reach the server end the running
	// event-stream session.
	ender   *botkit.Ender
	lookups *botkit.Lookups
	// pingInterval is how often the session PINGs (tests shorten it).
	pingInterval time.Duration
	// lastSN is the sn of the last event, sent in IDENTIFY so a server that
	// can resume knows where we left off.
	lastSN atomic.Int64
}

// New checks the options and prepares a client; it does no I/O.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("satori: base URL %q: want http(s)://host:port with an optional prefix path, e.g. http://127.0.0.1:5600", redact.URL(o.BaseURL))
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = defaultRequestTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimRight(u.String(), "/")
	base = strings.TrimSuffix(base, "/v1") // the base stops before /v1; forgive it being included
	c := &Client{
		opts:         o,
		log:          o.Logger,
		base:         base,
		http:         botkit.NewHTTPClient(),
		events:       botkit.NewInbox(o.Inbox, o.Logger),
		lookups:      botkit.NewLookups(),
		pingInterval: pingInterval,
	}
	c.ender = botkit.NewEnder(&c.state)
	return c, nil
}

// Events holds group and private messages from others until the relay takes
// them. The stream's reader never waits for it.
func (c *Client) Events() *inbox.Inbox[qq.Event] { return c.events }

// State is the connection state: up from READY until the event stream
// ends; an API call that cannot reach the server takes it down at once.
func (c *Client) State() *link.State { return &c.state }

// SelfID is the bot's QQ number, learned from READY; 0 until then.
func (c *Client) SelfID() int64 {
	if l := c.login.Load(); l != nil {
		return parseQQ(l.UserID)
	}
	return 0
}

// SendGroupMessage sends msg to a group (message.create in the channel
// named by the group number).
func (c *Client) SendGroupMessage(ctx context.Context, group int64, msg []qq.Segment) error {
	return c.send(ctx, strconv.FormatInt(group, 10), msg)
}

// SendPrivateMessage sends msg to a user (message.create in the channel
// "private:<QQ>").
func (c *Client) SendPrivateMessage(ctx context.Context, user int64, msg []qq.Segment) error {
	return c.send(ctx, privatePrefix+strconv.FormatInt(user, 10), msg)
}

func (c *Client) send(ctx context.Context, channel string, msg []qq.Segment) error {
	content, err := Content(msg)
	if err != nil {
		return fmt.Errorf("satori message.create: %w", err)
	}
	params := struct {
		ChannelID string `json:"channel_id"`
		Content   string `json:"content"`
	}{channel, content}
	return c.call(ctx, "message.create", params, nil)
}

// Member looks up a group member (guild.member.get), cached; senders of
// received group messages are cached as they arrive.
func (c *Client) Member(ctx context.Context, group, user int64) (qq.Member, error) {
	return c.lookups.Member(ctx, group, user, func(ctx context.Context) (qq.Member, error) {
		var m wireMember
		params := struct {
			GuildID string `json:"guild_id"`
			UserID  string `json:"user_id"`
		}{strconv.FormatInt(group, 10), strconv.FormatInt(user, 10)}
		if err := c.call(ctx, "guild.member.get", params, &m); err != nil {
			return qq.Member{}, err
		}
		return m.member(user), nil
	})
}

// GroupName looks up a group's name (guild.get), cached.
func (c *Client) GroupName(ctx context.Context, group int64) (string, error) {
	return c.lookups.GroupName(ctx, group, func(ctx context.Context) (string, error) {
		var g wireGuild
		params := struct {
			GuildID string `json:"guild_id"`
		}{strconv.FormatInt(group, 10)}
		if err := c.call(ctx, "guild.get", params, &g); err != nil {
			return "", err
		}
		return string(g.Name), nil
	})
}

// GetMessage fetches a message by the ID this client gave it (channel and
// Satori message id; see messageID) with message.get, cached; received
// messages are cached as they arrive.
func (c *Client) GetMessage(ctx context.Context, id string) (qq.Message, error) {
	channel, msgID := splitMessageID(id)
	if channel == "" || msgID == "" {
		return qq.Message{}, fmt.Errorf("satori message id %q: no channel in it", id)
	}
	return c.lookups.Message(ctx, id, func(ctx context.Context) (qq.Message, error) {
		var m wireMessage
		params := struct {
			ChannelID string `json:"channel_id"`
			MessageID string `json:"message_id"`
		}{channel, msgID}
		if err := c.call(ctx, "message.get", params, &m); err != nil {
			return qq.Message{}, err
		}
		if m.Channel == nil || m.Channel.ID == "" {
			m.Channel = &wireChannel{ID: wirejson.String(channel)}
		}
		msg, err := m.message()
		if err != nil {
			return qq.Message{}, fmt.Errorf("satori message.get: %w", err)
		}
		msg.ID = id
		return msg, nil
	})
}

// call posts one API request, naming the account READY announced, and
// decodes the answer into out (nil: ignored). It is bounded by
// RequestTimeout. A server that cannot be reached gives an error wrapping
// link.ErrNotConnected and ends the running session.
func (c *Client) call(ctx context.Context, method string, params, out any) error {
	login := c.login.Load()
	if login == nil {
		return fmt.Errorf("satori %s: %w: no READY from the server yet", method, botkit.ErrNotConnected)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.opts.RequestTimeout,
		fmt.Errorf("no answer within %s: %w", c.opts.RequestTimeout, context.DeadlineExceeded))
	defer cancel()
	h := http.Header{}
	// Older servers read X-Platform and X-Self-ID; both pairs are sent.
	h.Set("Satori-Platform", login.Platform)
	h.Set("Satori-User-ID", login.UserID)
	h.Set("X-Platform", login.Platform)
	h.Set("X-Self-ID", login.UserID)
	answer, err := botkit.PostWithHeader(ctx, c.http, c.base+"/v1/"+method, c.opts.AccessToken, h,
		strings.HasSuffix(method, ".get"), params)
	if errors.Is(err, botkit.ErrNotConnected) {
		c.ender.Lost(err)
	}
	if err != nil {
		return fmt.Errorf("satori %s: %w", method, err)
	}
	if err := statusError(method, answer); err != nil {
		return fmt.Errorf("satori %s: %w", method, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(answer.Body, out); err != nil {
		return fmt.Errorf("satori %s: decoding the answer: %w: %s", method, err, botkit.BodyExcerpt(answer.Body, 200))
	}
	return nil
}

// statusError explains a Satori server's statuses: 403 for a wrong token
// ("invalid token") or an account it does not serve ("login not found"),
// 404 and 405 for a wrong path, and 500 with the failure as plain text,
// which becomes a *qq.APIError (the server answered; the call failed).
func statusError(method string, a botkit.Answer) error {
	body := botkit.BodyExcerpt(a.Body, 200)
	switch {
	case a.StatusCode >= 200 && a.StatusCode < 300:
		return nil
	case a.StatusCode == http.StatusUnauthorized || (a.StatusCode == http.StatusForbidden && strings.Contains(body, "token")):
		return fmt.Errorf("%w (HTTP %s %q): check QQ_ACCESS_TOKEN", ErrUnauthorized, a.Status, body)
	case a.StatusCode == http.StatusForbidden:
		return fmt.Errorf("the server refused the account READY named (HTTP %s %q)", a.Status, body)
	case a.StatusCode == http.StatusNotFound || a.StatusCode == http.StatusMethodNotAllowed:
		return fmt.Errorf("%w (HTTP %s %q): check that QQ_URL is the Satori base URL, path prefix included (Koishi: …/satori)", ErrNotFound, a.Status, body)
	case a.StatusCode == http.StatusInternalServerError:
		return &qq.APIError{Action: method, Retcode: int64(a.StatusCode), Message: body}
	}
	return fmt.Errorf("unexpected HTTP status %s: %q", a.Status, body)
}

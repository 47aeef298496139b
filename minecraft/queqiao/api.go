package queqiao

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/internal/ws"
	"github.com/mcqq/bridge/minecraft"
)

// errEmptyMessage refuses a message the game's component parser would
// reject, without bothering the plugin.
var errEmptyMessage = fmt.Errorf("empty message: %w", minecraft.ErrInvalidMessage)

// message encodes components in the server's spelling.
func (c *Client) message(msg []minecraft.Component) (json.RawMessage, error) {
	if len(msg) == 0 {
		return nil, fmt.Errorf("queqiao %s: %w", c.opts.Name, errEmptyMessage)
	}
	b, err := minecraft.Marshal(msg, c.Style())
	if err != nil {
		return nil, fmt.Errorf("queqiao %s: encoding message: %w: %w", c.opts.Name, minecraft.ErrInvalidMessage, err)
	}
	return b, nil
}

// messageData is the data of the APIs whose only field is the message.
type messageData struct {
	Message json.RawMessage `json:"message"`
}

// sendMessage calls api with msg as its only data field.
func (c *Client) sendMessage(ctx context.Context, api string, msg []minecraft.Component) error {
	m, err := c.message(msg)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, api, messageData{m})
	return err
}

// Broadcast shows msg to every player, after the plugin's message_prefix.
func (c *Client) Broadcast(ctx context.Context, msg []minecraft.Component) error {
	return c.Broadcasts(ctx, [][]minecraft.Component{msg})[0]
}

// Broadcasts shows each message to every player, in order, with all of
// them in flight at once on the one connection: the plugin works through a
// connection's requests strictly in order, so a batch costs about one round
// trip instead of one per message. errs[i] is msgs[i]'s outcome, nil when
// the plugin showed it. Each request gets RequestTimeout from the moment the
// one before it was answered. Once one goes unanswered, those behind it that
// have no answer yet end with minecraft.ErrQueuedBehind: the plugin had not
// got to them, which is no failure of theirs.
func (c *Client) Broadcasts(ctx context.Context, msgs [][]minecraft.Component) (errs []error) {
	errs = make([]error, len(msgs))
	cn, err := c.live("broadcast")
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	reqs := make([]*ws.Request, len(msgs))
	for i, msg := range msgs {
		m, err := c.message(msg)
		if err != nil {
			errs[i] = err
			continue
		}
		if reqs[i], err = c.start(ctx, cn, "broadcast", messageData{m}); err != nil {
			for j := i; j < len(msgs); j++ { // not sent: they wait for the next try
				errs[j] = err
			}
			break
		}
	}
	stuck := false
	for i, r := range reqs {
		if r == nil {
			continue
		}
		// Behind a stuck one, an answer already here still counts; and one
		// already answered needs no timer (in a blast most are in by now).
		if stuck || r.Answered() {
			_, errs[i] = c.wait(doneContext, r, "broadcast")
			if stuck && errors.Is(errs[i], context.Canceled) {
				errs[i] = fmt.Errorf("queqiao %s broadcast: %w", c.opts.Name, minecraft.ErrQueuedBehind)
			}
			continue
		}
		rctx, cancel := c.withTimeout(ctx)
		_, errs[i] = c.wait(rctx, r, "broadcast")
		cancel()
		stuck = errors.Is(errs[i], context.DeadlineExceeded)
	}
	return errs
}

// doneContext is already cancelled: waiting with it takes only an answer
// that has arrived.
var doneContext = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// Title shows a title and/or subtitle to every player (fade in 1 s, stay
// 3.5 s, fade out 1 s). An empty part is sent as null; the plugin refuses
// both being empty.
func (c *Client) Title(ctx context.Context, title, subtitle []minecraft.Component) error {
	data := struct {
		Title    json.RawMessage `json:"title"` // nil marshals as null
		Subtitle json.RawMessage `json:"subtitle"`
		FadeIn   int             `json:"fade_in"`
		Stay     int             `json:"stay"`
		FadeOut  int             `json:"fade_out"`
	}{FadeIn: 20, Stay: 70, FadeOut: 20}
	var err error
	if len(title) > 0 {
		if data.Title, err = c.message(title); err != nil {
			return err
		}
	}
	if len(subtitle) > 0 {
		if data.Subtitle, err = c.message(subtitle); err != nil {
			return err
		}
	}
	_, err = c.call(ctx, "send_title", data)
	return err
}

// ActionBar shows msg above every player's hotbar.
func (c *Client) ActionBar(ctx context.Context, msg []minecraft.Component) error {
	return c.sendMessage(ctx, "send_actionbar", msg)
}

// PrivateMessage sends msg to one player by name. A player who is not
// online gives an error wrapping minecraft.ErrPlayerOffline.
func (c *Client) PrivateMessage(ctx context.Context, player string, msg []minecraft.Component) error {
	if player == "" {
		return fmt.Errorf("queqiao %s send_private_msg: empty player name", c.opts.Name)
	}
	m, err := c.message(msg)
	if err != nil {
		return err
	}
	// uuid must be null, never "": the plugin rejects "" with a 500
	// (docs/protocols.md#queqiao-apis).
	resp, err := c.call(ctx, "send_private_msg", struct {
		UUID     *string         `json:"uuid"`
		Nickname string          `json:"nickname"`
		Message  json.RawMessage `json:"message"`
	}{Nickname: player, Message: m})
	if err != nil {
		return err
	}
	// An offline player is a 200 SUCCESS whose target_player is null.
	var result struct {
		TargetPlayer json.RawMessage `json:"target_player"`
		Message      string          `json:"message"`
	}
	if len(resp.Data) > 0 {
		if err := json.Unmarshal(resp.Data, &result); err != nil {
			return fmt.Errorf("queqiao %s send_private_msg: reading result: %w", c.opts.Name, err)
		}
	}
	if isNull(result.TargetPlayer) {
		return fmt.Errorf("queqiao %s send_private_msg to %s: %s: %w",
			c.opts.Name, player, result.Message, minecraft.ErrPlayerOffline)
	}
	return nil
}

// RunCommand runs a console command through the plugin's own RCON client
// (send_rcon_command) and returns its output. The command has no leading
// "/"; control characters are refused.
func (c *Client) RunCommand(ctx context.Context, cmd string) (string, error) {
	if err := minecraft.ValidateCommand(cmd); err != nil {
		return "", fmt.Errorf("queqiao %s send_rcon_command: %w", c.opts.Name, err)
	}
	resp, err := c.call(ctx, "send_rcon_command", struct {
		Command string `json:"command"`
	}{cmd})
	if err != nil {
		return "", err
	}
	if len(resp.Data) == 0 {
		return "", nil
	}
	var out string
	if err := json.Unmarshal(resp.Data, &out); err != nil {
		return string(resp.Data), nil // not a string: show it as the plugin sent it
	}
	return out, nil
}

// Status asks the plugin for the server's version and player counts
// (get_status, plugin 0.5.0+).
func (c *Client) Status(ctx context.Context) (minecraft.Status, error) {
	resp, err := c.call(ctx, "get_status", nil)
	if err != nil {
		return minecraft.Status{}, err
	}
	st, err := c.learnStatus(resp.Data)
	if err != nil {
		return st, fmt.Errorf("queqiao %s get_status: %w", c.opts.Name, err)
	}
	return st, nil
}

// learnStatus decodes a get_status payload and learns the game version
// from it.
func (c *Client) learnStatus(data json.RawMessage) (minecraft.Status, error) {
	var w struct {
		ServerVersion wirejson.String `json:"server_version"`
		Ping          struct {
			Version struct {
				Name wirejson.String `json:"name"`
			} `json:"version"`
			// Numbers here pass through a Gson map and arrive as floats.
			Players struct {
				Max    wirejson.Number `json:"max"`
				Online wirejson.Number `json:"online"`
				Sample []struct {
					Name wirejson.String `json:"name"`
				} `json:"sample"`
			} `json:"players"`
		} `json:"server_list_ping"`
	}
	if isNull(data) {
		return minecraft.Status{}, errors.New("empty status")
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return minecraft.Status{}, fmt.Errorf("reading status: %w", err)
	}
	st := minecraft.Status{
		Version:       string(w.ServerVersion),
		OnlinePlayers: int(w.Ping.Players.Online),
		MaxPlayers:    int(w.Ping.Players.Max),
	}
	if _, ok := minecraft.StyleFor(st.Version); !ok && w.Ping.Version.Name != "" {
		st.Version = string(w.Ping.Version.Name)
	}
	for _, p := range w.Ping.Players.Sample {
		st.Players = append(st.Players, string(p.Name))
	}
	c.learnVersion(st.Version)
	return st, nil
}

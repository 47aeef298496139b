package queqiao

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mcqq/bridge/internal/wirejson"
	"github.com/mcqq/bridge/minecraft"
)

// FrameKind tells what an incoming frame is.
type FrameKind int

const (
	// EventFrame is a game event (chat, join, death, …).
	EventFrame FrameKind = iota + 1
	// ResponseFrame is the plugin's answer to a request (post_type "response").
	ResponseFrame
)

// Frame is one decoded frame from the plugin.
type Frame struct {
	Kind     FrameKind
	Event    minecraft.Event // when Kind is EventFrame
	Response Response        // when Kind is ResponseFrame
}

// Response is the plugin's answer to a request
// (docs/protocols.md#queqiao-envelope).
type Response struct {
	API     string // absent before plugin 0.3.3 and null on the parse-error path
	Code    int
	Status  string
	Message string
	// Data is the API-specific payload; nil when the plugin sent null or nothing.
	Data json.RawMessage
	// Echo is "" when the plugin sent null: its 500 parse-error reply loses
	// the echo, so such a reply cannot be matched to a request.
	Echo string
}

// Err is nil for a successful response and a *minecraft.APIError otherwise.
func (r Response) Err() error {
	// kterna/queqiao_mcdr answers "ok"/"failed" instead of SUCCESS/FAILED.
	if r.Code == 200 && (strings.EqualFold(r.Status, "SUCCESS") || strings.EqualFold(r.Status, "ok")) {
		return nil
	}
	msg := r.Message
	if msg == "" {
		msg = fmt.Sprintf("code %d, status %q", r.Code, r.Status)
	}
	return &minecraft.APIError{API: r.API, Code: r.Code, Message: msg}
}

// DecodeFrame decodes one frame from the plugin: a response, or one of the
// six events in its V2, legacy-V2 (plugin 0.3.0–0.4.0) or V1 (≤ 0.2.7)
// shape. An unknown event type is an error saying so; Kind is then still
// EventFrame so the caller can log it as an event it skipped.
func DecodeFrame(frame []byte) (Frame, error) {
	var w wireFrame
	if err := json.Unmarshal(frame, &w); err != nil {
		return Frame{}, fmt.Errorf("queqiao: invalid frame: %w", err)
	}
	if strings.EqualFold(string(w.PostType), "response") {
		return Frame{Kind: ResponseFrame, Response: w.response()}, nil
	}
	ev, err := w.event()
	return Frame{Kind: EventFrame, Event: ev}, err
}

// wireResponse is what a response frame carries.
type wireResponse struct {
	API     wirejson.String `json:"api"`
	Code    wirejson.Number `json:"code"`
	Status  wirejson.String `json:"status"`
	Message wirejson.String `json:"message"`
	Data    json.RawMessage `json:"data"`
	Echo    wirejson.String `json:"echo"`
}

func (w *wireResponse) response() Response {
	r := Response{API: string(w.API), Code: int(w.Code), Status: string(w.Status),
		Message: string(w.Message), Echo: string(w.Echo)}
	if !isNull(w.Data) {
		r.Data = w.Data
	}
	return r
}

// decodeResponse decodes a frame already known to be a response: the
// answer a request waited for.
func decodeResponse(frame []byte) (Response, error) {
	if w, ok := decodeResponseFast(frame); ok {
		return w.response(), nil
	}
	var w wireResponse
	if err := json.Unmarshal(frame, &w); err != nil {
		return Response{}, fmt.Errorf("queqiao: invalid frame: %w", err)
	}
	return w.response(), nil
}

// DecodeEvent decodes an event frame. Responses and unknown event types are
// errors. Event.Server is the frame's server_name.
func DecodeEvent(frame []byte) (minecraft.Event, error) {
	f, err := DecodeFrame(frame)
	if err != nil {
		return minecraft.Event{}, err
	}
	if f.Kind != EventFrame {
		return minecraft.Event{}, errors.New("queqiao: frame is a response, not an event")
	}
	return f.Event, nil
}

// wireFrame holds the fields of every frame shape; absent and null fields
// decode alike (docs/protocols.md#queqiao-events).
type wireFrame struct {
	PostType      wirejson.String `json:"post_type"`
	EventName     wirejson.String `json:"event_name"`
	SubType       wirejson.String `json:"sub_type"`
	Timestamp     wirejson.Number `json:"timestamp"`
	ServerName    wirejson.String `json:"server_name"`
	ServerVersion wirejson.String `json:"server_version"`
	Player        *struct {
		Nickname    wirejson.String `json:"nickname"`
		DisplayName wirejson.String `json:"display_name"` // V1 Spigot
	} `json:"player"`
	Command *wirejson.String `json:"command"` // its presence tells V2 commands from V1
	Death   json.RawMessage  `json:"death"`
	// Achievement is V2; V1 used "advancement".
	Achievement json.RawMessage `json:"achievement"`
	Advancement json.RawMessage `json:"advancement"`

	// The response fields; Message is also the chat text, or the V1
	// command/death text.
	wireResponse
}

// Event types by sub_type: V2 names and the short V1 ones
// (docs/protocols.md#queqiao-events). V1
// commands also use "player_command"; they are told apart by the command
// field.
var kindBySubType = map[string]minecraft.EventKind{
	"player_chat":        minecraft.Chat,
	"chat":               minecraft.Chat,
	"player_command":     minecraft.Command,
	"player_join":        minecraft.Join,
	"join":               minecraft.Join,
	"player_quit":        minecraft.Quit,
	"quit":               minecraft.Quit,
	"player_death":       minecraft.Death,
	"death":              minecraft.Death,
	"player_achievement": minecraft.Advancement,
	"achievement":        minecraft.Advancement,
}

// kindByEventName is the fallback for producers whose sub_type is missing or
// odd (a third-party port sends V2 event names with V1 sub types).
var kindByEventName = map[string]minecraft.EventKind{
	"PlayerChatEvent":        minecraft.Chat,
	"PlayerCommandEvent":     minecraft.Command,
	"PlayerJoinEvent":        minecraft.Join,
	"PlayerQuitEvent":        minecraft.Quit,
	"PlayerDeathEvent":       minecraft.Death,
	"PlayerAchievementEvent": minecraft.Advancement,
}

func (w *wireFrame) event() (minecraft.Event, error) {
	kind, ok := kindBySubType[string(w.SubType)]
	if !ok {
		kind, ok = kindByEventName[string(w.EventName)]
	}
	if !ok {
		return minecraft.Event{}, fmt.Errorf("queqiao: unknown event type (post_type %q, event_name %q, sub_type %q)",
			w.PostType, w.EventName, w.SubType)
	}
	ev := minecraft.Event{
		Kind:          kind,
		Server:        string(w.ServerName),
		ServerVersion: string(w.ServerVersion),
		Time:          eventTime(w.Timestamp),
	}
	if w.Player != nil {
		ev.Player = string(w.Player.Nickname)
		if ev.Player == "" {
			ev.Player = string(w.Player.DisplayName)
		}
	}
	if ev.Player == "" {
		return minecraft.Event{}, fmt.Errorf("queqiao: %s event without player.nickname", kind)
	}

	var err error
	switch kind {
	case minecraft.Chat:
		ev.Message = string(w.Message)
	case minecraft.Command:
		text := w.Message
		if w.Command != nil {
			text = *w.Command
		}
		// V2 strips the slash already; V1 did not.
		ev.Message = strings.TrimPrefix(strings.TrimSpace(string(text)), "/")
	case minecraft.Death:
		if isNull(w.Death) {
			ev.Death = minecraft.Translation{Text: string(w.Message)} // V1: the text is the message
		} else {
			ev.Death, err = decodeTranslation(w.Death, textLeaf)
		}
	case minecraft.Advancement:
		raw := w.Achievement
		if isNull(raw) {
			raw = w.Advancement
		}
		ev.Advancement, err = decodeAdvancement(raw)
	}
	if err != nil {
		return minecraft.Event{}, fmt.Errorf("queqiao: %s event: %w", kind, err)
	}
	return ev, nil
}

// decodeAdvancement reads the V2 achievement object, its legacy-V2 form
// (display fields as translation-key strings, text instead of translation)
// and the V1 advancement object (text only).
func decodeAdvancement(raw json.RawMessage) (minecraft.AdvancementInfo, error) {
	var w struct {
		Key     wirejson.String `json:"key"`
		Display *struct {
			Title any             `json:"title"`
			Frame wirejson.String `json:"frame"`
		} `json:"display"`
		// The plugin emits "translation"; the docs and some ports say
		// "translate"; legacy V2 and MCDR have "text".
		Translation any             `json:"translation"`
		Translate   any             `json:"translate"`
		Text        wirejson.String `json:"text"`
	}
	if isNull(raw) {
		return minecraft.AdvancementInfo{}, errors.New("no achievement object")
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return minecraft.AdvancementInfo{}, fmt.Errorf("achievement: %w", err)
	}
	adv := minecraft.AdvancementInfo{ID: string(w.Key)}
	var err error
	if w.Display != nil {
		adv.Frame = string(w.Display.Frame)
		if adv.Title, err = translationFrom(w.Display.Title, titleLeaf); err != nil {
			return adv, fmt.Errorf("achievement display title: %w", err)
		}
	}
	switch {
	case w.Translation != nil:
		adv.Announcement, err = translationFrom(w.Translation, textLeaf)
	case w.Translate != nil:
		adv.Announcement, err = translationFrom(w.Translate, textLeaf)
	default:
		adv.Announcement = minecraft.Translation{Text: string(w.Text)}
	}
	if err != nil {
		return adv, fmt.Errorf("achievement translation: %w", err)
	}
	// Spigot reports every completed advancement with display and
	// translation all null, recipe unlocks included. The game announces
	// neither recipe unlocks nor the tab roots, so those are hidden; the
	// others are real advancements whose title the formatter finds by id.
	if adv.Title.Key == "" && adv.Title.Text == "" && adv.Announcement.Text == "" {
		path := adv.ID[strings.Index(adv.ID, ":")+1:]
		adv.Hidden = path == "" || strings.HasPrefix(path, "recipes/") || path == "root" || strings.HasSuffix(path, "/root")
	}
	return adv, nil
}

// decodeTranslation decodes a Translate tree: {key, args, text} with
// args as Translate objects, plain strings (legacy V2) or null.
func decodeTranslation(raw json.RawMessage, leaf func(string) minecraft.Translation) (minecraft.Translation, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return minecraft.Translation{}, err
	}
	return translationFrom(v, leaf)
}

// translationFrom converts a generically decoded Translate value. Decoding
// into `any` first parses the tree once, however deep it is; leaf says what a
// bare string means at the top level.
func translationFrom(v any, leaf func(string) minecraft.Translation) (minecraft.Translation, error) {
	switch v := v.(type) {
	case nil:
		return minecraft.Translation{}, nil
	case string:
		return leaf(v), nil
	case map[string]any:
		t := minecraft.Translation{Key: scalarText(v["key"]), Text: scalarText(v["text"])}
		switch args := v["args"].(type) {
		case nil:
		case []any:
			if len(args) == 0 {
				break // [] (a key without arguments) and null read alike
			}
			t.Args = make([]minecraft.Translation, len(args))
			for i, a := range args {
				// Arguments keep their position (the key's %s order); a
				// null argument stays as an empty one.
				arg, err := translationFrom(a, textLeaf)
				if err != nil {
					return t, fmt.Errorf("args[%d]: %w", i, err)
				}
				t.Args[i] = arg
			}
		default:
			return t, fmt.Errorf("args is %T, want an array", args)
		}
		return t, nil
	default:
		return minecraft.Translation{}, fmt.Errorf("got %T, want a Translate object or a string", v)
	}
}

// textLeaf reads a bare string as rendered text (legacy V2 death args).
func textLeaf(s string) minecraft.Translation { return minecraft.Translation{Text: s} }

var translationKeyRE = regexp.MustCompile(`^[a-z0-9_\-]+(\.[a-zA-Z0-9_\-/:]+)+$`)

// titleLeaf reads a bare display title: legacy V2 sends the translation key
// ("advancements.story.mine_stone.title"); anything that does not look like a
// key is taken as the rendered title.
func titleLeaf(s string) minecraft.Translation {
	if translationKeyRE.MatchString(s) {
		return minecraft.Translation{Key: s}
	}
	return minecraft.Translation{Text: s}
}

// scalarText renders a JSON scalar from a generic decode as text.
func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// eventTime reads an event timestamp: Unix seconds from the official
// plugin, milliseconds from the MCDR port. Zero or negative is
// unknown.
func eventTime(n wirejson.Number) time.Time {
	f := float64(n)
	switch {
	case f <= 0 || f > 1e17: // beyond any plausible millisecond value
		return time.Time{}
	case f > 1e12:
		return time.UnixMilli(int64(f))
	default:
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9))
	}
}

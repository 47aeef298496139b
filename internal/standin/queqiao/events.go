package queqiao

import (
	"encoding/json"
	"strings"
	"time"
)

// playerInfo is the V2 player object as Fabric fills it: every field
// present, null where unknown.
type playerInfo struct {
	Nickname           string  `json:"nickname"`
	UUID               string  `json:"uuid"`
	Address            string  `json:"address"`
	Health             float64 `json:"health"`
	MaxHealth          float64 `json:"max_health"`
	ExperienceLevel    int     `json:"experience_level"`
	ExperienceProgress float64 `json:"experience_progress"`
	TotalExperience    int     `json:"total_experience"`
	IsOp               bool    `json:"is_op"`
	WalkSpeed          float64 `json:"walk_speed"`
	X                  float64 `json:"x"`
	Y                  float64 `json:"y"`
	Z                  float64 `json:"z"`
}

func playerOf(name string) playerInfo {
	return playerInfo{Nickname: name, UUID: offlineUUID(name), Address: "127.0.0.1",
		Health: 20, MaxHealth: 20, WalkSpeed: 0.10000000149011612, X: 0.5, Y: 64, Z: 0.5}
}

// eventBase holds the fields every V2 event ends with (Gson writes
// subclass fields first).
type eventBase struct {
	EventName     string `json:"event_name"`
	PostType      string `json:"post_type"`
	SubType       string `json:"sub_type"`
	Timestamp     int64  `json:"timestamp"`
	ServerName    string `json:"server_name"`
	ServerVersion string `json:"server_version"`
	ServerType    string `json:"server_type"`
}

func (q *Server) base(eventName, postType, subType string) eventBase {
	return eventBase{EventName: eventName, PostType: postType, SubType: subType,
		Timestamp: time.Now().Unix(), ServerName: q.opts.ServerName,
		ServerVersion: q.opts.Version, ServerType: q.opts.ServerType}
}

// translatable is the recursive Translate model (plugin ≥ 0.4.1).
type translatable struct {
	Key  *string        `json:"key"`
	Args []translatable `json:"args"` // null for a literal, [] for a key without arguments
	Text string         `json:"text"`
}

func literal(text string) translatable { return translatable{Text: text} }

func keyed(key, text string, args ...translatable) translatable {
	return translatable{Key: &key, Args: append([]translatable{}, args...), Text: text}
}

// Emit sends a raw frame (a fixture, garbage) to every connection.
func (q *Server) Emit(frame []byte) { q.server.Emit(frame) }

func (q *Server) emitJSON(v any) {
	frame, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own fixed types are marshalled
	}
	q.Emit(frame)
}

// Chat sends a PlayerChatEvent.
func (q *Server) Chat(player, text string) { q.Emit(q.ChatFrame(player, text)) }

// ChatFrame is the PlayerChatEvent frame Chat sends, for a test or benchmark
// that emits prepared frames with Emit.
func (q *Server) ChatFrame(player, text string) []byte {
	frame, err := json.Marshal(struct {
		Message    string     `json:"message"`
		Player     playerInfo `json:"player"`
		MessageID  string     `json:"message_id"`
		RawMessage string     `json:"raw_message"`
		eventBase
	}{text, playerOf(player), "", text, q.base("PlayerChatEvent", "message", "player_chat")})
	if err != nil {
		panic(err) // only our own fixed types are marshalled
	}
	return frame
}

// Command sends a PlayerCommandEvent; cmd is without the leading "/".
func (q *Server) Command(player, cmd string) {
	q.emitJSON(struct {
		Command    string     `json:"command"`
		Player     playerInfo `json:"player"`
		MessageID  string     `json:"message_id"`
		RawMessage string     `json:"raw_message"`
		eventBase
	}{cmd, playerOf(player), "", cmd, q.base("PlayerCommandEvent", "message", "player_command")})
}

// Join sends a PlayerJoinEvent.
func (q *Server) Join(player string) {
	q.emitJSON(struct {
		Player playerInfo `json:"player"`
		eventBase
	}{playerOf(player), q.base("PlayerJoinEvent", "notice", "player_join")})
}

// Quit sends a PlayerQuitEvent.
func (q *Server) Quit(player string) {
	q.emitJSON(struct {
		Player playerInfo `json:"player"`
		eventBase
	}{playerOf(player), q.base("PlayerQuitEvent", "notice", "player_quit")})
}

// Death sends a PlayerDeathEvent: key "death.attack.mob" with args
// ["Steve", "entity.minecraft.zombie:Zombie"] and the rendered text. An arg
// written "key:text" is translatable, as mobs and items are; a plain arg is a
// literal, as player names are. An empty key gives Spigot's form (key and
// args null, text only).
func (q *Server) Death(player, key string, args []string, text string) {
	death := literal(text)
	if key != "" {
		death = keyed(key, text)
		for _, a := range args {
			if k, t, ok := strings.Cut(a, ":"); ok && strings.Contains(k, ".") {
				death.Args = append(death.Args, keyed(k, t))
			} else {
				death.Args = append(death.Args, literal(a))
			}
		}
	}
	p := playerOf(player)
	p.Health = 0
	q.emitJSON(struct {
		Death  translatable `json:"death"`
		Player playerInfo   `json:"player"`
		eventBase
	}{death, p, q.base("PlayerDeathEvent", "notice", "player_death")})
}

// Advancement sends a PlayerAchievementEvent for advancement id with a
// display title (key and English text), as Fabric announces it. Empty
// titleKey and title give Spigot's all-null form (as for recipe unlocks).
func (q *Server) Advancement(player, id, titleKey, title string) {
	type display struct {
		Title       *translatable `json:"title"`
		Description *translatable `json:"description"`
		Frame       *string       `json:"frame"`
	}
	achievement := struct {
		Key         string        `json:"key"`
		Display     display       `json:"display"`
		Translation *translatable `json:"translation"`
	}{Key: id}
	if titleKey != "" || title != "" {
		t := keyed(titleKey, title)
		frame := "task"
		announcement := keyed("chat.type.advancement.task",
			player+" has made the advancement ["+title+"]",
			literal(player), keyed("chat.square_brackets", "["+title+"]", t))
		achievement.Display = display{Title: &t, Frame: &frame}
		achievement.Translation = &announcement
	}
	q.emitJSON(struct {
		Achievement any        `json:"achievement"`
		Player      playerInfo `json:"player"`
		eventBase
	}{achievement, playerOf(player), q.base("PlayerAchievementEvent", "notice", "player_achievement")})
}

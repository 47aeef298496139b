// Package minecraft is the protocol-neutral model of the game side: player
// events, text components and server status. The QueQiao package translates
// its wire shapes into these types.
package minecraft

import (
	"errors"
	"strings"
	"time"
)

// EventKind tells which game event arrived.
type EventKind int

const (
	Chat EventKind = iota + 1
	Command
	Join
	Quit
	Death
	Advancement
)

// String is the name used in SYNC_MC_TO_QQ.
func (k EventKind) String() string {
	switch k {
	case Chat:
		return "chat"
	case Command:
		return "command"
	case Join:
		return "join"
	case Quit:
		return "quit"
	case Death:
		return "death"
	case Advancement:
		return "advancement"
	}
	return "unknown"
}

// ParseEventKind is the inverse of String.
func ParseEventKind(s string) (EventKind, bool) {
	for k := Chat; k <= Advancement; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// Translation is a translatable game text: its key (e.g. "death.attack.mob"),
// its arguments, and the server's own rendering (usually English).
type Translation struct {
	Key  string
	Args []Translation
	Text string
}

// AdvancementInfo describes a completed advancement.
type AdvancementInfo struct {
	ID    string      // e.g. "minecraft:story/mine_stone"
	Title Translation // display title; Key "advancements.story.mine_stone.title"
	Frame string      // task, goal, challenge
	// Announcement is the chat line the server printed ("Steve has made the
	// advancement [Stone Age]"), when known.
	Announcement Translation
	// Hidden is true for advancements without a display (recipe unlocks),
	// which the game never announces and the bridge does not relay.
	Hidden bool
}

// Event is one game event.
type Event struct {
	Kind EventKind
	// Server is the configured name of the server the event came from.
	Server string
	// ServerVersion is what the server reported, e.g. "1.21.1" or
	// "4226-Spigot-146439e-2889b3a (MC: 1.21)".
	ServerVersion string
	Player        string
	// Message is the chat text (Chat) or the command without its leading "/"
	// (Command).
	Message     string
	Death       Translation     // Death
	Advancement AdvancementInfo // Advancement
	Time        time.Time
}

// Status is a server's state as /mcs reports it.
type Status struct {
	Version       string
	OnlinePlayers int
	MaxPlayers    int
	Players       []string // names, when the server lists them
}

// ErrPlayerOffline is returned by a private message to a player who is not online.
var ErrPlayerOffline = errors.New("player is not online")

// ErrQueuedBehind is the outcome of a request that was sent but had no
// answer yet when an earlier request on the same connection went
// unanswered: the server had not got to it. It is not a failure of its own,
// and it is sent again.
var ErrQueuedBehind = errors.New("not answered yet: an earlier request is unanswered")

// ErrInvalidMessage marks a message the game would refuse (empty, or not
// encodable); sending it again cannot help.
var ErrInvalidMessage = errors.New("invalid message")

// APIError is a failed request reported by the server's plugin.
type APIError struct {
	API     string
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return e.API + ": " + strings.TrimSpace(e.Message)
}

package queqiao

import (
	"encoding/json"
)

// DefaultMessagePrefix is the plugin's default message_prefix.
const DefaultMessagePrefix = "[鹊桥]"

// Shown returns what the players' chat shows for each broadcast (and
// send_msg) request, in order, the way the plugin shows it: the
// message_prefix as a yellow component, directly followed by the message,
// as one JSON component list. The bridge itself never sends the prefix.
func (q *Server) Shown() []json.RawMessage {
	prefix, _ := json.Marshal(map[string]string{"text": q.opts.MessagePrefix, "color": "yellow"})
	var out []json.RawMessage
	for _, r := range q.Requests() {
		if r.API != "broadcast" && r.API != "send_msg" {
			continue
		}
		var data struct {
			Message json.RawMessage `json:"message"`
		}
		if json.Unmarshal(r.Data, &data) != nil || len(data.Message) == 0 {
			continue
		}
		line, _ := json.Marshal([]json.RawMessage{prefix, data.Message})
		out = append(out, line)
	}
	return out
}

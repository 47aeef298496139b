package relay

import (
	"context"
	"errors"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/qq"
)

// qqLine is one line for a QQ group: a game event, a command reply.
type qqLine struct {
	Text    string
	ReplyTo string // message id to quote (command replies)
	Server  string // origin server, for metrics; "" for command replies
}

// qqPrivate is a reply in private chat.
type qqPrivate struct {
	User    int64
	Text    string
	ReplyTo string
}

// Merging limits: a merged QQ message stays well below QQ's length limit.
const (
	mergeMaxLines = 50
	mergeMaxRunes = 3000
)

// groupSender delivers QQ lines to one group under QQ_GROUP_RATE. Lines that
// queue up while the group waits for its turn (or while QQ is down) are joined
// with newlines into the next message, so nothing is dropped for the rate.
func (r *Relay) groupSender(group int64) sender[qqLine] {
	s := sender[qqLine]{batch: mergeMaxLines}
	if r.o.GroupRate > 0 && r.o.GroupRatePeriod > 0 {
		lim := rate.NewLimiter(rate.Every(r.o.GroupRatePeriod/time.Duration(r.o.GroupRate)), r.o.GroupRate)
		s.waitTurn = lim.Wait
	}
	s.deliver = func(ctx context.Context, batch []queued[qqLine]) (int, error) {
		n, text := mergeLines(batch)
		ctx, cancel := context.WithTimeout(ctx, r.o.RequestTimeout)
		defer cancel()
		if err := r.qq.SendGroupMessage(ctx, group, quoting(batch[0].v.ReplyTo, text)); err != nil {
			return 0, classify(err)
		}
		for _, q := range batch[:n] {
			if q.v.Server != "" {
				r.m.relayed(mcToQQ, q.v.Server, q.at)
			}
		}
		return n, nil
	}
	return s
}

// mergeLines joins the head of the batch into one text: lines after the first
// join unless they quote a message of their own, up to the merge limits.
func mergeLines(batch []queued[qqLine]) (int, string) {
	var b strings.Builder
	runes := 0
	n := 0
	for i, q := range batch {
		l := len([]rune(q.v.Text))
		if i > 0 && (q.v.ReplyTo != "" || runes+l > mergeMaxRunes) {
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(q.v.Text)
		runes += l + 1
		n++
	}
	return n, b.String()
}

// quoting is a text message that quotes message id, or just the text when
// id is "".
func quoting(id, text string) []qq.Segment {
	if id == "" {
		return []qq.Segment{qq.Text(text)}
	}
	return []qq.Segment{{Type: qq.SegReply, Data: map[string]string{"id": id}}, qq.Text(text)}
}

func (r *Relay) privateSender() sender[qqPrivate] {
	return sender[qqPrivate]{batch: 1, deliver: func(ctx context.Context, batch []queued[qqPrivate]) (int, error) {
		p := batch[0].v
		ctx, cancel := context.WithTimeout(ctx, r.o.RequestTimeout)
		defer cancel()
		if err := r.qq.SendPrivateMessage(ctx, p.User, quoting(p.ReplyTo, p.Text)); err != nil {
			return 0, classify(err)
		}
		return 1, nil
	}}
}

// gameMsg is one broadcast for a server: QQ chat, or with CROSS_SERVER_CHAT
// a line from another server.
type gameMsg struct {
	Comps []minecraft.Component
	From  string // origin server for cross-server lines; "" for QQ chat
}

// gameSender delivers broadcasts to one server, one message at a time.
func (r *Relay) gameSender(s *server) sender[gameMsg] {
	return sender[gameMsg]{batch: 1, deliver: func(ctx context.Context, batch []queued[gameMsg]) (int, error) {
		ctx, cancel := context.WithTimeout(ctx, r.o.RequestTimeout)
		defer cancel()
		if err := s.Game.Broadcast(ctx, batch[0].v.Comps); err != nil {
			return 0, classify(err)
		}
		if batch[0].v.From != "" {
			r.m.relayed(mcToMC, s.Name, batch[0].at)
		} else {
			r.m.relayed(qqToMC, s.Name, batch[0].at)
		}
		return 1, nil
	}}
}

// classify marks errors the peer gave about the message itself as permanent:
// sending it again would fail again and hold up the queue.
func classify(err error) error {
	var qe *qq.APIError
	var me *minecraft.APIError
	if errors.As(err, &qe) || errors.As(err, &me) {
		return permanent{err}
	}
	return err
}

package relay

import (
	"context"
	"errors"
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
	// Segments, when set, is the line with its pictures (MC_IMAGE_TO_QQ);
	// Text is then the same line as typed.
	Segments []qq.Segment
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
		burst := r.o.GroupRateBurst
		if burst <= 0 {
			burst = r.o.GroupRate
		}
		lim := rate.NewLimiter(rate.Every(r.o.GroupRatePeriod/time.Duration(r.o.GroupRate)), burst)
		s.waitTurn = lim.Wait
	}
	s.deliver = func(ctx context.Context, batch []queued[qqLine]) []error {
		n, msg := mergeLines(batch)
		ctx, cancel := context.WithTimeout(ctx, r.o.RequestTimeout)
		defer cancel()
		err := classify(r.qq.SendGroupMessage(ctx, group, withQuote(batch[0].v.ReplyTo, msg)))
		if err == nil {
			for _, q := range batch[:n] {
				if q.v.Server != "" {
					r.m.relayed(mcToQQ, q.v.Server, q.at)
				}
			}
		}
		return repeat(err, n) // the merged lines share one fate
	}
	return s
}

func repeat(err error, n int) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// mergeLines joins the head of the batch into one message: lines after the
// first join unless they quote a message of their own, up to the merge
// limits. Pictures stay pictures, in order.
func mergeLines(batch []queued[qqLine]) (int, []qq.Segment) {
	var m mergedMessage
	n := 0
	for _, q := range batch {
		if !m.fits(q.v) {
			break
		}
		m.add(q.v)
		n++
	}
	return n, m.segs
}

// quoting is a text message that quotes message id, or just the text when
// id is "".
func quoting(id, text string) []qq.Segment {
	if id == "" {
		return []qq.Segment{qq.Text(text)}
	}
	return []qq.Segment{{Type: qq.SegReply, ID: id}, qq.Text(text)}
}

func (r *Relay) privateSender() sender[qqPrivate] {
	return sender[qqPrivate]{batch: 1, deliver: func(ctx context.Context, batch []queued[qqPrivate]) []error {
		p := batch[0].v
		ctx, cancel := context.WithTimeout(ctx, r.o.RequestTimeout)
		defer cancel()
		return []error{classify(r.qq.SendPrivateMessage(ctx, p.User, quoting(p.ReplyTo, p.Text)))}
	}}
}

// gameMsg is one broadcast for a server: QQ chat, or with CROSS_SERVER_CHAT
// a line from another server.
type gameMsg struct {
	Comps []minecraft.Component
	From  string // origin server for cross-server lines; "" for QQ chat
}

// gameWindow is how many broadcasts may be in flight on one server's
// connection. The plugin answers a connection's requests strictly in order,
// so a window costs one round trip where one at a time costs one each.
const gameWindow = 64

// gameSender delivers broadcasts to one server, up to gameWindow at once.
func (r *Relay) gameSender(s *server) sender[gameMsg] {
	return sender[gameMsg]{batch: gameWindow, deliver: func(ctx context.Context, batch []queued[gameMsg]) []error {
		msgs := make([][]minecraft.Component, len(batch))
		for i, q := range batch {
			msgs[i] = q.v.Comps
		}
		errs := s.Game.Broadcasts(ctx, msgs)
		for i, err := range errs {
			if err != nil {
				errs[i] = classify(err)
				continue
			}
			direction := qqToMC
			if batch[i].v.From != "" {
				direction = mcToMC
			}
			r.m.relayed(direction, s.Name, batch[i].at)
		}
		return errs
	}}
}

// classify marks errors about the message itself as permanent: the peer
// refused it, or it cannot be sent at all; sending it again would fail again
// and hold up the queue.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var qe *qq.APIError
	var me *minecraft.APIError
	if errors.As(err, &qe) || errors.As(err, &me) || errors.Is(err, minecraft.ErrInvalidMessage) {
		return permanent{err}
	}
	return err
}

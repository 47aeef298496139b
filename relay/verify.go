package relay

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/mcqq/bridge/format"
	"github.com/mcqq/bridge/minecraft"
	"github.com/mcqq/bridge/store"
)

// With BIND_VERIFY, /bind answers a code; the binding is made when the
// player says it in game chat within VerifyWindow.
const (
	VerifyWindow = 10 * time.Minute
	codeDigits   = 6
	// sweepEvery is how often expired codes are removed.
	sweepEvery = time.Minute
)

// startVerification checks what the binding would refuse, then stores a
// fresh code for the member and tells them to say it in game.
func (r *Relay) startVerification(ctx context.Context, c caller, name string) (string, bool, error) {
	switch b, err := r.o.Accounts.Binding(ctx, name); {
	case err == nil:
		why, _ := bindRefusal(&store.TakenError{Binding: b}, c.user, r.o.CommandPrefix)
		return why, true, nil
	case !errors.Is(err, store.ErrNotBound):
		return "", false, err
	}
	if r.o.Bind.Max > 0 {
		bound, err := r.o.Accounts.BindingsOf(ctx, c.user)
		if err != nil {
			return "", false, err
		}
		if len(bound) >= r.o.Bind.Max {
			why, _ := bindRefusal(&store.LimitError{Max: r.o.Bind.Max, Bound: bound}, c.user, r.o.CommandPrefix)
			return why, true, nil
		}
	}
	now := r.now()
	r.expireCodes(ctx, now)
	for range 5 {
		code, err := newCode()
		if err != nil {
			return "", false, err
		}
		err = r.o.Accounts.StartVerification(ctx, store.Verification{Code: code, QQ: c.user, Player: name,
			Group: c.group, MessageID: c.replyTo, Expires: now.Add(VerifyWindow)})
		if errors.Is(err, store.ErrCodeInUse) {
			continue
		}
		if err != nil {
			return "", false, err
		}
		r.log.Info("verification started", "user", c.user, "player", name, "group", c.group)
		return fmt.Sprintf("请在 %d 分钟内用 %s 进入服务器，在聊天栏发送验证码 %s，即可完成绑定",
			int(VerifyWindow/time.Minute), name, code), false, nil
	}
	return "", false, errors.New("no free verification code in 5 draws")
}

// newCode draws a code from the system's random source: a guessable code
// would let anyone bind a name they do not play.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("drawing a verification code: %w", err)
	}
	return fmt.Sprintf("%0*d", codeDigits, n.Int64()), nil
}

func isCode(s string) bool {
	if len(s) != codeDigits {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

// verificationLine reports whether a game event is a pending verification
// code said in chat; such a line is not relayed. Said by the player the
// code is for, it makes the binding (in the background). A line that only
// looks like a code is ordinary chat.
func (r *Relay) verificationLine(s *server, ev minecraft.Event) bool {
	if r.o.Accounts == nil || !r.o.Bind.Verify || ev.Kind != minecraft.Chat {
		return false
	}
	code := strings.TrimSpace(format.StripColor(ev.Message))
	if !isCode(code) {
		return false
	}
	// Lines read during shutdown are still checked, within the drain.
	ctx, cancel := context.WithTimeout(r.lifeCtx(), r.o.RequestTimeout)
	defer cancel()
	v, err := r.o.Accounts.Verification(ctx, code, r.now())
	switch {
	case errors.Is(err, store.ErrNoVerification):
		return false
	case err != nil:
		r.log.Warn("cannot check a verification code; relaying the line", "server", s.Name, "err", err.Error())
		return false
	case !strings.EqualFold(v.Player, ev.Player):
		r.log.Info("a verification code said by another player; not bound, not relayed",
			"server", s.Name, "player", ev.Player, "code_for", v.Player)
		return true
	}
	r.cmds.Go(func() { r.confirmVerification(r.lifeCtx(), s, v, ev.Player) })
	return true
}

// confirmVerification makes the binding a code was said for and answers
// the /bind it came from, in the group and to the player in game.
func (r *Relay) confirmVerification(ctx context.Context, s *server, v store.Verification, player string) {
	now := r.now()
	changes, err := r.o.Accounts.Bind(ctx, store.BindRequest{
		Binding: store.Binding{QQ: v.QQ, Player: player, Group: v.Group, BoundAt: now},
		Max:     r.o.Bind.Max, Whitelist: r.whitelistServers(v.Group), Code: v.Code, Now: now,
	})
	r.bound.changed()
	c := caller{user: v.QQ, group: v.Group, replyTo: v.MessageID}
	if why, refused := bindRefusal(err, v.QQ, r.o.CommandPrefix); refused {
		r.reply(c, why)
		return
	}
	if err != nil {
		if !errors.Is(err, store.ErrNoVerification) { // else: expired or used just now
			r.log.Error("cannot bind a verified player", "player", player, "user", v.QQ, "err", err.Error())
		}
		return
	}
	r.log.Info("bound", "user", v.QQ, "player", player, "group", v.Group, "verified_on", s.Name)
	gctx, cancel := context.WithTimeout(ctx, r.o.RequestTimeout)
	err = s.Game.PrivateMessage(gctx, player, []minecraft.Component{
		{Text: "[QQ] ", Color: "aqua"}, {Text: "已与 QQ " + strconv.FormatInt(v.QQ, 10) + " 绑定", Color: "green"}})
	cancel()
	if err != nil {
		r.log.Debug("cannot tell the player in game", "player", player, "err", err.Error())
	}
	r.reply(c, joinLines("已绑定 "+player, r.applyWhitelist(ctx, changes)))
}

// expireCodes removes the codes that expired by now.
func (r *Relay) expireCodes(ctx context.Context, now time.Time) {
	n, err := r.o.Accounts.ExpireVerifications(ctx, now)
	switch {
	case err != nil && ctx.Err() == nil:
		r.log.Warn("cannot remove expired verification codes", "err", err.Error())
	case n > 0:
		r.log.Info("verification codes expired", "count", n)
	}
}

// sweepCodes removes expired codes every sweepEvery until ctx ends.
func (r *Relay) sweepCodes(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.expireCodes(ctx, r.now())
		}
	}
}

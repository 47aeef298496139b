package relay

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/mcqq/bridge/qq"
)

// memberLeft handles a member leaving (or removed from) a bound group, with
// BIND_UNBIND_ON_LEAVE: unless they are still in another bound group, their
// bindings go, with "whitelist remove" where they were added, and the group
// they left is told. The bot is asked about each other bound group; only
// its answer that the member is not there counts as absence: a look-up that
// fails (not connected, no answer) keeps the bindings.
func (r *Relay) memberLeft(ctx context.Context, group, user int64) {
	log := r.log.With("group", group, "user", user)
	bindings, err := r.o.Accounts.BindingsOf(ctx, user)
	if err != nil {
		log.Error("a member left; cannot read their bindings", "err", err.Error())
		return
	}
	if len(bindings) == 0 {
		return
	}
	others := make([]int64, 0, len(r.groups))
	for g := range r.groups {
		if g != group {
			others = append(others, g)
		}
	}
	slices.Sort(others)
	for _, g := range others {
		lctx, cancel := context.WithTimeout(ctx, r.o.RequestTimeout)
		_, err := r.qq.Member(lctx, g, user)
		cancel()
		var answer *qq.APIError
		switch {
		case err == nil:
			log.Info("a member left a bound group but is still in another; bindings kept", "still_in", g)
			return
		case errors.As(err, &answer):
			// The bot answered: not a member there.
		default:
			log.Warn("a member left; cannot tell whether they are in another bound group, so their bindings are kept",
				"other_group", g, "err", err.Error())
			return
		}
	}
	lines := []string{"QQ " + strconv.FormatInt(user, 10) + " 已离开本群，已解除其绑定："}
	for _, b := range bindings {
		line, err := r.unbind(ctx, b, "reason", "left group", "group", group)
		if err != nil {
			log.Error("a member left; cannot remove their binding", "player", b.Player, "err", err.Error())
			continue
		}
		lines = append(lines, line)
	}
	if len(lines) > 1 {
		r.reply(caller{group: group}, strings.Join(lines, "\n"))
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcqq/bridge/relay"
	"github.com/mcqq/bridge/store"
)

// NamePattern is BIND_NAME_PATTERN: what a player name must match,
// compiled once when the configuration is read.
type NamePattern struct{ *regexp.Regexp }

// UnmarshalText implements encoding.TextUnmarshaler for env.
func (p *NamePattern) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	re, err := regexp.Compile(s)
	if err != nil {
		why := err.Error()
		if se, ok := errors.AsType[*syntax.Error](err); ok {
			why = se.Code.String()
		}
		return fmt.Errorf("%q is not a valid pattern (%s); the default is %s", s, why, relay.DefaultNamePattern)
	}
	p.Regexp = re
	return nil
}

func (p NamePattern) String() string {
	if p.Regexp == nil {
		return ""
	}
	return p.Regexp.String()
}

// validateAccounts checks the BIND_* settings and MC_<n>_WHITELIST.
func (c *Config) validateAccounts() []error {
	var errs []error
	if c.BindMax < 1 {
		errs = append(errs, &varError{Name: "BIND_MAX", Msg: "must be at least 1"})
	}
	for _, s := range c.Servers {
		if s.Whitelist && !c.Bind {
			errs = append(errs, &varError{Name: fmt.Sprintf("MC_%d_WHITELIST", s.Index),
				Msg: "true, but BIND is false: the whitelist follows the bindings, so set BIND=true (or this to false)"})
		}
	}
	return errs
}

// bindOptions are the relay's account rules from the configuration.
func (c *Config) bindOptions() relay.BindOptions {
	return relay.BindOptions{Max: c.BindMax, NamePattern: c.BindNamePattern.Regexp,
		Verify: c.BindVerify, UnbindOnLeave: c.BindUnbindOnLeave}
}

// accountBook is the relay's view of the accounts tables. build makes it
// before run opens the database, so it reaches the tables through a pointer
// run sets; before that, and after run closes the database, every call
// fails with errNoDatabase.
type accountBook struct {
	db atomic.Pointer[store.Accounts]
}

var _ relay.Accounts = (*accountBook)(nil)

func (a *accountBook) get() (*store.Accounts, error) {
	if db := a.db.Load(); db != nil {
		return db, nil
	}
	return nil, errNoDatabase
}

func (a *accountBook) Bind(ctx context.Context, req store.BindRequest) ([]store.WhitelistChange, error) {
	db, err := a.get()
	if err != nil {
		return nil, err
	}
	return db.Bind(ctx, req)
}

func (a *accountBook) Unbind(ctx context.Context, b store.Binding, whitelist []string, at time.Time) ([]store.WhitelistChange, error) {
	db, err := a.get()
	if err != nil {
		return nil, err
	}
	return db.Unbind(ctx, b, whitelist, at)
}

func (a *accountBook) Binding(ctx context.Context, player string) (store.Binding, error) {
	db, err := a.get()
	if err != nil {
		return store.Binding{}, err
	}
	return db.Binding(ctx, player)
}

func (a *accountBook) BindingsOf(ctx context.Context, qq int64) ([]store.Binding, error) {
	db, err := a.get()
	if err != nil {
		return nil, err
	}
	return db.BindingsOf(ctx, qq)
}

func (a *accountBook) Latest(ctx context.Context, limit int) (int, []store.Binding, error) {
	db, err := a.get()
	if err != nil {
		return 0, nil, err
	}
	return db.Latest(ctx, limit)
}

func (a *accountBook) PendingWhitelist(ctx context.Context, server string) ([]store.WhitelistChange, error) {
	db, err := a.get()
	if err != nil {
		return nil, err
	}
	return db.PendingWhitelist(ctx, server)
}

func (a *accountBook) WhitelistApplied(ctx context.Context, id int64) error {
	db, err := a.get()
	if err != nil {
		return err
	}
	return db.WhitelistApplied(ctx, id)
}

func (a *accountBook) WhitelistServers(ctx context.Context) ([]string, error) {
	db, err := a.get()
	if err != nil {
		return nil, err
	}
	return db.WhitelistServers(ctx)
}

func (a *accountBook) StartVerification(ctx context.Context, v store.Verification) error {
	db, err := a.get()
	if err != nil {
		return err
	}
	return db.StartVerification(ctx, v)
}

func (a *accountBook) Verification(ctx context.Context, code string, now time.Time) (store.Verification, error) {
	db, err := a.get()
	if err != nil {
		return store.Verification{}, err
	}
	return db.Verification(ctx, code, now)
}

func (a *accountBook) ExpireVerifications(ctx context.Context, now time.Time) (int, error) {
	db, err := a.get()
	if err != nil {
		return 0, err
	}
	return db.ExpireVerifications(ctx, now)
}

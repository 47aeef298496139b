package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Accounts holds the QQ ↔ player bindings, the whitelist changes waiting
// for their server, and the in-game verifications under way. Player names
// compare case-insensitively (ASCII), as the game compares them. Every
// write is one transaction, so of two members binding one name at once
// exactly one wins, and a binding is never stored without the whitelist
// changes it implies. Safe for concurrent use.
type Accounts struct{ db *DB }

// Accounts returns the accounts tables.
func (db *DB) Accounts() *Accounts { return &Accounts{db: db} }

// Binding ties a QQ number to a player name.
type Binding struct {
	QQ      int64
	Player  string // as the member typed it
	Group   int64  // the group it was made in
	BoundAt time.Time
}

// Whitelist actions.
const (
	WhitelistAdd    = "add"
	WhitelistRemove = "remove"
)

// WhitelistChange is a "whitelist add/remove <player>" one server still has
// to run. A server's changes are applied in ID order.
type WhitelistChange struct {
	ID     int64 // increases with every change, never reused
	Server string
	Action string // WhitelistAdd or WhitelistRemove
	Player string
	Queued time.Time
}

// Verification is a /bind waiting for the player to say Code in game chat.
type Verification struct {
	Code      string
	QQ        int64
	Player    string
	Group     int64
	MessageID string // the /bind message
	Expires   time.Time
}

// BindRequest is one binding to make.
type BindRequest struct {
	Binding
	// Max is how many names one QQ number may bind; 0 means no limit.
	Max int
	// Whitelist names the servers that get "whitelist add" for it.
	Whitelist []string
	// Code, when set, is the verification the binding confirms: it must
	// still be pending for this QQ number and player, and is used up.
	Code string
	// Now is when the code is checked against its expiry.
	Now time.Time
}

// Errors of the account operations; check them with errors.Is or
// errors.As.
var (
	// ErrNotBound: the name (or the member) has no binding.
	ErrNotBound = errors.New("not bound")
	// ErrNoVerification: no pending, unexpired verification matches.
	ErrNoVerification = errors.New("no such verification")
	// ErrCodeInUse: another verification holds the code; draw another.
	ErrCodeInUse = errors.New("verification code in use")
)

// TakenError: the name is bound already, to Binding.QQ (maybe the member
// asking).
type TakenError struct{ Binding Binding }

func (e *TakenError) Error() string {
	return fmt.Sprintf("%s is bound to %d already", e.Binding.Player, e.Binding.QQ)
}

// LimitError: the member has Max bindings already.
type LimitError struct {
	Max   int
	Bound []Binding
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("at most %d bindings per QQ number", e.Max)
}

// Bind stores a binding and queues its whitelist changes, in one
// transaction. It fails with *TakenError when the name is bound (whatever
// its case), *LimitError when the member is at Max, and ErrNoVerification
// when Code is set but not pending for this member and player.
func (a *Accounts) Bind(ctx context.Context, req BindRequest) ([]WhitelistChange, error) {
	var changes []WhitelistChange
	err := a.db.inTx(ctx, func(tx *sql.Tx) error {
		if req.Code != "" {
			res, err := tx.ExecContext(ctx,
				`DELETE FROM verifications WHERE code = ? AND qq = ? AND player = ? AND expires_at > ?`,
				req.Code, req.QQ, req.Player, req.Now.UnixMilli())
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return cmpErr(err, ErrNoVerification)
			}
		}
		taken, err := scanBinding(tx.QueryRowContext(ctx,
			`SELECT qq, player, group_id, bound_at FROM bindings WHERE player = ?`, req.Player))
		switch {
		case err == nil:
			return &TakenError{Binding: taken}
		case !errors.Is(err, ErrNotBound):
			return err
		}
		if req.Max > 0 {
			bound, err := queryBindings(ctx, tx,
				`SELECT qq, player, group_id, bound_at FROM bindings WHERE qq = ? ORDER BY bound_at, rowid`, req.QQ)
			if err != nil {
				return err
			}
			if len(bound) >= req.Max {
				return &LimitError{Max: req.Max, Bound: bound}
			}
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO bindings (qq, player, group_id, bound_at, whitelisted) VALUES (?, ?, ?, ?, ?)`,
			req.QQ, req.Player, req.Group, req.BoundAt.UnixMilli(), strings.Join(req.Whitelist, "\n")); err != nil {
			return err
		}
		changes, err = queueChanges(ctx, tx, req.Whitelist, WhitelistAdd, req.Player, req.BoundAt)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("binding %s to %d: %w", req.Player, req.QQ, err)
	}
	return changes, nil
}

// Unbind removes b (found by its player name, and only while it is still
// bound to b.QQ) and queues "whitelist remove", in one transaction, on the
// servers the binding's "whitelist add" went to and on those named (the
// whitelist servers of its group now: the configuration may have changed
// since). It fails with ErrNotBound when the binding is gone.
func (a *Accounts) Unbind(ctx context.Context, b Binding, whitelist []string, at time.Time) ([]WhitelistChange, error) {
	var changes []WhitelistChange
	err := a.db.inTx(ctx, func(tx *sql.Tx) error {
		var added string
		err := tx.QueryRowContext(ctx, `DELETE FROM bindings WHERE player = ? AND qq = ? RETURNING whitelisted`,
			b.Player, b.QQ).Scan(&added)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotBound
		}
		if err != nil {
			return err
		}
		servers := strings.Split(added, "\n")
		for _, s := range whitelist {
			if !slices.Contains(servers, s) {
				servers = append(servers, s)
			}
		}
		servers = slices.DeleteFunc(servers, func(s string) bool { return s == "" })
		changes, err = queueChanges(ctx, tx, servers, WhitelistRemove, b.Player, at)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("unbinding %s from %d: %w", b.Player, b.QQ, err)
	}
	return changes, nil
}

// cmpErr is err, else fallback.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

func queueChanges(ctx context.Context, tx *sql.Tx, servers []string, action, player string, at time.Time) ([]WhitelistChange, error) {
	var out []WhitelistChange
	for _, s := range servers {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO whitelist_changes (server, action, player, queued_at) VALUES (?, ?, ?, ?)`,
			s, action, player, at.UnixMilli())
		if err != nil {
			return nil, err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		out = append(out, WhitelistChange{ID: id, Server: s, Action: action, Player: player, Queued: at})
	}
	return out, nil
}

// Binding returns the binding of player (any case), or ErrNotBound.
func (a *Accounts) Binding(ctx context.Context, player string) (Binding, error) {
	b, err := scanBinding(a.db.sql.QueryRowContext(ctx,
		`SELECT qq, player, group_id, bound_at FROM bindings WHERE player = ?`, player))
	if err != nil {
		return Binding{}, fmt.Errorf("looking up %s: %w", player, err)
	}
	return b, nil
}

// BindingsOf returns the bindings of a QQ number, oldest first (none: an
// empty list, no error).
func (a *Accounts) BindingsOf(ctx context.Context, qq int64) ([]Binding, error) {
	list, err := queryBindings(ctx, a.db.sql,
		`SELECT qq, player, group_id, bound_at FROM bindings WHERE qq = ? ORDER BY bound_at, rowid`, qq)
	if err != nil {
		return nil, fmt.Errorf("looking up the bindings of %d: %w", qq, err)
	}
	return list, nil
}

// Latest returns how many bindings there are and the newest limit of them,
// newest first.
func (a *Accounts) Latest(ctx context.Context, limit int) (total int, latest []Binding, err error) {
	if err := a.db.sql.QueryRowContext(ctx, `SELECT count(*) FROM bindings`).Scan(&total); err != nil {
		return 0, nil, fmt.Errorf("counting bindings: %w", err)
	}
	latest, err = queryBindings(ctx, a.db.sql,
		`SELECT qq, player, group_id, bound_at FROM bindings ORDER BY bound_at DESC, rowid DESC LIMIT ?`, limit)
	if err != nil {
		return 0, nil, fmt.Errorf("listing bindings: %w", err)
	}
	return total, latest, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryBindings(ctx context.Context, q querier, query string, args ...any) ([]Binding, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Binding
	for rows.Next() {
		b, err := scanBinding(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

// scanBinding reads qq, player, group_id, bound_at; no row is ErrNotBound.
func scanBinding(row scanner) (Binding, error) {
	var b Binding
	var ms int64
	err := row.Scan(&b.QQ, &b.Player, &b.Group, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return Binding{}, ErrNotBound
	}
	if err != nil {
		return Binding{}, err
	}
	b.BoundAt = time.UnixMilli(ms)
	return b, nil
}

// PendingWhitelist returns the changes server still has to run, in order.
func (a *Accounts) PendingWhitelist(ctx context.Context, server string) ([]WhitelistChange, error) {
	rows, err := a.db.sql.QueryContext(ctx,
		`SELECT id, server, action, player, queued_at FROM whitelist_changes WHERE server = ? ORDER BY id`, server)
	if err != nil {
		return nil, fmt.Errorf("reading the whitelist changes of %s: %w", server, err)
	}
	defer rows.Close()
	var out []WhitelistChange
	for rows.Next() {
		var c WhitelistChange
		var ms int64
		if err := rows.Scan(&c.ID, &c.Server, &c.Action, &c.Player, &ms); err != nil {
			return nil, fmt.Errorf("reading the whitelist changes of %s: %w", server, err)
		}
		c.Queued = time.UnixMilli(ms)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the whitelist changes of %s: %w", server, err)
	}
	return out, nil
}

// WhitelistApplied forgets a change its server has run (or refused for
// good).
func (a *Accounts) WhitelistApplied(ctx context.Context, id int64) error {
	if _, err := a.db.sql.ExecContext(ctx, `DELETE FROM whitelist_changes WHERE id = ?`, id); err != nil {
		return fmt.Errorf("removing whitelist change %d: %w", id, err)
	}
	return nil
}

// WhitelistServers lists the servers with changes waiting, in name order:
// at start-up, what was left last time (including servers no longer
// configured).
func (a *Accounts) WhitelistServers(ctx context.Context) ([]string, error) {
	rows, err := a.db.sql.QueryContext(ctx, `SELECT DISTINCT server FROM whitelist_changes ORDER BY server`)
	if err != nil {
		return nil, fmt.Errorf("listing servers with whitelist changes: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("listing servers with whitelist changes: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// StartVerification stores v, replacing the member's earlier pending one
// (one code per member at a time). It fails with ErrCodeInUse when another
// pending verification has v.Code.
func (a *Accounts) StartVerification(ctx context.Context, v Verification) error {
	err := a.db.inTx(ctx, func(tx *sql.Tx) error {
		var holder int64
		err := tx.QueryRowContext(ctx, `SELECT qq FROM verifications WHERE code = ?`, v.Code).Scan(&holder)
		switch {
		case err == nil && holder != v.QQ:
			return ErrCodeInUse
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM verifications WHERE qq = ?`, v.QQ); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO verifications (code, qq, player, group_id, message_id, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			v.Code, v.QQ, v.Player, v.Group, v.MessageID, v.Expires.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("storing the verification of %s for %d: %w", v.Player, v.QQ, err)
	}
	return nil
}

// Verification returns the pending verification with code that has not
// expired at now, or ErrNoVerification.
func (a *Accounts) Verification(ctx context.Context, code string, now time.Time) (Verification, error) {
	var v Verification
	var ms int64
	err := a.db.sql.QueryRowContext(ctx,
		`SELECT code, qq, player, group_id, message_id, expires_at FROM verifications WHERE code = ? AND expires_at > ?`,
		code, now.UnixMilli()).Scan(&v.Code, &v.QQ, &v.Player, &v.Group, &v.MessageID, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return Verification{}, ErrNoVerification
	}
	if err != nil {
		return Verification{}, fmt.Errorf("looking up a verification code: %w", err)
	}
	v.Expires = time.UnixMilli(ms)
	return v, nil
}

// ExpireVerifications removes the verifications that expired by now and
// returns how many there were.
func (a *Accounts) ExpireVerifications(ctx context.Context, now time.Time) (int, error) {
	res, err := a.db.sql.ExecContext(ctx, `DELETE FROM verifications WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("removing expired verifications: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("removing expired verifications: %w", err)
	}
	return int(n), nil
}

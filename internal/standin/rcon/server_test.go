package rcon

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	gorcon "github.com/gorcon/rcon"

	"github.com/mcqq/bridge/internal/standin/standintest"
)

func dial(t *testing.T, addr, password string) (*gorcon.Conn, error) {
	t.Helper()
	conn, err := gorcon.Dial(addr, password, gorcon.SetDeadline(5*time.Second))
	if err == nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, err
}

func TestAuthAndCommands(t *testing.T) {
	r := standintest.Start(t, New("pw", func(cmd string) string { return "ran " + cmd }))
	if _, err := dial(t, r.Addr(), "nope"); !errors.Is(err, gorcon.ErrAuthFailed) {
		t.Errorf("wrong password: %v, want ErrAuthFailed", err)
	}
	conn, err := dial(t, r.Addr(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"list", "say 你好"} {
		if out, err := conn.Execute(cmd); err != nil || out != "ran "+cmd {
			t.Errorf("Execute(%q) = %q, %v", cmd, out, err)
		}
	}
	if got := r.Commands(); !slices.Equal(got, []string{"list", "say 你好"}) {
		t.Errorf("Commands() = %q", got)
	}
}

// roundTrip writes one packet and reads n packets back on a raw
// connection.
func roundTrip(t *testing.T, c net.Conn, p *gorcon.Packet, n int) []*gorcon.Packet {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.WriteTo(c); err != nil {
		t.Fatal(err)
	}
	var out []*gorcon.Packet
	for range n {
		var reply gorcon.Packet
		if _, err := reply.ReadFrom(c); err != nil {
			t.Fatal(err)
		}
		out = append(out, &reply)
	}
	return out
}

func TestPacketsLikeMinecraft(t *testing.T) {
	long := strings.Repeat("x", 4096) + "TAIL"
	r := standintest.Start(t, New("pw", func(string) string { return long }))
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// Vanilla answers auth with a single AUTH_RESPONSE echoing the ID.
	auth := roundTrip(t, c, gorcon.NewPacket(gorcon.SERVERDATA_AUTH, 7, "pw"), 1)[0]
	if auth.Type != gorcon.SERVERDATA_AUTH_RESPONSE || auth.ID != 7 {
		t.Errorf("auth reply type %d id %d", auth.Type, auth.ID)
	}
	// A reply over 4096 bytes comes in several packets, with no end marker.
	parts := roundTrip(t, c, gorcon.NewPacket(gorcon.SERVERDATA_EXECCOMMAND, 8, "help"), 2)
	if len(parts[0].Body()) != 4096 || parts[1].Body() != "TAIL" || parts[0].ID != 8 || parts[1].ID != 8 {
		t.Errorf("parts: %d bytes id %d, %q id %d", len(parts[0].Body()), parts[0].ID, parts[1].Body(), parts[1].ID)
	}
	unknown := roundTrip(t, c, gorcon.NewPacket(10, 9, ""), 1)[0]
	if unknown.Body() != "Unknown request a" {
		t.Errorf("unknown packet type answered %q", unknown.Body())
	}
}

func TestStopRestart(t *testing.T) {
	r := standintest.Start(t, New("pw", func(string) string { return "ok" }))
	addr := r.Addr()
	conn, err := dial(t, addr, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Execute("list"); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	if _, err := conn.Execute("list"); err == nil {
		t.Error("a connection survived Stop")
	}
	if _, err := dial(t, addr, "pw"); err == nil {
		t.Error("dial succeeded while stopped")
	}
	if err := r.Restart(); err != nil {
		t.Fatal(err)
	}
	if r.Addr() != addr {
		t.Errorf("address changed from %s to %s", addr, r.Addr())
	}
	conn, err = dial(t, addr, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := conn.Execute("list"); err != nil || out != "ok" {
		t.Errorf("Execute after restart = %q, %v", out, err)
	}
	if got := r.Commands(); !slices.Equal(got, []string{"list", "list"}) {
		t.Errorf("Commands() = %q", got)
	}
}

func TestOnAuthHoldsAndDrops(t *testing.T) {
	r := standintest.Start(t, New("pw", func(string) string { return "ok" }))
	logins := make(chan chan bool)
	r.OnAuth(func() bool {
		keep := make(chan bool)
		select {
		case logins <- keep:
			select {
			case k := <-keep:
				return k
			case <-t.Context().Done():
			}
		case <-t.Context().Done():
		}
		return false
	})

	type dialled struct {
		conn *gorcon.Conn
		err  error
	}
	login := func(keep bool) *gorcon.Conn {
		t.Helper()
		done := make(chan dialled, 1)
		go func() {
			conn, err := gorcon.Dial(r.Addr(), "pw", gorcon.SetDeadline(5*time.Second))
			done <- dialled{conn, err}
		}()
		held := <-logins
		select {
		case d := <-done:
			t.Fatalf("login answered while held: %v", d.err)
		default:
		}
		held <- keep
		d := <-done
		if d.err != nil {
			t.Fatalf("login (keep %v): %v", keep, d.err)
		}
		t.Cleanup(func() { d.conn.Close() })
		return d.conn
	}

	if out, err := login(true).Execute("list"); err != nil || out != "ok" {
		t.Errorf("Execute after a kept login = %q, %v", out, err)
	}
	if _, err := login(false).Execute("list"); err == nil {
		t.Error("a dropped login still ran a command")
	}
	if got := r.Commands(); !slices.Equal(got, []string{"list"}) {
		t.Errorf("Commands() = %q", got)
	}
}

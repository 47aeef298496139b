package relay

import (
	"strings"
	"testing"
)

// denyForms are console lines that run a command of the default RCON_DENY
// (stop, restart, op, deop) however it is spelled: slashes, case, any
// namespace, and nested execute … run / return run chains.
var denyForms = []struct{ line, verb string }{
	{"stop", "stop"},
	{"/stop", "stop"},
	{"//stop", "stop"},
	{"STOP", "stop"},
	{"minecraft:stop", "stop"},
	{"/Minecraft:STOP", "stop"},
	{"bukkit:stop", "stop"},
	{"spigot:restart", "restart"},
	{"paper:restart", "restart"},
	{"essentials:op Mallory", "op"},
	{"deop Steve", "deop"},
	{"op Mallory", "op"},
	{"execute run stop", "stop"},
	{"execute as @a run stop", "stop"},
	{"execute as @a at @s run op Mallory", "op"},
	{"minecraft:execute run bukkit:stop", "stop"},
	{"EXECUTE AS @a RUN Paper:Restart", "restart"},
	{"return run stop", "stop"},
	{"return run op Mallory", "op"},
	{"/return run minecraft:deop Steve", "deop"},
	{"execute as @a run return run stop", "stop"},
	{"return run execute as @a run restart", "restart"},
	{"return run return run op Mallory", "op"},
	{"execute if entity @a run execute run return run spigot:stop", "stop"},
}

func permissionRelay() *Relay {
	return &Relay{
		o: Options{
			AdminRoles: []string{"owner", "admin"},
			RCONPublic: mapStrings([]string{"list"}, consoleVerb),
			RCONDeny:   mapStrings([]string{"stop", "restart", "op", "deop"}, consoleVerb),
		},
		admins: map[int64]bool{10001: true},
	}
}

var (
	groupAdmin = caller{user: 1019283746, role: "admin", group: 712345678}
	member     = caller{user: 1357924680, role: "member", group: 712345678}
	superAdmin = caller{user: 10001, role: "member", group: 712345678} // in QQ_ADMINS
)

// Every spelling of a denied command is refused to a group admin, naming
// the command, and allowed to QQ_ADMINS.
func TestRCONDenySeesThroughEverySpelling(t *testing.T) {
	r := permissionRelay()
	for _, f := range denyForms {
		line := consoleLine(f.line)
		why := r.mayRunConsole(groupAdmin, line)
		if why == "" || !strings.HasSuffix(why, " "+f.verb) {
			t.Errorf("%q for a group admin: %q; want a refusal naming %s", f.line, why, f.verb)
		}
		if strings.Contains(why, "QQ_ADMINS") {
			t.Errorf("%q: the refusal %q names a variable", f.line, why)
		}
		if why := r.mayRunConsole(superAdmin, line); why != "" {
			t.Errorf("%q for QQ_ADMINS: refused %q", f.line, why)
		}
	}
}

// What is not denied stays as it was: public commands for everyone, other
// commands (even ones mentioning a denied word) for admins, and
// RCON_DENY may itself be written with a namespace.
func TestRCONPermissionsOtherwise(t *testing.T) {
	r := permissionRelay()
	cases := []struct {
		c       caller
		line    string
		allowed bool
	}{
		{member, "list", true},
		{member, "/minecraft:LIST", true},
		{member, "time set day", false},
		{member, "execute run list", false}, // only the first word counts for RCON_PUBLIC
		{groupAdmin, "time set day", true},
		{groupAdmin, "say the server will stop soon", true},
		{groupAdmin, "say run stop", true}, // say runs nothing
		{groupAdmin, "execute as @a run say hi", true},
		{groupAdmin, "execute if function ns:run run say hi", true},
		{groupAdmin, "stopsound @a", true},
		{groupAdmin, "whitelist add Steve", true},
	}
	for _, c := range cases {
		why := r.mayRunConsole(c.c, consoleLine(c.line))
		if (why == "") != c.allowed {
			t.Errorf("%q by %+v: refusal %q; want allowed=%v", c.line, c.c, why, c.allowed)
		}
	}
	r.o.RCONDeny = mapStrings([]string{"Minecraft:Stop", "/whitelist"}, consoleVerb)
	for _, line := range []string{"stop", "bukkit:stop", "whitelist add Mallory", "execute run minecraft:whitelist off"} {
		if why := r.mayRunConsole(groupAdmin, consoleLine(line)); why == "" {
			t.Errorf("%q allowed with RCON_DENY=Minecraft:Stop,/whitelist", line)
		}
	}
}

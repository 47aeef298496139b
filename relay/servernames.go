package relay

import (
	"fmt"
	"strings"
)

// ServerNames says which groups see a game line start with "[server] "
// (SHOW_SERVER_NAME). The zero value is auto.
type ServerNames int

const (
	// ServerNamesAuto names the server only in groups bridged with more
	// than one, where a line would otherwise not say where it came from.
	ServerNamesAuto   ServerNames = iota
	ServerNamesAlways             // in every group
	ServerNamesNever              // in none
)

var serverNamesWords = [...]string{ServerNamesAuto: "auto", ServerNamesAlways: "always", ServerNamesNever: "never"}

// String is the setting as SHOW_SERVER_NAME spells it.
func (n ServerNames) String() string {
	if n < ServerNamesAuto || n > ServerNamesNever {
		return ""
	}
	return serverNamesWords[n]
}

// UnmarshalText reads auto, always or never, in any case.
func (n *ServerNames) UnmarshalText(b []byte) error {
	s := strings.ToLower(strings.TrimSpace(string(b)))
	for m := ServerNamesAuto; m <= ServerNamesNever; m++ {
		if m.String() == s {
			*n = m
			return nil
		}
	}
	return fmt.Errorf("%q: want auto, always or never", s)
}

// showServerPrefix tells whether game lines for group get "[name] ".
func (r *Relay) showServerPrefix(group int64) bool {
	switch r.o.ShowServerName {
	case ServerNamesAlways:
		return true
	case ServerNamesNever:
		return false
	}
	return len(r.groups[group]) > 1
}

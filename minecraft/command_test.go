package minecraft

import (
	"strings"
	"testing"
)

func TestValidateCommand(t *testing.T) {
	for _, tc := range []struct {
		name, cmd string
		wantErr   string // "" for a command that may be sent
	}{
		{"plain", "list", ""},
		{"arguments and unicode", "say 今晚8点维护", ""},
		{"exactly the limit", strings.Repeat("a", MaxCommandBytes), ""},
		{"empty", "", "empty command"},
		{"one byte over", strings.Repeat("a", MaxCommandBytes+1), "command is 1001 bytes; RCON takes at most 1000"},
		{"limit counts bytes", "say " + strings.Repeat("你", 333), "command is 1003 bytes"},
		{"line break", "say hi\nstop", "control character U+000A at byte 6"},
		{"carriage return", "say hi\rstop", "U+000D"},
		{"escape", "say \x1b[31mred", "U+001B at byte 4"},
		{"bidi override", "say \u202eevil", "U+202E"},
		{"line separator", "say a\u2028b", "U+2028"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateCommand(tc.cmd)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("ValidateCommand refused a valid command: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("ValidateCommand accepted %q", tc.cmd)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q, want it to say %q", err, tc.wantErr)
			}
		})
	}
}

package minecraft

import (
	"errors"
	"fmt"

	"github.com/mcqq/bridge/internal/safetext"
)

// MaxCommandBytes is the longest console command the bridge sends, in bytes
// (not runes): the limit of the RCON client library, applied to commands
// sent through QueQiao's send_rcon_command too so both paths refuse alike.
const MaxCommandBytes = 1000

// ValidateCommand refuses console commands that must not be sent, over
// RCON or through the plugin: empty, longer than MaxCommandBytes, or
// containing a character of safetext.Unsafe (control characters, line
// breaks, bidi overrides, line separators), which could end the command
// early or hide part of it from whoever reads the console.
func ValidateCommand(cmd string) error {
	if cmd == "" {
		return errors.New("empty command")
	}
	if len(cmd) > MaxCommandBytes {
		return fmt.Errorf("command is %d bytes; RCON takes at most %d", len(cmd), MaxCommandBytes)
	}
	for i, r := range cmd {
		if safetext.Unsafe(r) {
			return fmt.Errorf("command contains control character %U at byte %d", r, i)
		}
	}
	return nil
}

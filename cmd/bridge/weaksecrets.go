package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcqq/bridge/internal/redact"
)

// weakSecretsWarning is one start-up line naming the variables whose secret
// is short or a common word: easy to guess, and, so as not to garble the
// logs ("Header is ***"), hidden there only where it stands as a secret (a
// URL, an Authorization header, a whole value). "" when there is none.
func weakSecretsWarning(cfg *Config) string {
	var weak []string
	cfg.eachSecret(func(name, value string) {
		if value != "" && redact.Weak(value) && !slices.Contains(weak, name) {
			weak = append(weak, name)
		}
	})
	if len(weak) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: shorter than %d characters or a common word, so easy to guess (and a plain word or short number is hidden in logs only where it stands as a secret); use long random values on both sides",
		strings.Join(weak, ", "), redact.MinStrong)
}

// Package secret checks the access tokens peers present to the bridge
// (QQ bots connecting or posting to it, QueQiao plugins connecting to it),
// the same way everywhere.
package secret

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// Equal reports whether got is want. It takes the same time whatever the
// tokens hold: both are hashed first, so not even want's length can be
// learned by timing, as it could from a plain constant-time compare.
func Equal(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// FromAuthorization reads an Authorization header value "<scheme> <token>".
// ok reports whether the scheme is one of schemes (compared ignoring case);
// token is what follows it without surrounding blanks, "" when nothing
// does. Callers decide what another scheme or an empty token means.
func FromAuthorization(header string, schemes ...string) (token string, ok bool) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(header), " ")
	for _, s := range schemes {
		if strings.EqualFold(scheme, s) {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

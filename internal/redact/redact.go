// Package redact keeps secrets out of logs and printed configuration: the
// password of a URL ("user:password@" becomes "user:***@"), the values of
// access_token and token query parameters, and the configured secret
// values themselves wherever they appear. One Redactor serves the logger
// (Handler), -check's table and the start-up lines, so there is one rule
// for what counts as a secret.
package redact

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Mask is what a secret is shown as.
const Mask = "***"

var (
	// userPassword finds "scheme://user:password@": the password runs to
	// the last "@" before the path, so a raw "@" inside it is hidden too.
	userPassword = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@?#]*:)([^/\s?#]*)@`)
	// tokenParam finds "access_token=…" and "token=…" in a query string.
	// The value may hold a colon, but not one that ends a URL quoted in an
	// error ("dial ws://…?access_token=x: refused").
	tokenParam = regexp.MustCompile(`(?i)([?&;](?:access_token|token)=)((?:[^&;#\s"'<>:]|:[^&;#\s"'<>])*)`)
)

// URL hides the password and the token query values of the URL(s) in s.
func URL(s string) string {
	if !strings.Contains(s, "://") && !strings.Contains(s, "=") {
		return s // the common case: nothing to look at
	}
	s = userPassword.ReplaceAllString(s, "${1}"+Mask+"@")
	return tokenParam.ReplaceAllStringFunc(s, func(m string) string {
		eq := strings.IndexByte(m, '=')
		if eq == len(m)-1 {
			return m // an empty value hides nothing
		}
		return m[:eq+1] + Mask
	})
}

// URLSecrets returns the secrets inside a URL: its password and its
// access_token and token query values. The Redactor hides them on their
// own too, wherever a message quotes them outside the URL.
func URLSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if p, ok := u.User.Password(); ok && p != "" {
		out = append(out, p)
	}
	for key, values := range u.Query() {
		if k := strings.ToLower(key); k == "access_token" || k == "token" {
			for _, v := range values {
				if v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// Redactor hides URL secrets (see URL) and a fixed set of secret values in
// text. It is safe for concurrent use; the zero value and nil hide URL
// secrets only.
type Redactor struct {
	values *strings.Replacer // nil without secret values
}

// minValue is the shortest secret value hidden wherever it appears: a
// shorter one ("1", "pw") would mask ordinary words and numbers all over
// the logs while protecting nothing that could not be guessed. URL
// passwords and tokens are hidden by position whatever their length.
const minValue = 4

// New returns a Redactor for the given secret values (tokens, passwords);
// empty and very short ones are ignored. Each is also hidden in its
// URL-escaped spellings.
func New(secrets ...string) *Redactor {
	var all []string
	for _, s := range secrets {
		if len(s) < minValue {
			continue
		}
		all = append(all, s, url.QueryEscape(s), url.PathEscape(s))
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if len(all) == 0 {
		return &Redactor{}
	}
	// Longest first, so a secret containing another is hidden whole.
	slices.SortStableFunc(all, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(all))
	for _, s := range all {
		pairs = append(pairs, s, Mask)
	}
	return &Redactor{values: strings.NewReplacer(pairs...)}
}

// String returns s with every secret hidden.
func (r *Redactor) String(s string) string {
	s = URL(s)
	if r != nil && r.values != nil {
		s = r.values.Replace(s)
	}
	return s
}

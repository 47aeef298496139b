package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is "N/period" (e.g. "20/1m", "5/10s"), optionally followed by
// "burst B"; "0" disables limiting. N per period is the pace; the burst is
// how many messages may leave at once before that pace applies. It is
// DefaultBurst (or N when smaller) unless given: QQ's risk control notices
// many messages in a few seconds, even when the count per minute is modest.
type Rate struct {
	N      int
	Period time.Duration
	Burst  int
}

// DefaultBurst is the burst of a rate that does not name one.
const DefaultBurst = 5

// Enabled reports whether a limit applies.
func (r Rate) Enabled() bool { return r.N > 0 }

func (r Rate) String() string {
	if !r.Enabled() {
		return "0"
	}
	return fmt.Sprintf("%d/%s burst %d", r.N, shortDuration(r.Period), r.Burst)
}

// shortDuration prints 1m rather than 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// UnmarshalText implements encoding.TextUnmarshaler for env.
func (r *Rate) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "0" {
		*r = Rate{}
		return nil
	}
	const want = "want N/period such as 20/1m, optionally with a burst such as 20/1m burst 5, or 0"
	pace, burst, hasBurst := strings.Cut(strings.ToLower(s), "burst")
	n, per, ok := strings.Cut(pace, "/")
	if !ok {
		return fmt.Errorf("%q: %s", s, want)
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count <= 0 {
		return fmt.Errorf("%q: N must be a positive whole number (%s)", s, want)
	}
	per = strings.TrimSpace(per)
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per // "20/m" reads as 20 per minute
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q: the period must be a duration such as 10s or 1m (%s)", s, want)
	}
	*r = Rate{N: count, Period: d, Burst: min(count, DefaultBurst)}
	if hasBurst {
		if r.Burst, err = strconv.Atoi(strings.TrimSpace(burst)); err != nil || r.Burst <= 0 {
			return fmt.Errorf("%q: the burst must be a positive whole number (%s)", s, want)
		}
	}
	return nil
}

// Package envconfig reads typed settings from the environment and collects
// every problem at once, each naming its variable, so a misconfigured service
// fails at start with one clear message instead of misbehaving later.
package envconfig

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Reader reads variables through a lookup function (os.LookupEnv in
// production, a map in tests) and remembers what was wrong.
type Reader struct {
	lookup func(string) (string, bool)
	errs   []error
}

// New returns a Reader over lookup; nil means os.LookupEnv.
func New(lookup func(string) (string, bool)) *Reader {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return &Reader{lookup: lookup}
}

// FromMap is a lookup function over a map, for tests and launchers.
func FromMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// Err returns every problem found so far, or nil.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

// Invalid records a problem with a variable that a caller checked itself,
// such as two settings that contradict each other.
func (r *Reader) Invalid(name, format string, args ...any) { r.fail(name, format, args...) }

func (r *Reader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (r *Reader) get(name string) (string, bool) {
	v, ok := r.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// String returns the variable, or def when it is unset or empty.
func (r *Reader) String(name, def string) string {
	if v, ok := r.get(name); ok {
		return v
	}
	return def
}

// Required returns the variable and records an error when it is missing.
func (r *Reader) Required(name string) string {
	v, ok := r.get(name)
	if !ok {
		r.fail(name, "is required but not set")
	}
	return v
}

// Secret is Required for values that must never be printed. It is not
// trimmed: a password may legitimately end in a space.
func (r *Reader) Secret(name string) string {
	v, ok := r.lookup(name)
	if !ok || v == "" {
		r.fail(name, "is required but not set")
	}
	return v
}

// OptionalSecret returns the variable untrimmed, or "" when it is unset.
func (r *Reader) OptionalSecret(name string) string {
	v, _ := r.lookup(name)
	return v
}

// Int returns the variable as an integer within [lo, hi], or def.
func (r *Reader) Int(name string, def, lo, hi int) int {
	v, ok := r.get(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, "must be a whole number from %d to %d, got %q", lo, hi, v)
		return def
	}
	return n
}

// Port returns a TCP port number (0 lets the system choose).
func (r *Reader) Port(name string, def int) int { return r.Int(name, def, 0, 65535) }

// Duration returns the variable parsed by time.ParseDuration within [lo, hi].
func (r *Reader) Duration(name string, def, lo, hi time.Duration) time.Duration {
	v, ok := r.get(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.fail(name, "must be a duration from %s to %s such as 30s, got %q", lo, hi, v)
		return def
	}
	return d
}

var identifier = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// Identifier returns a database or account name: letters, digits and
// underscores only, so it can be quoted into DDL safely.
func (r *Reader) Identifier(name, def string) string {
	v := r.String(name, def)
	if !identifier.MatchString(v) {
		r.fail(name, "must be 1 to 64 letters, digits or underscores, got %q", v)
		return def
	}
	return v
}

// Prefixes returns a comma-separated list of IP addresses or CIDR prefixes.
func (r *Reader) Prefixes(name, def string) []netip.Prefix {
	v := r.String(name, def)
	var out []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if addr, err := netip.ParseAddr(part); err == nil {
			out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			r.fail(name, "must be a comma-separated list of IP addresses or CIDR ranges, %q is neither", part)
			continue
		}
		out = append(out, p.Masked())
	}
	return out
}

// Mask shows whether a secret is set without revealing any of it.
func Mask(secret string) string {
	if secret == "" {
		return "(unset)"
	}
	return "(set)"
}

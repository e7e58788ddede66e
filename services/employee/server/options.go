package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

// Options are the employee service's own settings, beyond what every
// service reads (web.Config and the database).
type Options struct {
	// SessionKeys are SESSION_KEY's secrets: the first encrypts session
	// cookies, all of them decrypt (key rotation).
	SessionKeys [][]byte
	// IdleTimeout signs an employee out after this long without a request;
	// MaxAge after this long in any case. Zero takes the defaults (30 min,
	// 12 h); the bounds are auth's (MinIdleTimeout and friends).
	IdleTimeout time.Duration
	MaxAge      time.Duration
	// AdminEmail and AdminPassword create the first administrator when no
	// account exists yet; both or neither.
	AdminEmail    string
	AdminPassword string
	// Now is the clock sessions and sign-in throttling are judged by; nil
	// is time.Now. Tests and the local launcher move it forward instead of
	// waiting half an hour for a session to expire.
	Now func() time.Time
	// Sleep waits out the slow-down of repeated failed sign-ins; nil waits
	// on a timer, giving up when ctx ends. Tests record the delays instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxConcurrentHashes bounds the password checks that run at once (19
	// MiB each); a sign-in beyond it answers 503 at once. Zero is
	// auth.DefaultHashSlots, two per core.
	MaxConcurrentHashes int
	// VerifyPassword checks a password against a stored hash; nil is
	// auth.VerifyPassword. Tests hold it to fill the hashing slots.
	VerifyPassword func(hash, password string) (bool, error)
}

// OptionsFromEnv reads SESSION_KEY (required), SESSION_IDLE_TIMEOUT (30m),
// SESSION_MAX_AGE (12h), ADMIN_EMAIL and ADMIN_PASSWORD from env, which
// collects every missing or malformed variable with the service's other
// settings (the caller reports env.Err). They are checked by the rules
// that check options built in code (see validate).
func OptionsFromEnv(env *envconfig.Reader) Options {
	o := Options{
		SessionKeys:   auth.SplitKeys(env.OptionalSecret("SESSION_KEY")),
		IdleTimeout:   env.Duration("SESSION_IDLE_TIMEOUT", auth.DefaultIdleTimeout, auth.MinIdleTimeout, auth.MaxIdleTimeout),
		MaxAge:        env.Duration("SESSION_MAX_AGE", auth.DefaultMaxAge, auth.MinMaxAge, auth.MaxMaxAge),
		AdminEmail:    env.String("ADMIN_EMAIL", ""),
		AdminPassword: env.OptionalSecret("ADMIN_PASSWORD"),
	}
	for _, p := range o.check() {
		env.Invalid(p.name, "%s", p.message)
	}
	return o
}

// validate checks options built in code (tests, the local launcher) by the
// rules OptionsFromEnv applies to the environment, naming each setting by
// its variable, and normalises the administrator's email (see
// auth.NormalizeEmail) so the account is stored in the form sign-in looks
// up.
func (o *Options) validate() error {
	var errs []error
	for _, p := range o.check() {
		errs = append(errs, fmt.Errorf("%s: %s", p.name, p.message))
	}
	return errors.Join(errs...)
}

type problem struct{ name, message string }

// check is the one place the options are validated, from the environment
// or from code.
func (o *Options) check() []problem {
	var out []problem
	if err := auth.CheckKeys(o.SessionKeys); err != nil {
		out = append(out, problem{"SESSION_KEY", err.Error()})
	}
	// Zero takes the default; the environment's reader has already
	// refused values outside the bounds, so only code can get here with one.
	idle, maxAge := o.limits()
	if idle < auth.MinIdleTimeout || idle > auth.MaxIdleTimeout {
		out = append(out, problem{"SESSION_IDLE_TIMEOUT", fmt.Sprintf("must be a duration from %s to %s, got %s", auth.MinIdleTimeout, auth.MaxIdleTimeout, idle)})
	}
	if maxAge < auth.MinMaxAge || maxAge > auth.MaxMaxAge {
		out = append(out, problem{"SESSION_MAX_AGE", fmt.Sprintf("must be a duration from %s to %s, got %s", auth.MinMaxAge, auth.MaxMaxAge, maxAge)})
	}
	if maxAge < idle {
		out = append(out, problem{"SESSION_MAX_AGE", fmt.Sprintf("must be at least SESSION_IDLE_TIMEOUT (%s), got %s", idle, maxAge)})
	}
	return append(out, o.checkAdmin()...)
}

// limits are the session limits in effect: zero takes the default.
func (o Options) limits() (idle, maxAge time.Duration) {
	idle, maxAge = o.IdleTimeout, o.MaxAge
	if idle == 0 {
		idle = auth.DefaultIdleTimeout
	}
	if maxAge == 0 {
		maxAge = auth.DefaultMaxAge
	}
	return idle, maxAge
}

// checkAdmin checks the first administrator's settings: both or neither,
// a plain email, a password the policy accepts. It normalises the email.
func (o *Options) checkAdmin() []problem {
	switch {
	case o.AdminEmail == "" && o.AdminPassword == "":
		return nil
	case o.AdminEmail == "":
		return []problem{{"ADMIN_EMAIL", "must be set together with ADMIN_PASSWORD (or neither)"}}
	case o.AdminPassword == "":
		return []problem{{"ADMIN_PASSWORD", "must be set together with ADMIN_EMAIL (or neither)"}}
	}
	var out []problem
	if email, err := auth.NormalizeEmail(o.AdminEmail); err != nil {
		out = append(out, problem{"ADMIN_EMAIL", fmt.Sprintf("%v, got %q", err, o.AdminEmail)})
	} else {
		o.AdminEmail = email
	}
	if err := auth.CheckPasswordPolicy(o.AdminPassword); err != nil {
		out = append(out, problem{"ADMIN_PASSWORD", err.Error()})
	}
	return out
}

// LogValue logs the settings with every secret masked.
func (o Options) LogValue() slog.Value {
	idle, maxAge := o.limits()
	keys := envconfig.Mask("")
	if len(o.SessionKeys) > 0 {
		keys = "(set: " + strconv.Itoa(len(o.SessionKeys)) + " key"
		if len(o.SessionKeys) > 1 {
			keys += "s"
		}
		keys += ")"
	}
	adminEmail := o.AdminEmail
	if adminEmail == "" {
		adminEmail = "(unset)"
	}
	return slog.GroupValue(
		slog.String("session_key", keys),
		slog.String("session_idle_timeout", idle.String()),
		slog.String("session_max_age", maxAge.String()),
		slog.String("admin_email", adminEmail),
		slog.String("admin_password", envconfig.Mask(o.AdminPassword)),
	)
}

// String keeps the secrets out of fmt output too.
func (o Options) String() string { return o.LogValue().String() }

// GoString keeps them out of %#v.
func (o Options) GoString() string { return o.String() }

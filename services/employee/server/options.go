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
	// 12 h).
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
// SESSION_MAX_AGE (12h), ADMIN_EMAIL and ADMIN_PASSWORD, naming every
// variable that is missing or malformed in one error.
func OptionsFromEnv(lookup func(string) (string, bool)) (Options, error) {
	env := envconfig.New(lookup)
	var o Options
	keys, err := auth.ParseKeys(env.OptionalSecret("SESSION_KEY"))
	if err != nil {
		env.Invalid("SESSION_KEY", "%v", err)
	}
	o.SessionKeys = keys
	o.IdleTimeout = env.Duration("SESSION_IDLE_TIMEOUT", auth.DefaultIdleTimeout, time.Minute, 24*time.Hour)
	o.MaxAge = env.Duration("SESSION_MAX_AGE", auth.DefaultMaxAge, 5*time.Minute, 30*24*time.Hour)
	if o.MaxAge < o.IdleTimeout {
		env.Invalid("SESSION_MAX_AGE", "must be at least SESSION_IDLE_TIMEOUT (%s), got %s", o.IdleTimeout, o.MaxAge)
	}
	o.AdminEmail = env.String("ADMIN_EMAIL", "")
	o.AdminPassword = env.OptionalSecret("ADMIN_PASSWORD")
	for _, p := range o.adminProblems() {
		env.Invalid(p.name, "%s", p.message)
	}
	if err := env.Err(); err != nil {
		return o, fmt.Errorf("configuration:\n%w", err)
	}
	o.AdminEmail, _ = auth.NormalizeEmail(o.AdminEmail)
	return o, nil
}

type problem struct{ name, message string }

// adminProblems checks the first administrator's settings: both or
// neither, a plain email, a password the policy accepts.
func (o Options) adminProblems() []problem {
	switch {
	case o.AdminEmail == "" && o.AdminPassword == "":
		return nil
	case o.AdminEmail == "":
		return []problem{{"ADMIN_EMAIL", "must be set together with ADMIN_PASSWORD (or neither)"}}
	case o.AdminPassword == "":
		return []problem{{"ADMIN_PASSWORD", "must be set together with ADMIN_EMAIL (or neither)"}}
	}
	var out []problem
	if _, err := auth.NormalizeEmail(o.AdminEmail); err != nil {
		out = append(out, problem{"ADMIN_EMAIL", fmt.Sprintf("%v, got %q", err, o.AdminEmail)})
	}
	if err := auth.CheckPasswordPolicy(o.AdminPassword); err != nil {
		out = append(out, problem{"ADMIN_PASSWORD", err.Error()})
	}
	return out
}

// validate checks options built in code (tests, the local launcher) as
// strictly as OptionsFromEnv checks the environment.
func (o Options) validate() error {
	var errs []error
	if len(o.SessionKeys) == 0 {
		errs = append(errs, errors.New("SESSION_KEY: is required but not set"))
	}
	for i, k := range o.SessionKeys {
		if len(k) < auth.MinKeyBytes {
			errs = append(errs, fmt.Errorf("SESSION_KEY: key %d is shorter than %d bytes", i+1, auth.MinKeyBytes))
		}
	}
	for _, p := range o.adminProblems() {
		errs = append(errs, fmt.Errorf("%s: %s", p.name, p.message))
	}
	return errors.Join(errs...)
}

// LogValue logs the settings with every secret masked.
func (o Options) LogValue() slog.Value {
	idle, maxAge := o.IdleTimeout, o.MaxAge
	if idle <= 0 {
		idle = auth.DefaultIdleTimeout
	}
	if maxAge <= 0 {
		maxAge = auth.DefaultMaxAge
	}
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

// Command local runs the whole Coffee Suppliers application on a machine
// with nothing but Go: `go run ./local` (or `make run`). The database lives
// in memory and resets when the command stops.
//
// Settings: PORT (3000) for the gateway, SEED_SUPPLIERS (50), LOG_LEVEL (info),
// LOG_FORMAT (text on a terminal, json otherwise), ADMIN_EMAIL and ADMIN_PASSWORD for the first employee account (without
// them a demo account is made and printed), SESSION_IDLE_TIMEOUT (30m) and
// SESSION_MAX_AGE (12h).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/local/stack"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.LookupEnv, os.Stdout, os.Stderr, isTerminal(os.Stdout)); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

// isTerminal reports whether f is a terminal a person reads (a character
// device), not a pipe or a file that a log collector reads.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// run starts the stack and serves until ctx ends. Logs go to stdout, as
// short text lines when stdoutIsTerminal (unless LOG_FORMAT=json), else
// as the services' JSON; the banner goes to stderr.
func run(ctx context.Context, lookup func(string) (string, bool), stdout, stderr io.Writer, stdoutIsTerminal bool) error {
	env := envconfig.New(lookup)
	port := env.Port("PORT", 3000)
	seed := env.Int("SEED_SUPPLIERS", 50, 0, 100_000)
	webCfg := web.ConfigFromEnv(env)
	format := env.String("LOG_FORMAT", "")
	if format != "" && format != "text" && format != "json" {
		env.Invalid("LOG_FORMAT", "is %q; want text or json (default: text on a terminal, json otherwise)", format)
	}
	adminEmail := env.String("ADMIN_EMAIL", "")
	adminPassword := env.OptionalSecret("ADMIN_PASSWORD")
	// The employee service's bounds; it checks the rest (a maximum age
	// under the idle timeout, the account) when the stack builds it.
	idle := env.Duration("SESSION_IDLE_TIMEOUT", 0, auth.MinIdleTimeout, auth.MaxIdleTimeout)
	maxAge := env.Duration("SESSION_MAX_AGE", 0, auth.MinMaxAge, auth.MaxMaxAge)
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	started := time.Now()
	s, err := stack.Start(ctx, stack.Options{
		Addr:      "127.0.0.1:" + strconv.Itoa(port),
		Suppliers: seed,
		Logger:    newLogger(stdout, webCfg.LogLevel, format == "text" || format == "" && stdoutIsTerminal),

		AdminEmail:         adminEmail,
		AdminPassword:      adminPassword,
		SessionIdleTimeout: idle,
		SessionMaxAge:      maxAge,
	})
	if err != nil {
		return err
	}
	account := fmt.Sprintf("  sign in as       %s\n  password         %s   (a demo account for this run only)\n",
		s.AdminEmail, s.AdminPassword)
	if adminEmail != "" {
		account = fmt.Sprintf("  sign in as       %s   (password from ADMIN_PASSWORD)\n", s.AdminEmail)
	}
	fmt.Fprintf(stderr, `
Coffee Suppliers is running (started in %s):

  catalogue        %s/
  administration   %s/admin/suppliers
  JSON API         %s/api/suppliers
  metrics          %s  %s

%s
The database is in memory with %d demo suppliers; it resets when you stop.
Press Ctrl+C to stop.

`, time.Since(started).Round(time.Millisecond), s.URL, s.URL, s.URL, s.CustomerMetricsURL, s.EmployeeMetricsURL, account, seed)
	return s.Wait(ctx)
}

// newLogger is the stack's root logger. It names no service: the stack tags
// each component's logger with its own (service=customer, employee,
// gateway, database), and a second tag would repeat the key on every line.
// For a person it writes slog's text lines with the time of day alone.
func newLogger(w io.Writer, level slog.Level, text bool) *slog.Logger {
	if !text {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05.000"))
			}
			return a
		},
	}))
}

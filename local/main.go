// Command local runs the whole Coffee Suppliers application on a machine
// with nothing but Go: `go run ./local` (or `make run`). The database lives
// in memory and resets when the command stops.
//
// Settings: PORT (3000) for the gateway, SEED_SUPPLIERS (50), LOG_LEVEL (info),
// ADMIN_EMAIL and ADMIN_PASSWORD for the first employee account (without
// them a demo account is made and printed), SESSION_IDLE_TIMEOUT (30m) and
// SESSION_MAX_AGE (12h).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/local/stack"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	env := envconfig.New(lookup)
	port := env.Port("PORT", 3000)
	seed := env.Int("SEED_SUPPLIERS", 50, 0, 100_000)
	webCfg := web.ConfigFromEnv(env)
	adminEmail := env.String("ADMIN_EMAIL", "")
	adminPassword := env.OptionalSecret("ADMIN_PASSWORD")
	idle := env.Duration("SESSION_IDLE_TIMEOUT", 0, time.Minute, 24*time.Hour)
	maxAge := env.Duration("SESSION_MAX_AGE", 0, 5*time.Minute, 30*24*time.Hour)
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	started := time.Now()
	s, err := stack.Start(ctx, stack.Options{
		Addr:      "127.0.0.1:" + strconv.Itoa(port),
		Suppliers: seed,
		Logger:    web.NewLogger(stdout, "local", webCfg.LogLevel),

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

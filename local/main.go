// Command local runs the whole Coffee Suppliers application on a machine
// with nothing but Go: `go run ./local` (or `make run`). The database lives
// in memory and resets when the command stops.
//
// Settings: PORT (3000) for the gateway, SEED_SUPPLIERS (50), LOG_LEVEL (info).
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
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	started := time.Now()
	s, err := stack.Start(ctx, stack.Options{
		Addr:      "127.0.0.1:" + strconv.Itoa(port),
		Suppliers: seed,
		Logger:    web.NewLogger(stdout, "local", webCfg.LogLevel),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, `
Coffee Suppliers is running (started in %s):

  catalogue        %s/
  administration   %s/admin/suppliers
  JSON API         %s/api/suppliers
  metrics          %s  %s

The database is in memory with %d demo suppliers; it resets when you stop.
Press Ctrl+C to stop.

`, time.Since(started).Round(time.Millisecond), s.URL, s.URL, s.URL, s.CustomerMetricsURL, s.EmployeeMetricsURL, seed)
	return s.Wait(ctx)
}

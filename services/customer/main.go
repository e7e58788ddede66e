// Command customer serves the public supplier catalogue: the home page, the
// searchable supplier list and a read-only JSON API.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/services/customer/server"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "healthcheck" {
		os.Exit(web.HealthcheckCommand(os.LookupEnv))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.LookupEnv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "customer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, lookup func(string) (string, bool), stdout io.Writer) error {
	cfg, err := server.ConfigFromEnv(lookup)
	if err != nil {
		return err
	}
	log := web.NewLogger(stdout, "customer", cfg.Web.LogLevel)
	log.Info("starting", "config", cfg)
	db, err := suppliers.Open(cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := server.New(log, cfg.Web, db)
	if err != nil {
		return err
	}
	appLn, metricsLn, err := web.Listen(cfg.Web)
	if err != nil {
		return err
	}
	return web.Serve(ctx, log, cfg.Web.ShutdownTimeout, appLn, svc.Handler(), metricsLn, svc.MetricsHandler())
}

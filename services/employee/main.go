// Command employee serves the supplier administration pages under /admin:
// the searchable list, and the forms that add, edit and delete suppliers.
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
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/server"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "healthcheck" {
		os.Exit(web.HealthcheckCommand(os.LookupEnv))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.LookupEnv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "employee:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. It takes its environment and output as
// arguments so tests can start the whole service without touching the
// process's own.
func run(ctx context.Context, lookup func(string) (string, bool), stdout io.Writer) error {
	cfg, err := server.ConfigFromEnv(lookup)
	if err != nil {
		return err
	}
	log := web.NewLogger(stdout, "employee", cfg.Web.LogLevel)
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

// Command customer serves the public supplier catalogue: the home page, the
// searchable supplier list and a read-only JSON API.
//
//	customer               serve (settings from the environment)
//	customer healthcheck   probe a running instance
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/services/customer/server"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "healthcheck" {
		os.Exit(web.HealthcheckCommand(os.LookupEnv))
	}
	web.LimitMemoryToContainer()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.LookupEnv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "customer:", err)
		os.Exit(1)
	}
}

// run is the service's whole life: read the configuration through lookup
// (os.LookupEnv in production), open the pool, build the service, serve
// until ctx ends, drain, close. It takes its environment and output as
// arguments so tests can run the whole service without touching the
// process's own.
func run(ctx context.Context, lookup func(string) (string, bool), stdout io.Writer) (err error) {
	cfg, err := configFromEnv(lookup)
	if err != nil {
		return err
	}
	out := web.NewLogWriter(stdout)
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("write log: %w", cerr)
		}
	}()
	log := web.NewLogger(out, "customer", cfg.Web.LogLevel)
	log.Info("starting", "config", cfg)

	db, err := suppliers.Open(cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := server.New(server.Deps{Log: log, Web: cfg.Web, DB: db})
	if err != nil {
		return err
	}
	return web.ListenAndServe(ctx, log, cfg.Web, svc)
}

// config is every setting the service reads from its environment.
type config struct {
	Web web.Config
	DB  suppliers.DBConfig
}

// configFromEnv reads and validates the settings, naming every variable
// that is missing or malformed in one error.
func configFromEnv(lookup func(string) (string, bool)) (config, error) {
	env := envconfig.New(lookup)
	cfg := config{Web: web.ConfigFromEnv(env), DB: suppliers.DBConfigFromEnv(env)}
	if err := env.Err(); err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, nil
}

// LogValue writes every setting for the start-up line, secrets masked.
func (c config) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("web", c.Web), slog.Any("db", c.DB))
}

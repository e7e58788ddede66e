// Command employee serves the supplier administration pages under /admin:
// the searchable list, and the forms that add, edit and delete suppliers,
// for signed-in employees.
//
//	employee                                      serve (settings from the environment)
//	employee healthcheck                          probe a running instance
//	employee accounts add --email EMAIL           create an account; password on stdin
//	employee accounts reset-password --email EMAIL
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/server"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "healthcheck" {
		os.Exit(web.HealthcheckCommand(os.LookupEnv))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if len(os.Args) >= 2 && os.Args[1] == "accounts" {
		code := accountsMain(ctx, os.Args[2:], os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	web.LimitMemoryToContainer()
	err := run(ctx, os.LookupEnv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "employee:", err)
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
	log := web.NewLogger(out, "employee", cfg.Web.LogLevel)
	log.Info("starting", "config", cfg)

	db, err := suppliers.Open(cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := server.New(server.Deps{Log: log, Web: cfg.Web, DB: db, Options: cfg.Employee})
	if err != nil {
		return err
	}
	return web.ListenAndServe(ctx, log, cfg.Web, svc)
}

// config is every setting the service reads from its environment: the
// ones every service has, and the employee's own.
type config struct {
	Web      web.Config
	DB       suppliers.DBConfig
	Employee server.Options
}

// configFromEnv reads and validates the settings, naming every variable
// that is missing or malformed in one error.
func configFromEnv(lookup func(string) (string, bool)) (config, error) {
	env := envconfig.New(lookup)
	cfg := config{Web: web.ConfigFromEnv(env), DB: suppliers.DBConfigFromEnv(env), Employee: server.OptionsFromEnv(env)}
	if err := env.Err(); err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, nil
}

// LogValue writes every setting for the start-up line, secrets masked.
func (c config) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("web", c.Web), slog.Any("db", c.DB), slog.Any("employee", c.Employee))
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// accountsMain runs `employee accounts …` and returns the exit status.
func accountsMain(ctx context.Context, args []string, lookup func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) int {
	err := accounts(ctx, args, lookup, stdin, stdout, stderr)
	var usage usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		fmt.Fprintln(stderr, "employee accounts:", err)
		io.WriteString(stderr, accountsUsage) //nolint:errcheck // best effort, to a terminal
		return 2
	default:
		fmt.Fprintln(stderr, "employee accounts:", err)
		return 1
	}
}

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
	"os"
	"os/signal"
	"syscall"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/server"
)

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "accounts" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := accountsMain(ctx, os.Args[2:], os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	web.Main("employee", run)
}

// run serves until ctx ends, configured through lookup (os.LookupEnv in
// production) and logging to stdout.
func run(ctx context.Context, lookup func(string) (string, bool), stdout io.Writer) error {
	// Check every setting before starting, so one message names all that
	// are missing or wrong: the shared ones and the employee's own.
	_, webErr := web.ServiceConfigFromEnv(lookup)
	_, ownErr := server.OptionsFromEnv(lookup)
	if webErr != nil || ownErr != nil {
		return errors.Join(webErr, ownErr)
	}
	return web.Run(ctx, "employee", server.New, lookup, stdout)
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

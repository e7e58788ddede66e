package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

const accountsUsage = `
usage:
  employee accounts add --email EMAIL                  create an employee account
  employee accounts reset-password --email EMAIL       set a new password, end the account's sessions
                                                       and lift its sign-in limits
  employee accounts sign-out-everywhere --email EMAIL  end every session of the account (a lost laptop)
  employee accounts unlock --email EMAIL               lift the account's sign-in limits

add and reset-password read the password from standard input (one line),
or ask for it twice when standard input is a terminal; it is never taken
from a flag, so it stays out of shell history and process lists. The
database is named by APP_DB_HOST, APP_DB_PORT, APP_DB_USER, APP_DB_PASSWORD
and APP_DB_NAME, as for the service.

  printf '%s\n' "$NEW_PASSWORD" | employee accounts add --email ana@example.com
`

// accountActions are the actions of `employee accounts`, and whether each
// reads a new password.
var accountActions = map[string]bool{"add": true, "reset-password": true, "sign-out-everywhere": false, "unlock": false}

const sayAction = "say add, reset-password, sign-out-everywhere or unlock"

// accounts creates an employee account, resets a password, ends an
// account's sessions or lifts its sign-in limits.
func accounts(ctx context.Context, args []string, lookup func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{sayAction}
	}
	action := args[0]
	needsPassword, known := accountActions[action]
	if !known {
		return usageError{fmt.Sprintf("unknown action %q: %s", action, sayAction)}
	}
	flags := flag.NewFlagSet("employee accounts "+action, flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	email := flags.String("email", "", "the account's email address")
	for _, a := range args[1:] {
		if name := strings.TrimLeft(a, "-"); strings.HasPrefix(a, "-") && strings.HasPrefix(name, "password") {
			return usageError{"the password is read from standard input, never from a flag"}
		}
	}
	if err := flags.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if flags.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", flags.Arg(0))}
	}
	normalized, err := auth.NormalizeEmail(*email)
	if err != nil {
		if *email == "" {
			return usageError{"--email is required"}
		}
		return fmt.Errorf("--email %q: %w", *email, err)
	}

	env := envconfig.New(lookup)
	dbCfg := suppliers.DBConfigFromEnv(env)
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}

	var hash string
	if needsPassword {
		password, err := readPassword(stdin, stderr, normalized)
		if err != nil {
			return err
		}
		if err := auth.CheckPasswordPolicy(password); err != nil {
			return err
		}
		if hash, err = auth.HashPassword(password); err != nil {
			return err
		}
	}

	db, err := suppliers.Open(dbCfg)
	if err != nil {
		return err
	}
	defer db.Close()
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := suppliers.WaitReady(waitCtx, db); err != nil {
		return fmt.Errorf("database %s on %s:%d: %w", dbCfg.Name, dbCfg.Host, dbCfg.Port, err)
	}
	store := suppliers.NewStore(db, 10*time.Second)

	switch action {
	case "add":
		e, err := store.CreateEmployee(ctx, normalized, hash)
		if errors.Is(err, suppliers.ErrEmployeeExists) {
			return fmt.Errorf("an account for %s already exists; to change its password run: employee accounts reset-password --email %s", normalized, normalized)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Created the account %s (id %d).\n", e.Email, e.ID)
	case "reset-password":
		// The reset ends the account's sessions too: a reset is often for
		// a password someone else learnt.
		err := store.SetEmployeePassword(ctx, normalized, hash)
		if errors.Is(err, suppliers.ErrNotFound) {
			return noAccount(normalized)
		}
		if err != nil {
			return err
		}
		// A locked-out employee can sign in with the new password at once.
		if err := unlock(ctx, store, normalized); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Set a new password for %s and signed out all its sessions (within %s on every replica).\n",
			normalized, auth.SessionCheckTTL)
	case "sign-out-everywhere":
		e, err := store.EmployeeByEmail(ctx, normalized)
		if errors.Is(err, suppliers.ErrNotFound) {
			return noAccount(normalized)
		}
		if err != nil {
			return err
		}
		if _, err := store.EndSessions(ctx, e.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Signed out every session of %s (within %s on every replica). The password is unchanged: if it may be known, run employee accounts reset-password --email %s.\n",
			normalized, auth.SessionCheckTTL, normalized)
	case "unlock":
		if err := unlock(ctx, store, normalized); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Lifted the sign-in limits of %s: it can sign in from any address at once.\n", normalized)
	}
	return nil
}

// unlock forgets the account's failed sign-ins: from every address, and
// overall. (Each address's own count, across accounts, stays.)
func unlock(ctx context.Context, store *suppliers.Store, email string) error {
	e, err := store.EmployeeByEmail(ctx, email)
	if errors.Is(err, suppliers.ErrNotFound) {
		return noAccount(email)
	}
	if err != nil {
		return err
	}
	account := auth.EmployeeKey(e.ID)
	if err := store.ClearLoginFailures(ctx, account); err != nil {
		return err
	}
	return store.ClearLoginFailuresWithPrefix(ctx, account+auth.PairSeparator)
}

func noAccount(email string) error {
	return fmt.Errorf("there is no account for %s; to create one run: employee accounts add --email %s", email, email)
}

// maxPasswordLine bounds what is read from standard input.
const maxPasswordLine = 4096

// readPassword asks twice without echo on a terminal; otherwise it reads
// one line from stdin (a pipe, a here-string, a file).
func readPassword(stdin io.Reader, stderr io.Writer, email string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(stderr, "New password for %s (at least %d characters): ", email, auth.MinPasswordChars)
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		fmt.Fprint(stderr, "The same password again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("the two passwords differ; nothing was changed")
		}
		return string(first), nil
	}
	line, err := bufio.NewReaderSize(io.LimitReader(stdin, maxPasswordLine), maxPasswordLine).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	if errors.Is(err, io.EOF) && len(line) >= maxPasswordLine {
		return "", fmt.Errorf("the password line on standard input is longer than %d bytes", maxPasswordLine)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password on standard input: pipe it in, e.g. printf '%s\\n' \"$PASSWORD\" | employee accounts …")
	}
	return line, nil
}

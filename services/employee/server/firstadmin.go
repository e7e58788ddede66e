package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

// firstAdmin creates the first administrator from ADMIN_EMAIL and
// ADMIN_PASSWORD when no account exists yet. Not at start: in a new
// environment the service starts before the migration has created its
// database account and tables, and must stay up until it has. It is tried
// at readiness checks (readiness waits for it) and at sign-in, whichever
// comes first, until it succeeds.
type firstAdmin struct {
	mu       sync.Mutex
	email    string
	password string
	done     bool
}

func newFirstAdmin(email, password string) *firstAdmin {
	return &firstAdmin{email: email, password: password, done: email == ""}
}

// ensure creates the account if it is still wanted. Calls are serialised,
// so concurrent probes and sign-ins create it once; another replica
// creating it first is fine.
func (f *firstAdmin) ensure(ctx context.Context, log *slog.Logger, store *suppliers.Store) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return nil
	}
	n, err := store.CountEmployees(ctx)
	if err != nil {
		return fmt.Errorf("first administrator: %w", err)
	}
	if n > 0 {
		log.Info("employee accounts exist; ADMIN_EMAIL and ADMIN_PASSWORD are not used", "accounts", n)
		f.finish()
		return nil
	}
	hash, err := auth.HashPassword(f.password)
	if err != nil {
		return fmt.Errorf("first administrator: %w", err)
	}
	_, err = store.CreateEmployee(ctx, f.email, hash)
	switch {
	case errors.Is(err, suppliers.ErrEmployeeExists):
		log.Info("first administrator already created by another replica", "email", f.email)
	case err != nil:
		return fmt.Errorf("first administrator %s: %w", f.email, err)
	default:
		// The email only: the password is never logged.
		log.Info("created the first administrator from ADMIN_EMAIL", "email", f.email)
	}
	f.finish()
	return nil
}

// finish forgets the password once it is no longer needed.
func (f *firstAdmin) finish() {
	f.done, f.password = true, ""
}

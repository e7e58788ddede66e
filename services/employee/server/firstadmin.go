package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

// firstAdmin creates the first administrator from ADMIN_EMAIL and
// ADMIN_PASSWORD when no account exists yet. It tries at start; if the
// database cannot be reached then, the service starts anyway (reporting
// not ready) and tries again at the first sign-in.
type firstAdmin struct {
	mu       sync.Mutex
	email    string
	password string
	done     bool
}

func newFirstAdmin(email, password string) *firstAdmin {
	return &firstAdmin{email: email, password: password, done: email == ""}
}

// startTimeout bounds the attempt at start, so a slow database delays the
// service's start by seconds, not minutes.
const startTimeout = 10 * time.Second

// ensureAtStart makes the first attempt. Only an unreachable database is
// put off; anything else (missing rights, say) stops the service.
func (f *firstAdmin) ensureAtStart(log *slog.Logger, store *suppliers.Store) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	err := f.ensure(ctx, log, store)
	if errors.Is(err, suppliers.ErrUnavailable) {
		log.Warn("first administrator not created yet: database unavailable; trying again at the first sign-in", "error", err)
		return nil
	}
	return err
}

// ensure creates the account if it is still wanted. Another replica
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

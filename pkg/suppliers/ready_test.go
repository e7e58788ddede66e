package suppliers_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
)

// TestReadyWaitsForTheMigration walks a new environment's first minutes:
// the service's pool is open before the migration step has created its
// account, its database rights and its tables. Each stage must be not
// ready with a reason that says what is missing, and the same pool must
// become ready, without reopening it, once the migration has run.
func TestReadyWaitsForTheMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	database := suppliertest.NewDatabase(t)
	admin := database.Open(t)
	user := "ready_" + strings.ToLower(rand.Text()[:10])
	password := rand.Text()
	cfg := database.Config()
	cfg.User, cfg.Password = user, password
	db, err := suppliers.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := suppliers.NewStore(db, storeTimeout)

	wantNotReady := func(stage, reason string) {
		t.Helper()
		err := store.Ready(ctx)
		var notReady *suppliers.NotReadyError
		if !errors.As(err, &notReady) {
			t.Fatalf("%s: Ready = %v, want a NotReadyError", stage, err)
		}
		if !strings.Contains(notReady.Reason, reason) {
			t.Errorf("%s: reason %q, want one saying %q (error: %v)", stage, notReady.Reason, reason, err)
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("%s: the error shows the password: %v", stage, err)
		}
	}

	wantNotReady("no account yet", "account")
	// The account exists (say, created by hand) but the migration has not
	// run: no table, no rights on it.
	database.CreateUser(t, user, password, "SELECT ON %s.*")
	wantNotReady("no tables yet", "suppliers table does not exist")

	if _, err := suppliers.Migrate(ctx, admin); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := store.Ready(ctx); err != nil {
		t.Errorf("after the migration: Ready = %v, want nil", err)
	}
}

// TestReadyWithoutTheDatabase: a missing database and an unreachable
// server are reasons too, and the latter is ErrUnavailable.
func TestReadyWithoutTheDatabase(t *testing.T) {
	t.Parallel()
	database := suppliertest.NewDatabase(t)
	missing := database.Config()
	missing.Name = database.Name + "_not_created"

	closed := database.Config()
	closed.Host, closed.Port = "127.0.0.1", 1 // nothing listens on port 1: connections are refused

	for _, tc := range []struct {
		name        string
		cfg         suppliers.DBConfig
		reason      string
		unavailable bool
	}{
		{"database not created", missing, "database does not exist", false},
		{"server unreachable", closed, "does not answer", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db, err := suppliers.Open(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = suppliers.NewStore(db, storeTimeout).Ready(context.Background())
			var notReady *suppliers.NotReadyError
			if !errors.As(err, &notReady) || !strings.Contains(notReady.Reason, tc.reason) {
				t.Fatalf("Ready = %v, want a NotReadyError saying %q", err, tc.reason)
			}
			if got := errors.Is(err, suppliers.ErrUnavailable); got != tc.unavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tc.unavailable)
			}
		})
	}
}

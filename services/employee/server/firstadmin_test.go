package server

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webtest"
)

// TestStartsBeforeOrAfterTheMigration plays a new environment's first
// deploy, where the services start before the migration has created their
// accounts and tables, and a normal start after it. In both orders the
// service starts and stays up (not ready until the migration has run, the
// reason logged once), becomes ready by itself once it has, and creates
// the first administrator once: at the first readiness check or the first
// sign-in, whichever comes first, even when they come together.
func TestStartsBeforeOrAfterTheMigration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		beforeMigration  bool
		signInFirst      bool
		concurrentProbes int
	}{
		{name: "started before the migration, then probed", beforeMigration: true},
		{name: "started before the migration, then signed in", beforeMigration: true, signInFirst: true},
		{name: "started after the migration, probed while signing in", concurrentProbes: 8, signInFirst: true},
		{name: "started after the migration, then probed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := suppliertest.NewEnvironment(t)
			if !tc.beforeMigration {
				env.Migrate(t)
			}
			// The pool the service opens at start, as production's main does.
			db, err := suppliers.Open(env.Employee.Config())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			const email, password = "first.admin@coffee-suppliers.example", "the first admin's long password"
			var logs webtest.LogBuffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			opts := Options{SessionKeys: [][]byte{[]byte(rand.Text() + rand.Text())}, AdminEmail: email, AdminPassword: password}
			svc, err := New(Deps{Log: log, Web: webConfig(), DB: db, Options: opts})
			if err != nil {
				t.Fatalf("the service did not start: %v", err)
			}
			b := newBrowser(svc.Handler())
			wantStatus(t, get(t, b, "/healthz"), http.StatusOK)
			if tc.beforeMigration {
				for range 3 {
					wantStatus(t, get(t, b, "/readyz"), http.StatusServiceUnavailable)
				}
				if n := strings.Count(logs.String(), `"msg":"not ready`); n != 1 {
					t.Errorf("3 probes before the migration logged %d not-ready lines, want 1:\n%s", n, logs.String())
				}
				env.Migrate(t)
			}

			var wg sync.WaitGroup
			for range tc.concurrentProbes {
				wg.Go(func() { get(t, b, "/readyz") })
			}
			if tc.signInFirst {
				b.signIn(t, email, password)
			}
			wg.Wait()
			wantStatus(t, get(t, b, "/readyz"), http.StatusOK)
			if !tc.signInFirst {
				b.signIn(t, email, password)
			}

			text := logs.String()
			for msg, want := range map[string]int{
				`"msg":"created the first administrator from ADMIN_EMAIL"`: 1,
				`"msg":"ready: `: 1,
			} {
				if n := strings.Count(text, msg); n != want {
					t.Errorf("the log has %s %d times, want %d:\n%s", msg, n, want, text)
				}
			}
			if strings.Contains(text, password) || strings.Contains(text, env.Employee.Password) {
				t.Errorf("the log shows a password:\n%s", text)
			}
			if n, err := suppliers.NewStore(db, 0).CountEmployees(context.Background()); err != nil || n != 1 {
				t.Errorf("%d employee accounts (%v), want 1", n, err)
			}
		})
	}
}

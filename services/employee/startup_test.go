package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webtest"
)

// TestRunBeforeOrAfterTheMigration starts the whole service as main does,
// in a new environment whose migration has not run yet (no account, no
// tables: the first deploy creates the services before the migration
// runs) and in one where it has. Before it, the service stays up, alive
// but not ready, and says why once; after it, it becomes ready by itself
// and creates the first administrator, once.
func TestRunBeforeOrAfterTheMigration(t *testing.T) {
	t.Parallel()
	for _, beforeMigration := range []bool{true, false} {
		t.Run(map[bool]string{true: "started before the migration", false: "started after it"}[beforeMigration], func(t *testing.T) {
			t.Parallel()
			env := suppliertest.NewEnvironment(t)
			if !beforeMigration {
				env.Migrate(t)
			}
			account := env.Employee
			svc := webtest.StartService(t, run, map[string]string{
				"APP_DB_HOST": account.Host, "APP_DB_PORT": strconv.Itoa(account.Port), "APP_DB_NAME": account.Name,
				"APP_DB_USER": account.User, "APP_DB_PASSWORD": account.Password,
				"SESSION_KEY": sessionKey, "ADMIN_EMAIL": "first.admin@coffee-suppliers.example", "ADMIN_PASSWORD": adminPassword,
			})
			var migrate func()
			if beforeMigration {
				migrate = func() { env.Migrate(t) }
			}
			svc.ReadyAfterMigration(t, migrate)
			if got := svc.Status(t, "/admin/login"); got != http.StatusOK {
				t.Errorf("/admin/login once ready = %d, want 200", got)
			}
			if err := svc.Stop(); err != nil {
				t.Errorf("run after the stop = %v, want nil", err)
			}
			logs := svc.Logs.String()
			wantNotReady := map[bool]int{true: 1, false: 0}[beforeMigration]
			for msg, want := range map[string]int{
				`"msg":"not ready`: wantNotReady,
				`"msg":"ready: `:   1,
				`"msg":"created the first administrator from ADMIN_EMAIL"`: 1,
			} {
				if n := strings.Count(logs, msg); n != want {
					t.Errorf("the log has %s %d times, want %d:\n%s", msg, n, want, logs)
				}
			}
			for _, secret := range []string{account.Password, adminPassword, sessionKey} {
				if strings.Contains(logs, secret) {
					t.Errorf("the log shows a secret (%.6s…):\n%s", secret, logs)
				}
			}
		})
	}
}

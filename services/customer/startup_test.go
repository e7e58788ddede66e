package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webtest"
)

// TestRunWhileTheDatabaseIsUnreachable: a service whose database does not
// answer yet (RDS still starting, a network rule missing) stays up, not
// ready, says so once, and becomes ready by itself when it answers.
func TestRunWhileTheDatabaseIsUnreachable(t *testing.T) {
	t.Parallel()
	env := suppliertest.NewEnvironment(t)
	env.Migrate(t)
	account, outage := env.Customer.BehindOutage(t)
	svc := webtest.StartService(t, run, map[string]string{
		"APP_DB_HOST": account.Host, "APP_DB_PORT": strconv.Itoa(account.Port), "APP_DB_NAME": account.Name,
		"APP_DB_USER": account.User, "APP_DB_PASSWORD": account.Password,
	})
	svc.StaysUpUntilFixed(t, "while the database is unreachable", outage.Restore)
	if err := svc.Stop(); err != nil { // and flush its log
		t.Errorf("run after the stop = %v, want nil", err)
	}
	logs := svc.Logs.String()
	for msg, want := range map[string]int{`"reason":"the database does not answer"`: 1, `"msg":"ready: `: 1} {
		if n := strings.Count(logs, msg); n != want {
			t.Errorf("the log has %s %d times, want %d:\n%s", msg, n, want, logs)
		}
	}
}

// TestRunBeforeOrAfterTheMigration starts the whole service as main does,
// in a new environment whose migration has not run yet (no account, no
// tables: the first deploy creates the services before the migration
// runs) and in one where it has. Before it, the service stays up, alive
// but not ready, and says why once; after it, it is ready by itself.
func TestRunBeforeOrAfterTheMigration(t *testing.T) {
	t.Parallel()
	for _, beforeMigration := range []bool{true, false} {
		t.Run(map[bool]string{true: "started before the migration", false: "started after it"}[beforeMigration], func(t *testing.T) {
			t.Parallel()
			env := suppliertest.NewEnvironment(t)
			if !beforeMigration {
				env.Migrate(t)
			}
			account := env.Customer
			svc := webtest.StartService(t, run, map[string]string{
				"APP_DB_HOST": account.Host, "APP_DB_PORT": strconv.Itoa(account.Port), "APP_DB_NAME": account.Name,
				"APP_DB_USER": account.User, "APP_DB_PASSWORD": account.Password,
			})
			var migrate func()
			if beforeMigration {
				migrate = func() { env.Migrate(t) }
			}
			svc.ReadyAfterMigration(t, migrate)
			if got := svc.Status(t, "/suppliers"); got != http.StatusOK {
				t.Errorf("/suppliers once ready = %d, want 200", got)
			}
			if err := svc.Stop(); err != nil {
				t.Errorf("run after the stop = %v, want nil", err)
			}
			logs := svc.Logs.String()
			wantNotReady := map[bool]int{true: 1, false: 0}[beforeMigration]
			if n := strings.Count(logs, `"msg":"not ready`); n != wantNotReady {
				t.Errorf("the log has %d not-ready lines, want %d:\n%s", n, wantNotReady, logs)
			}
			if beforeMigration && !strings.Contains(logs, "the database refused the account") {
				t.Errorf("the not-ready line does not say the account is missing:\n%s", logs)
			}
			if n := strings.Count(logs, `"msg":"ready: `); n != 1 {
				t.Errorf("the log has %d ready lines, want 1:\n%s", n, logs)
			}
			if strings.Contains(logs, account.Password) {
				t.Errorf("the log shows the database password:\n%s", logs)
			}
		})
	}
}

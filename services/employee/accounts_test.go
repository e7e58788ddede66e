package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

// accountsEnv is a migrated database and the APP_DB_* settings of an
// account with the employee service's rights, which is all the command
// needs.
func accountsEnv(t *testing.T) (map[string]string, *suppliers.Store) {
	t.Helper()
	database := suppliertest.NewDatabase(t)
	if _, err := suppliers.Migrate(t.Context(), database.Open(t)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	employee := database.CreateUser(t, "employee_"+strings.ToLower(rand.Text()[:12]), rand.Text(),
		"SELECT, INSERT, UPDATE, DELETE ON %s.suppliers", "SELECT, INSERT ON %s.supplier_audit",
		"SELECT, INSERT, UPDATE ON %s.employees", "SELECT, INSERT, UPDATE, DELETE ON %s.login_throttle")
	env := map[string]string{
		"APP_DB_HOST": employee.Host, "APP_DB_PORT": strconv.Itoa(employee.Port), "APP_DB_NAME": employee.Name,
		"APP_DB_USER": employee.User, "APP_DB_PASSWORD": employee.Password,
	}
	return env, suppliers.NewStore(employee.Open(t), 0)
}

type commandResult struct {
	code           int
	stdout, stderr string
}

func runAccounts(t *testing.T, env map[string]string, stdin string, args ...string) commandResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := accountsMain(t.Context(), args, func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		strings.NewReader(stdin), &stdout, &stderr)
	return commandResult{code, stdout.String(), stderr.String()}
}

func (r commandResult) want(t *testing.T, code int, fragments ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d; stdout %q, stderr %q", r.code, code, r.stdout, r.stderr)
	}
	for _, f := range fragments {
		if !strings.Contains(r.stdout+r.stderr, f) {
			t.Errorf("output lacks %q; stdout %q, stderr %q", f, r.stdout, r.stderr)
		}
	}
}

func TestAccountsAddAndResetPassword(t *testing.T) {
	t.Parallel()
	env, store := accountsEnv(t)
	ctx := context.Background()
	const first, second = "a new employee's password", "a replacement password"

	runAccounts(t, env, first+"\n", "add", "--email", " Ana.Lopez@Coffee-Suppliers.example ").
		want(t, 0, "Created the account ana.lopez@coffee-suppliers.example")
	e, err := store.EmployeeByEmail(ctx, "ana.lopez@coffee-suppliers.example")
	if err != nil {
		t.Fatalf("account not created: %v", err)
	}
	if ok, _ := auth.VerifyPassword(e.PasswordHash, first); !ok || strings.Contains(e.PasswordHash, first) {
		t.Errorf("stored hash %q does not verify the password, or holds it", e.PasswordHash)
	}

	// A locked-out employee whose password is reset can sign in at once.
	key := auth.AccountKey(e.Email)
	for range 10 {
		if _, err := store.RecordLoginFailure(ctx, key, time.Now(), auth.ThrottleWindow); err != nil {
			t.Fatal(err)
		}
	}
	runAccounts(t, env, second+"\r\n", "reset-password", "--email=ana.lopez@coffee-suppliers.example").
		want(t, 0, "Set a new password for ana.lopez@coffee-suppliers.example")
	e, _ = store.EmployeeByEmail(ctx, e.Email)
	if ok, _ := auth.VerifyPassword(e.PasswordHash, second); !ok {
		t.Error("the new password does not verify")
	}
	if ok, _ := auth.VerifyPassword(e.PasswordHash, first); ok {
		t.Error("the old password still verifies")
	}
	if n, _, _ := store.LoginFailures(ctx, key, time.Now(), auth.ThrottleWindow); n != 0 {
		t.Errorf("%d failures left after the reset", n)
	}
}

func TestAccountsCommandFailsClearly(t *testing.T) {
	t.Parallel()
	env, store := accountsEnv(t)
	const password = "a perfectly long password"
	runAccounts(t, env, password+"\n", "add", "--email", "ana@coffee-suppliers.example").want(t, 0)

	for name, tc := range map[string]struct {
		env   map[string]string
		stdin string
		args  []string
		code  int
		says  []string
	}{
		"duplicate":          {env, password, []string{"add", "--email", "ANA@coffee-suppliers.example"}, 1, []string{"already exists", "reset-password"}},
		"weak password":      {env, "short\n", []string{"add", "--email", "bo@coffee-suppliers.example"}, 1, []string{"at least 12 characters"}},
		"spaces only":        {env, strings.Repeat(" ", 20) + "\n", []string{"add", "--email", "bo@coffee-suppliers.example"}, 1, []string{"only spaces"}},
		"no password":        {env, "", []string{"add", "--email", "bo@coffee-suppliers.example"}, 1, []string{"no password on standard input"}},
		"unknown email":      {env, password, []string{"reset-password", "--email", "nobody@coffee-suppliers.example"}, 1, []string{"no account for nobody@coffee-suppliers.example"}},
		"malformed email":    {env, password, []string{"add", "--email", "not-an-email"}, 1, []string{"enter an email address"}},
		"password flag":      {env, "", []string{"add", "--email", "bo@coffee-suppliers.example", "--password", "x"}, 2, []string{"never from a flag", "usage:"}},
		"missing email":      {env, password, []string{"add"}, 2, []string{"--email is required"}},
		"unknown action":     {env, password, []string{"remove", "--email", "ana@coffee-suppliers.example"}, 2, []string{`unknown action "remove"`}},
		"no action":          {env, password, nil, 2, []string{"say add or reset-password"}},
		"no database config": {map[string]string{}, password, []string{"add", "--email", "bo@coffee-suppliers.example"}, 1, []string{"APP_DB_HOST", "APP_DB_USER", "APP_DB_PASSWORD"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := runAccounts(t, tc.env, tc.stdin, tc.args...)
			r.want(t, tc.code, tc.says...)
			if strings.Contains(r.stdout+r.stderr, password) {
				t.Errorf("the output shows the password")
			}
		})
	}
	if n, err := store.CountEmployees(context.Background()); err != nil || n != 1 {
		t.Errorf("%d accounts after the refused commands (%v), want 1", n, err)
	}
}

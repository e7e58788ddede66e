package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webclient"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webtest"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/server"
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
		suppliers.EmployeeGrants(database.Name)...)
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
	key := auth.PairKey(auth.EmployeeKey(e.ID), auth.AddressKey("192.0.2.1"))
	for range 10 {
		if _, err := store.CountLoginAttempt(ctx, key, time.Now(), auth.ThrottleWindow, 0); err != nil {
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
	// ... and every session it had is ended.
	if e.SessionGeneration != 1 {
		t.Errorf("after the reset the session generation is %d, want 1", e.SessionGeneration)
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
		"no action":          {env, password, nil, 2, []string{"say add, reset-password, sign-out-everywhere or unlock"}},
		"unlock unknown":     {env, "", []string{"unlock", "--email", "nobody@coffee-suppliers.example"}, 1, []string{"no account for nobody@coffee-suppliers.example"}},
		"sign out unknown":   {env, "", []string{"sign-out-everywhere", "--email", "nobody@coffee-suppliers.example"}, 1, []string{"no account for nobody@coffee-suppliers.example"}},
		"look-alike email":   {env, "", []string{"sign-out-everywhere", "--email", "äna@coffee-suppliers.example"}, 1, []string{"no account for äna@coffee-suppliers.example"}},
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

// TestAccountsSignOutEverywhereAndUnlock: for a lost laptop, every session
// of the account ends (its cookie opens nothing more on any replica once
// their short cache has expired); after someone's guessing, unlock lets the
// employee in from the address that was refused. Neither asks for a
// password.
func TestAccountsSignOutEverywhereAndUnlock(t *testing.T) {
	t.Parallel()
	env, store := accountsEnv(t)
	const email, password = "ana@coffee-suppliers.example", "a perfectly long password"
	runAccounts(t, env, password+"\n", "add", "--email", email).want(t, 0)
	e, err := store.EmployeeByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}

	clock := webtest.NewClock(time.Now().UTC().Truncate(time.Second))
	svc, err := server.New(server.Deps{Log: slog.New(slog.DiscardHandler), DB: storeDB(t, env), Options: server.Options{
		SessionKeys: [][]byte{[]byte(strings.Repeat("k", 40))}, Now: clock.Now,
		Sleep: func(context.Context, time.Duration) error { return nil }}})
	if err != nil {
		t.Fatal(err)
	}
	site := httptest.NewServer(svc.Handler())
	t.Cleanup(site.Close)
	employee := signIn(t, site.URL, email, password)
	if code := status(t, employee, site.URL, "/admin/suppliers"); code != http.StatusOK {
		t.Fatalf("signed in, the list answers %d", code)
	}

	runAccounts(t, env, "", "sign-out-everywhere", "--email", " Ana@Coffee-Suppliers.example").
		want(t, 0, "Signed out every session of "+email)
	clock.Advance(auth.SessionCheckTTL)
	if code := status(t, employee, site.URL, "/admin/suppliers"); code != http.StatusSeeOther {
		t.Errorf("after sign-out-everywhere the old cookie gets %d, want 303 to sign in", code)
	}

	// Ten wrong passwords from one address (the test server's peer, as no
	// proxy is trusted) refuse it, even the right one.
	for range auth.AccountLimits.RefuseAfter {
		if _, err := store.CountLoginAttempt(t.Context(), auth.PairKey(auth.EmployeeKey(e.ID), auth.AddressKey("127.0.0.1")), clock.Now(), auth.ThrottleWindow, 0); err != nil {
			t.Fatal(err)
		}
	}
	resp, _, err := webclient.New(30*time.Second).PostForm(t.Context(), site.URL+webclient.LoginPath,
		url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after ten failures signing in answers %d, want 429", resp.StatusCode)
	}
	runAccounts(t, env, "", "unlock", "--email", email).want(t, 0, "Lifted the sign-in limits of "+email)
	signIn(t, site.URL, email, password)
}

// storeDB opens the database env names, as the service would.
func storeDB(t *testing.T, env map[string]string) *sql.DB {
	t.Helper()
	port, _ := strconv.Atoi(env["APP_DB_PORT"])
	db, err := suppliers.Open(suppliers.DBConfig{Host: env["APP_DB_HOST"], Port: port, User: env["APP_DB_USER"],
		Password: env["APP_DB_PASSWORD"], Name: env["APP_DB_NAME"]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// signIn signs in through the service at base and returns the browser
// holding the session cookie.
func signIn(t *testing.T, base, email, password string) *webclient.Client {
	t.Helper()
	c := webclient.New(30 * time.Second)
	if err := c.SignIn(t.Context(), base, email, password); err != nil {
		t.Fatal(err)
	}
	if cookies, _ := c.CookieHeader(base + webclient.ListPath); !strings.Contains(cookies, auth.CookieName+"=") {
		t.Fatal("signing in set no session cookie")
	}
	return c
}

// status is the status of GET base+path, as c sends it.
func status(t *testing.T, c *webclient.Client, base, path string) int {
	t.Helper()
	resp, _, err := c.Get(t.Context(), base+path)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

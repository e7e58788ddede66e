package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webtest"
)

// TestNoSecretInAnyLogLine starts the service from its environment (first
// administrator included, its settings logged as main logs them), logging everything down to debug as JSON, and
// goes through a whole visit: a failed sign-in (with a password typed into
// the email box), a refused form, sign-in, add, edit, delete (each posted
// twice with its one-time form token), a damaged form token, sign-out, the
// signed-out cookie refused, a look-alike email refused. No log line may
// hold a password, the session key, a cookie value, a CSRF or form token.
func TestNoSecretInAnyLogLine(t *testing.T) {
	t.Parallel()
	var logs webtest.LogBuffer
	log := web.NewLogger(&logs, "employee", slog.LevelDebug)
	db := newEmptyDatabase(t)
	const (
		adminEmail    = "first.admin@coffee-suppliers.example"
		adminPassword = "Adm1n-password-never-logged"
		sessionKey    = "session-key-never-logged-0123456789abcdef"
		wrongPassword = "Wr0ng-password-never-logged"
		typedInEmail  = "password-typed-into-the-email-box"
	)
	env := envconfig.New(envconfig.FromMap(map[string]string{"SESSION_KEY": sessionKey, "ADMIN_EMAIL": adminEmail, "ADMIN_PASSWORD": adminPassword}))
	opts := OptionsFromEnv(env)
	if err := env.Err(); err != nil {
		t.Fatalf("settings: %v", err)
	}
	// The start-up line, as main writes it with the other settings.
	log.Info("starting", "config", slog.GroupValue(slog.Any("employee", opts)))
	svc, err := New(Deps{Log: log, Web: webConfig(), DB: db, Options: opts})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	b := newBrowser(svc.Handler())

	wantRedirect(t, get(t, b, listPath+"?q=secret-query"), loginPath+"?next=%2Fadmin%2Fsuppliers%3Fq%3Dsecret-query")
	wantStatus(t, get(t, b, loginPath), http.StatusOK)
	wantStatus(t, postForm(t, b, loginPath, url.Values{"email": {typedInEmail}, "password": {wrongPassword}}), http.StatusUnauthorized)
	wantStatus(t, postForm(t, b, loginPath, url.Values{"email": {adminEmail}, "password": {wrongPassword}}), http.StatusUnauthorized)
	wantRedirect(t, postForm(t, b, loginPath, url.Values{"email": {adminEmail}, "password": {adminPassword}}), listPath)
	wantStatus(t, get(t, b, listPath), http.StatusOK)
	forged := formOf(validInput())
	forged.Set("csrf_token", "forged-token-value")
	wantStatus(t, postForm(t, b, addPath, forged), http.StatusForbidden)
	// Every form with its one-time token, each posted twice.
	var formTokens []string
	add := formOf(validInput())
	add.Set("form_token", formTokenOf(t, get(t, b, addPath)))
	formTokens = append(formTokens, add.Get("form_token"))
	for range 2 {
		wantNoticeRedirect(t, postForm(t, b, addPath, add), "created")
	}
	var id int64
	if err := db.QueryRow("SELECT MAX(id) FROM suppliers").Scan(&id); err != nil {
		t.Fatal(err)
	}
	changed := validInput()
	changed.City = "Raleigh"
	edit := editForm(changed, 1)
	edit.Set("form_token", formTokenOf(t, get(t, b, updatePathOf(id))))
	formTokens = append(formTokens, edit.Get("form_token"))
	for range 2 {
		wantNoticeRedirect(t, postForm(t, b, updatePathOf(id), edit), "updated")
	}
	remove := url.Values{"version": {"2"}, "form_token": {formTokenOf(t, get(t, b, removePathOf(id)))}}
	formTokens = append(formTokens, remove.Get("form_token"))
	for range 2 {
		wantNoticeRedirect(t, postForm(t, b, removePathOf(id), remove), "deleted")
	}
	wantStatus(t, postForm(t, b, updatePathOf(id), url.Values{"version": {"1"}, "form_token": {"damaged token!"}}), http.StatusBadRequest)
	// Made-up methods and unknown paths reach the log cut short, never
	// with the cookie the browser sends along.
	wantStatus(t, serve(b, httptest.NewRequest(strings.Repeat("PROPFIND", 40), listPath, nil)), http.StatusMethodNotAllowed)
	wantStatus(t, serve(b, httptest.NewRequest(http.MethodGet, "/admin/"+strings.Repeat("x", 600)+"?q=secret-query", nil)), http.StatusNotFound)
	copied := b.sessionCookie()
	wantRedirect(t, postForm(t, b, logoutPath, url.Values{}), loginPath+"?signed_out=1")
	// The signed-out session's cookie, copied before, is refused.
	wantRedirect(t, serve(svc.Handler(), withCookie(httptest.NewRequest(http.MethodGet, listPath, nil), copied)),
		loginPath+"?expired=1")
	// A look-alike of the administrator's email does not sign in.
	wantStatus(t, get(t, b, loginPath), http.StatusOK)
	wantStatus(t, postForm(t, b, loginPath, url.Values{"email": {"fïrst.admin@coffee-suppliers.example"}, "password": {adminPassword}}), http.StatusUnauthorized)

	text := logs.String()
	secrets := append([]string{adminPassword, sessionKey, wrongPassword, typedInEmail, "secret-query", "forged-token-value", "coffee_session",
		"damaged token!", "damaged+token"}, b.secrets()...)
	secrets = append(secrets, formTokens...)
	if len(b.secrets()) < 4 {
		t.Fatalf("the browser saw only %d cookie values and tokens; the test proves nothing", len(b.secrets()))
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line %d is not JSON: %s", i+1, line)
		}
		for _, secret := range secrets {
			if strings.Contains(line, secret) {
				t.Errorf("log line %d holds a secret (%.12s…): %s", i+1, secret, line)
			}
		}
	}
	// The log still says what happened.
	for _, want := range []string{`"msg":"starting"`, `"admin_password":"(set)"`, `"session_key":"(set: 1 key)"`,
		`"msg":"created the first administrator from ADMIN_EMAIL"`, `"msg":"sign-in failed"`, `"msg":"signed in"`,
		`"msg":"signed out"`, `"route":"/admin/login"`, `"status":403`} {
		if !strings.Contains(text, want) {
			t.Errorf("the log lacks %s:\n%s", want, text)
		}
	}
}

package main

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webtest"
)

func TestRunRefusesIncompleteConfiguration(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), envconfig.FromMap(map[string]string{"PORT": "eighty"}), io.Discard)
	if err == nil {
		t.Fatal("run started without database settings")
	}
	for _, name := range []string{"APP_DB_HOST", "APP_DB_USER", "APP_DB_PASSWORD", "PORT", "SESSION_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

// TestRunServesUntilStopped starts the whole service as main does, on
// ports the system picks, and stops it the way SIGTERM would.
func TestRunServesUntilStopped(t *testing.T) {
	t.Parallel()
	database := suppliertest.NewDatabase(t)
	if _, err := suppliers.Migrate(t.Context(), database.Open(t)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	svc := webtest.StartService(t, run, map[string]string{
		"APP_DB_HOST": database.Host, "APP_DB_PORT": strconv.Itoa(database.Port),
		"APP_DB_NAME": database.Name, "APP_DB_USER": database.User, "APP_DB_PASSWORD": database.Password,
		"SESSION_KEY": sessionKey, "ADMIN_EMAIL": "first.admin@coffee-suppliers.example", "ADMIN_PASSWORD": adminPassword,
	})
	for path, want := range map[string]int{
		"/healthz":         http.StatusOK,
		"/readyz":          http.StatusOK,
		"/admin":           http.StatusSeeOther, // to sign in
		"/admin/suppliers": http.StatusSeeOther,
		"/admin/login":     http.StatusOK,
	} {
		if got := svc.Status(t, path); got != want {
			t.Errorf("GET %s: status %d, want %d", path, got, want)
		}
	}
	res, err := http.Get(svc.MetricsURL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /metrics on the metrics port: status %d, want 200", res.StatusCode)
	}

	if err := svc.Stop(); err != nil {
		t.Errorf("run returned %v after being stopped, want a clean stop", err)
	}
	logText := svc.Logs.String()
	if !strings.Contains(logText, `"msg":"stopped cleanly"`) {
		t.Errorf("log lacks the clean stop:\n%s", logText)
	}
	for name, secret := range map[string]string{"database password": database.Password, "session key": sessionKey, "admin password": adminPassword} {
		if strings.Contains(logText, secret) {
			t.Errorf("the log shows the %s", name)
		}
	}
	// One start-up line writes every setting, the secrets masked.
	for _, want := range []string{`"msg":"starting"`, `"session_key":"(set: 1 key)"`, `"admin_password":"(set)"`, `"password":"(set)"`,
		`"admin_email":"first.admin@coffee-suppliers.example"`, `"port":0`, `"msg":"created the first administrator from ADMIN_EMAIL"`} {
		if !strings.Contains(logText, want) {
			t.Errorf("the log lacks %s:\n%s", want, logText)
		}
	}
}

const (
	sessionKey    = "a-session-key-of-at-least-32-bytes-for-tests"
	adminPassword = "the first admin's password"
)

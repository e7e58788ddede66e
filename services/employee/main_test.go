package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
)

// TestProductionBinaryLeavesTestEngineOut guards the image: the in-process
// SQL engine that tests use must never be linked into the service.
func TestProductionBinaryLeavesTestEngineOut(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".", "./server").Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			t.Fatalf("go list -deps: %v\n%s", err, exitErr.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps listed only %d packages; the check would prove nothing", len(deps))
	}
	for _, pkg := range deps {
		for _, forbidden := range []string{
			"github.com/dolthub/",
			"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/memserver",
			"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest",
		} {
			if strings.HasPrefix(pkg, forbidden) {
				t.Errorf("the employee binary depends on %s", pkg)
			}
		}
	}
}

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
	env := map[string]string{
		"PORT": "0", "METRICS_PORT": "0",
		"APP_DB_HOST": database.Host, "APP_DB_PORT": strconv.Itoa(database.Port),
		"APP_DB_NAME": database.Name, "APP_DB_USER": database.User, "APP_DB_PASSWORD": database.Password,
		"SESSION_KEY": sessionKey, "ADMIN_EMAIL": "first.admin@coffee-suppliers.example", "ADMIN_PASSWORD": adminPassword,
	}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	logs, logWriter := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, envconfig.FromMap(env), logWriter)
		logWriter.Close()
		done <- err
	}()

	// The service logs where it listens; keep reading after that so
	// logging never blocks it.
	addrs := make(chan [2]string, 1)
	var logText strings.Builder
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		lines := bufio.NewScanner(logs)
		for lines.Scan() {
			logText.WriteString(lines.Text() + "\n")
			var entry struct {
				Msg         string `json:"msg"`
				Addr        string `json:"addr"`
				MetricsAddr string `json:"metrics_addr"`
			}
			if json.Unmarshal(lines.Bytes(), &entry) == nil && entry.Msg == "listening" {
				addrs <- [2]string{entry.Addr, entry.MetricsAddr}
			}
		}
	}()

	var app, metrics string
	select {
	case a := <-addrs:
		app, metrics = loopback(t, a[0]), loopback(t, a[1])
	case err := <-done:
		<-logDone
		t.Fatalf("run ended before listening: %v\n%s", err, logText.String())
	}

	client := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]int{
		app + "/healthz":         http.StatusOK,
		app + "/readyz":          http.StatusOK,
		app + "/admin":           http.StatusSeeOther, // to sign in
		app + "/admin/suppliers": http.StatusSeeOther,
		app + "/admin/login":     http.StatusOK,
		metrics + "/metrics":     http.StatusOK,
	} {
		res, err := client.Get(path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: status %d, want %d", path, res.StatusCode, want)
		}
	}

	stop()
	if err := <-done; err != nil {
		t.Errorf("run returned %v after being stopped, want a clean stop", err)
	}
	<-logDone
	if !strings.Contains(logText.String(), `"msg":"stopped cleanly"`) {
		t.Errorf("log lacks the clean stop:\n%s", logText.String())
	}
	for name, secret := range map[string]string{"database password": database.Password, "session key": sessionKey, "admin password": adminPassword} {
		if strings.Contains(logText.String(), secret) {
			t.Errorf("the log shows the %s", name)
		}
	}
	for _, want := range []string{`"msg":"employee settings"`, `"msg":"created the first administrator from ADMIN_EMAIL"`} {
		if !strings.Contains(logText.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, logText.String())
		}
	}
}

const (
	sessionKey    = "a-session-key-of-at-least-32-bytes-for-tests"
	adminPassword = "the first admin's password"
)

// loopback turns a logged listen address such as [::]:34567 into a URL
// on the loopback interface.
func loopback(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("logged address %q: %v", addr, err)
	}
	return "http://127.0.0.1:" + port
}

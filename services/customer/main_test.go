package main

import (
	"context"
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
	var stdout webtest.LogBuffer
	err := run(context.Background(), envconfig.FromMap(map[string]string{"METRICS_PORT": "8080"}), &stdout)
	if err == nil {
		t.Fatal("run started without database settings")
	}
	for _, name := range []string{"APP_DB_HOST", "APP_DB_USER", "APP_DB_PASSWORD", "METRICS_PORT"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error should name %s:\n%v", name, err)
		}
	}
}

func TestRunServesAndShutsDown(t *testing.T) {
	t.Parallel()
	d := suppliertest.NewDatabase(t)
	admin := d.Open(t)
	if _, err := suppliers.Migrate(t.Context(), admin); err != nil {
		t.Fatal(err)
	}
	if err := suppliers.Seed(t.Context(), admin, 3, 1); err != nil {
		t.Fatal(err)
	}
	const password = "customer-Pass-7"
	reader := d.CreateUser(t, "run_"+d.Name[len(d.Name)-8:], password, suppliers.CustomerGrants(d.Name)...)
	env := map[string]string{
		"SHUTDOWN_TIMEOUT": "5s",
		"APP_DB_HOST":      reader.Host, "APP_DB_PORT": strconv.Itoa(reader.Port), "APP_DB_NAME": reader.Name,
		"APP_DB_USER": reader.User, "APP_DB_PASSWORD": password,
	}
	svc := webtest.StartService(t, run, env)
	for _, tc := range []struct {
		url  string
		want int
	}{
		{svc.URL + "/healthz", http.StatusOK},
		{svc.URL + "/readyz", http.StatusOK},
		{svc.URL + "/suppliers", http.StatusOK},
		{svc.URL + "/metrics", http.StatusNotFound},
		{svc.MetricsURL + "/metrics", http.StatusOK},
	} {
		resp, err := http.Get(tc.url)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.url, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s = %d, want %d", tc.url, resp.StatusCode, tc.want)
		}
	}

	if err := svc.Stop(); err != nil { // SIGTERM
		t.Fatalf("run after shutdown = %v, want nil", err)
	}
	logs := svc.Logs.String()
	if !strings.Contains(logs, "stopped cleanly") {
		t.Errorf("no clean stop logged:\n%s", logs)
	}
	if strings.Contains(logs, password) {
		t.Errorf("stdout contains the database password:\n%s", logs)
	}
	if !strings.Contains(logs, `"password":"(set)"`) {
		t.Errorf("the start-up config line should show the password as (set):\n%s", logs)
	}
}

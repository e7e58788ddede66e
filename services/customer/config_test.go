package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
)

func TestConfigNamesEveryMissingDatabaseSetting(t *testing.T) {
	t.Parallel()
	_, err := configFromEnv(envconfig.FromMap(map[string]string{}))
	if err == nil {
		t.Fatal("no error without database settings")
	}
	for _, name := range []string{"APP_DB_HOST", "APP_DB_USER", "APP_DB_PASSWORD"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

func TestConfigNamesBadPorts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"PORT": "http"}, "PORT"},
		{map[string]string{"PORT": "70000"}, "PORT"},
		{map[string]string{"PORT": "8080", "METRICS_PORT": "8080"}, "METRICS_PORT"},
		{map[string]string{"APP_DB_PORT": "-1"}, "APP_DB_PORT"},
	} {
		env := map[string]string{"APP_DB_HOST": "db", "APP_DB_USER": "employee", "APP_DB_PASSWORD": "secret"}
		for k, v := range tc.env {
			env[k] = v
		}
		_, err := configFromEnv(envconfig.FromMap(env))
		if err == nil || !strings.Contains(err.Error(), tc.name+":") {
			t.Errorf("env %v: error %v, want one naming %s", tc.env, err, tc.name)
		}
	}
}

func TestConfigDefaultsAndMasksThePassword(t *testing.T) {
	t.Parallel()
	const password = "correct-horse-battery"
	cfg, err := configFromEnv(envconfig.FromMap(map[string]string{
		"APP_DB_HOST": "db.internal", "APP_DB_USER": "employee", "APP_DB_PASSWORD": password,
	}))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if cfg.Web.Port != 8080 || cfg.Web.MetricsPort != 9090 || cfg.DB.Port != 3306 || cfg.DB.Name != "COFFEE" {
		t.Errorf("defaults: web %+v, db port %d name %q", cfg.Web, cfg.DB.Port, cfg.DB.Name)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("starting", "config", cfg)
	if strings.Contains(logged.String(), password) {
		t.Errorf("the logged configuration shows the password: %s", logged.String())
	}
	if !strings.Contains(logged.String(), "db.internal") || !strings.Contains(logged.String(), `"password":"(set)"`) {
		t.Errorf("the logged configuration lacks the settings: %s", logged.String())
	}
	// Every web setting is written, by name, with its value: an operator
	// reads the start-up line to see what a task runs with.
	if strings.Contains(logged.String(), "!ERROR") {
		t.Errorf("the logged configuration could not be written: %s", logged.String())
	}
	for _, setting := range []string{`"port":8080`, `"metrics_port":9090`, `"shutdown_timeout":"20s"`, `"trusted_proxies":"127.0.0.1/32,::1/128"`,
		`"log_level":"INFO"`, `"page_cache_ttl":"500ms"`, `"pprof":false`} {
		if !strings.Contains(logged.String(), setting) {
			t.Errorf("the logged configuration lacks %s: %s", setting, logged.String())
		}
	}
	for _, out := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprint(cfg.DB)} {
		if strings.Contains(out, password) {
			t.Errorf("fmt shows the password: %s", out)
		}
	}
}

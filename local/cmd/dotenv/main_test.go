package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/server"
)

// TestWriteEnvFillsEverySecret: `make up` on a fresh clone writes a .env
// the compose stack starts with — every setting of .env.example, each
// secret fresh, and the employee service accepts its session key and
// first administrator.
func TestWriteEnvFillsEverySecret(t *testing.T) {
	first := writeInTempDir(t)
	second := writeInTempDir(t)

	exampleKeys := keysOf(t, readFile(t, "../../../.env.example"))
	for _, key := range exampleKeys {
		if _, ok := first[key]; !ok {
			t.Errorf(".env lacks %s of .env.example", key)
		}
	}
	for _, secret := range []string{"MYSQL_ROOT_PASSWORD", "CUSTOMER_DB_PASSWORD", "EMPLOYEE_DB_PASSWORD", "SESSION_KEY", "ADMIN_PASSWORD"} {
		if first[secret] == "" {
			t.Errorf("%s is empty", secret)
		}
		if first[secret] == second[secret] {
			t.Errorf("%s is the same in two new .env files: %q", secret, first[secret])
		}
	}
	// The compose file's database passwords: at least 12 printable ASCII
	// characters, no quotes or backslash (see .env.example).
	for _, secret := range []string{"MYSQL_ROOT_PASSWORD", "CUSTOMER_DB_PASSWORD", "EMPLOYEE_DB_PASSWORD"} {
		p := first[secret]
		if len(p) < 12 || strings.ContainsAny(p, "'\"\\ `$#") {
			t.Errorf("%s = %q: want 12 or more characters without quotes, backslash, space, $ or #", secret, p)
		}
	}
	env := envconfig.New(envconfig.FromMap(first))
	opts := server.OptionsFromEnv(env)
	if err := env.Err(); err != nil {
		t.Fatalf("the employee service refuses the new .env: %v", err)
	}
	if len(opts.SessionKeys) != 1 || opts.AdminEmail == "" {
		t.Errorf("want one session key and a first administrator, got %d keys and %q", len(opts.SessionKeys), opts.AdminEmail)
	}
	if first["LB_HTTP_PORT"] != "8000" {
		t.Errorf("the non-secret settings keep .env.example's values, got LB_HTTP_PORT=%q", first["LB_HTTP_PORT"])
	}
}

// TestWriteEnvNeverOverwrites: a .env the user has is theirs.
func TestWriteEnvNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	mine := []byte("MYSQL_ROOT_PASSWORD=mine-and-only-mine\n")
	if err := os.WriteFile(path, mine, 0o640); err != nil {
		t.Fatal(err)
	}
	created, err := writeEnv(path, readFile(t, "../../../.env.example"))
	if err != nil || created {
		t.Fatalf("writeEnv over an existing file = %v, %v; want false, nil", created, err)
	}
	if got := readFile(t, path); !bytes.Equal(got, mine) {
		t.Errorf("the existing .env changed to:\n%s", got)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o640 {
		t.Errorf("the existing .env's mode changed to %v", info.Mode().Perm())
	}
}

func writeInTempDir(t *testing.T) map[string]string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	created, err := writeEnv(path, readFile(t, "../../../.env.example"))
	if err != nil || !created {
		t.Fatalf("writeEnv = %v, %v; want a new file", created, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf(".env has mode %v; want 0600, it holds secrets", info.Mode().Perm())
	}
	values := map[string]string{}
	content := readFile(t, path)
	for _, key := range keysOf(t, content) {
		values[key] = ""
	}
	lines := bufio.NewScanner(bytes.NewReader(content))
	for lines.Scan() {
		if key, value, ok := strings.Cut(lines.Text(), "="); ok && !strings.HasPrefix(key, "#") {
			values[key] = value
		}
	}
	return values
}

func keysOf(t *testing.T, content []byte) []string {
	t.Helper()
	var keys []string
	lines := bufio.NewScanner(bytes.NewReader(content))
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if key, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		t.Fatal("no settings found")
	}
	return keys
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package containers

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// The stand-ins are only as good as their likeness to the official images:
// these tests use them the way the compose file and testcontainers use
// mariadb:10.11 and haproxy:2.6.

const (
	mariaDBStandIn = "coffee-standin/mariadb:10.11"
	haproxyStandIn = "coffee-standin/haproxy:2.6"
	goStandIn      = "coffee-standin/golang:1.26-bookworm"
	runtimeStandIn = "coffee-standin/distroless-static:nonroot"
	buildStandIns  = "make standins"
)

// sharedDir is a temporary folder the containers' unprivileged users (mysql,
// haproxy) can read, holding files name → content.
func sharedDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestMariaDBStandIn: the official image's variables (both spellings, and a
// root password that needs escaping), the init folder, the ready line, the
// health check script, and a clean stop.
func TestMariaDBStandIn(t *testing.T) {
	t.Parallel()
	requireImage(t, mariaDBStandIn, buildStandIns)
	const rootPassword = `r00t'pa\ss"word`
	initdb := sharedDir(t, map[string]string{
		"01-schema.sql": "CREATE TABLE greeting (id INT PRIMARY KEY, words VARCHAR(40));\n",
		"02-data.sql":   "INSERT INTO greeting VALUES (1, 'ran from the init folder');\n",
	})
	id := runContainer(t,
		"-p", "127.0.0.1::3306",
		"-v", initdb+":/docker-entrypoint-initdb.d:ro",
		"-e", "MARIADB_ROOT_PASSWORD="+rootPassword,
		"-e", "MYSQL_DATABASE=COFFEE",
		"-e", "MARIADB_USER=app", "-e", "MYSQL_PASSWORD=app-password",
		mariaDBStandIn)

	waitFor(t, id, 90*time.Second, "healthcheck.sh passes", func() error {
		_, err := dockerOutput(t.Context(), "exec", id, "healthcheck.sh", "--connect", "--innodb_initialized")
		return err
	})
	// testcontainers' wait strategies and people read these lines: one from
	// the server that initialises, one from the server that serves.
	logs := containerLogs(t, id)
	if n := strings.Count(logs, "ready for connections"); n < 2 {
		t.Errorf(`"ready for connections" appears %d times in the logs, want 2`, n)
	}
	if !strings.Contains(logs, "port: 3306") {
		t.Errorf("no ready line with port: 3306 in the logs")
	}

	addr := hostPort(t, id, "3306/tcp")
	open := func(user, password, database string) *sql.DB {
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", addr, database
		cfg.Timeout = 5 * time.Second
		connector, err := mysql.NewConnector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(connector)
		t.Cleanup(func() { db.Close() })
		return db
	}

	var words string
	if err := open("app", "app-password", "COFFEE").QueryRowContext(t.Context(), "SELECT words FROM greeting WHERE id = 1").Scan(&words); err != nil {
		t.Fatalf("the user of MARIADB_USER/MYSQL_PASSWORD reads MYSQL_DATABASE's init data: %v", err)
	}
	if words != "ran from the init folder" {
		t.Errorf("greeting = %q", words)
	}
	var grants int
	if err := open("root", rootPassword, "").QueryRowContext(t.Context(),
		"SELECT COUNT(*) FROM mysql.user WHERE user = 'root' AND host = '%'").Scan(&grants); err != nil {
		t.Fatalf("root logs in over TCP with MARIADB_ROOT_PASSWORD: %v", err)
	}
	if grants != 1 {
		t.Errorf("root@%% accounts = %d, want 1", grants)
	}
	if err := open("root", "wrong", "").PingContext(t.Context()); err == nil {
		t.Errorf("root logged in with a wrong password")
	}

	stopCleanly(t, id)
}

// TestMariaDBStandInRefusesNoPassword: as the official image, an
// uninitialised server with no root password option refuses to start.
func TestMariaDBStandInRefusesNoPassword(t *testing.T) {
	t.Parallel()
	requireImage(t, mariaDBStandIn, buildStandIns)
	out, err := dockerOutput(t.Context(), "run", "--rm", mariaDBStandIn)
	if err == nil {
		t.Fatalf("started without a root password option:\n%s", out)
	}
	if !strings.Contains(err.Error(), "MARIADB_ROOT_PASSWORD") {
		t.Errorf("the error does not name MARIADB_ROOT_PASSWORD: %v", err)
	}
}

// TestHAProxyStandIn: the configuration at the official path, haproxy in the
// foreground as an unprivileged user, locked down, and a graceful stop.
func TestHAProxyStandIn(t *testing.T) {
	t.Parallel()
	requireImage(t, haproxyStandIn, buildStandIns)
	if user := docker(t, "image", "inspect", "--format", "{{.Config.User}}", haproxyStandIn); user != "haproxy" {
		t.Errorf("Config.User = %q, want haproxy, as the official image", user)
	}
	cfg := sharedDir(t, map[string]string{"haproxy.cfg": `
global
    log stdout format raw local0
    # SIGUSR1 (docker stop) waits for open connections; bound the wait.
    hard-stop-after 3s
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend probe
    bind :8080
    http-request return status 200 content-type text/plain string "stand-in ok"
`})
	args := append(slices.Clone(lockedDown), "-p", "127.0.0.1::8080", "-v", cfg+":/usr/local/etc/haproxy:ro", haproxyStandIn)
	id := runContainer(t, args...)
	url := "http://" + hostPort(t, id, "8080/tcp") + "/"
	waitFor(t, id, 30*time.Second, "haproxy answers", func() error {
		code, body, err := get(url)
		if err == nil && (code != 200 || body != "stand-in ok") {
			err = fmt.Errorf("%d %q", code, body)
		}
		return err
	})
	// hard-stop-after bounds the graceful stop at 3 s, inside docker's 10.
	stopCleanly(t, id)
}

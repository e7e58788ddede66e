// Package suppliertest gives tests a fresh, empty MySQL database each,
// reached over TCP with github.com/go-sql-driver/mysql like production.
//
//	d := suppliertest.NewDatabase(t)            // dropped when t ends
//	db := d.Open(t)                             // admin *sql.DB, closed when t ends
//	cust := d.CreateUser(t, "customer_x", "pw", suppliers.CustomerGrants(d.Name)...) // the service's rights
//	custDB := cust.Open(t)
//
// All databases live on one server per test binary, started on first use:
// the in-process memserver (no Docker needed), or, when TEST_MYSQL_IMAGE
// names an image (mysql:8.4, mariadb:10.11), one container of it started
// with testcontainers-go. A package whose tests use this should remove
// that container when its tests end:
//
//	func TestMain(m *testing.M) { suppliertest.Main(m) }
//
// Only test code may import this package.
package suppliertest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/memserver"
)

// DB describes one test database and the account to reach it with.
type DB struct {
	Host     string
	Port     int
	Name     string // database name: lowercase letters, digits and '_'
	User     string
	Password string
}

// server is where test databases are created: its address and an account
// allowed to create databases and users.
type server struct {
	host           string
	port           int
	user, password string
}

// shared starts the server once per test binary, on first use. The
// memserver dies with the process; a container is removed by Main (or,
// failing that, by the next test binary's sweep of orphans: see
// startContainer). Tests of every package in the binary share it.
var shared = sync.OnceValues(start)

// ImageVariable names the environment variable that selects a real server:
// an image such as "mysql:8.4" or "mariadb:10.11" started once per test
// binary with testcontainers-go. Unset, tests use the in-process memserver.
const ImageVariable = "TEST_MYSQL_IMAGE"

// errNoDocker marks a real server that was asked for but cannot be started
// because no Docker engine answers: tests skip outside CI and fail in it.
var errNoDocker = errors.New("no Docker engine answers")

// start picks the backend and logs it, once per test binary.
func start() (server, error) {
	if image := os.Getenv(ImageVariable); image != "" {
		srv, err := startContainer(image)
		if err == nil {
			fmt.Fprintf(os.Stderr, "suppliertest: databases on %s in a container at %s:%d (%s=%s)\n", image, srv.host, srv.port, ImageVariable, image)
		}
		return srv, err
	}
	password := rand.Text()
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("MEMSERVER_DEBUG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// Every test of the binary shares this one server, which runs one
	// statement or transaction at a time: under -race on a busy machine a
	// neighbour's 10,000-row seed can hold it longer than the default wait.
	s, err := memserver.Start(context.Background(), memserver.Options{RootPassword: password, Logger: logger,
		LockWaitTimeout: testLockWaitTimeout})
	if err != nil {
		return server{}, fmt.Errorf("suppliertest: start memserver: %w", err)
	}
	fmt.Fprintf(os.Stderr, "suppliertest: databases on the in-process memserver (set %s, e.g. mysql:8.4, for a real server)\n", ImageVariable)
	return server{host: s.Host(), port: s.Port(), user: memserver.DefaultRootUser, password: password}, nil
}

// testLockWaitTimeout is how long a test's statement waits for the shared
// in-process server (see above); a test that deadlocks itself still fails,
// later.
const testLockWaitTimeout = 45 * time.Second

// NewDatabase creates an empty database with a unique name and returns
// admin credentials for it. The database is dropped when t ends.
func NewDatabase(t testing.TB) DB {
	t.Helper()
	srv, err := shared()
	if errors.Is(err, errNoDocker) && os.Getenv("CI") == "" {
		t.Skipf("SKIPPED: %s=%s asks for a real database server, but %v. Start Docker, or unset %s to use the in-process memserver. (In CI this fails.)",
			ImageVariable, os.Getenv(ImageVariable), err, ImageVariable)
	}
	if err != nil {
		t.Fatal(err)
	}
	suffix := strings.ToLower(rand.Text()[:8])
	// The test name helps when reading server logs; the random suffix keeps
	// names unique across parallel tests and test binaries sharing a server.
	d := DB{
		Host:     srv.host,
		Port:     srv.port,
		Name:     "test_" + sanitize(t.Name(), 40) + "_" + suffix,
		User:     srv.user,
		Password: srv.password,
	}

	admin := DB{Host: d.Host, Port: d.Port, User: d.User, Password: d.Password}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := admin.exec(ctx, "CREATE DATABASE "+d.Name+" DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("suppliertest: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := admin.exec(ctx, "DROP DATABASE IF EXISTS "+d.Name); err != nil {
			t.Errorf("suppliertest: %v", err)
		}
	})
	return d
}

// Config is d as the services' database settings, so tests connect exactly
// as production does (same driver options, utf8mb4, timeouts).
func (d DB) Config() suppliers.DBConfig {
	return suppliers.DBConfig{Host: d.Host, Port: d.Port, User: d.User, Password: d.Password, Name: d.Name}
}

// DSN is d's go-sql-driver connection string: the production one, except
// that reads and writes may take a minute. The in-process server runs one
// statement at a time for every parallel test in the binary, so under the
// race detector a statement can queue far past production's 5 s backstop.
func (d DB) DSN() string {
	cfg, err := d.Config().DriverConfig()
	if err != nil {
		panic(fmt.Sprintf("suppliertest: the production driver settings: %v", err))
	}
	cfg.ReadTimeout, cfg.WriteTimeout = time.Minute, time.Minute
	return cfg.FormatDSN()
}

// Open connects to d, pings it and closes the pool when t ends.
func (d DB) Open(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", d.DSN())
	if err != nil {
		t.Fatalf("suppliertest: open %s as %s: %v", d.Name, d.User, err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("suppliertest: ping %s as %s: %v", d.Name, d.User, err)
	}
	return db
}

// CreateUser creates (or re-passwords) the account user@'%', applies each
// grant as "GRANT <grant> TO user" with every %s replaced by the database
// name (e.g. "SELECT ON %s.suppliers", "SELECT, INSERT ON %s.*"), and
// returns d with that account's credentials. The account is dropped when t
// ends.
//
// Accounts are server-wide, unlike databases: tests that may run in
// parallel must use different user names (at most 32 characters).
func (d DB) CreateUser(t testing.TB, user, password string, grants ...string) DB {
	t.Helper()
	account := fmt.Sprintf("'%s'@'%%'", user)
	stmts := []string{
		fmt.Sprintf("CREATE USER IF NOT EXISTS %s IDENTIFIED BY '%s'", account, password),
		fmt.Sprintf("ALTER USER %s IDENTIFIED BY '%s'", account, password),
	}
	for _, g := range grants {
		// ReplaceAll, not Sprintf: the database name needs no quoting and
		// grants may contain other '%' characters.
		stmts = append(stmts, fmt.Sprintf("GRANT %s TO %s", strings.ReplaceAll(g, "%s", d.Name), account))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := d
	if err := admin.exec(ctx, stmts...); err != nil {
		t.Fatalf("suppliertest: create user %s: %v", user, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := admin.exec(ctx, "DROP USER IF EXISTS "+account); err != nil {
			t.Errorf("suppliertest: %v", err)
		}
	})
	d.User, d.Password = user, password
	return d
}

// exec runs statements on a short-lived connection as d's account. It
// connects without selecting a database, so it works for CREATE/DROP
// DATABASE as well.
func (d DB) exec(ctx context.Context, stmts ...string) error {
	d.Name = ""
	db, err := sql.Open("mysql", d.DSN())
	if err != nil {
		return fmt.Errorf("open admin connection: %w", err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", redact(s), err)
		}
	}
	return nil
}

// redact hides the password in CREATE/ALTER USER statements before they
// end up in test output.
func redact(stmt string) string {
	if i := strings.Index(stmt, " IDENTIFIED BY "); i >= 0 {
		return stmt[:i] + " IDENTIFIED BY '…'"
	}
	return stmt
}

// sanitize lowercases s and keeps [a-z0-9_], so the result is a valid
// unquoted identifier on MySQL and MariaDB regardless of
// lower_case_table_names.
func sanitize(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if b.Len() >= max {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

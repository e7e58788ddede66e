package memserver_test

// These tests pin down what is the engine's own: how it starts, whom it
// lets in, the MySQL error numbers it borrows (compat.go), GET_LOCK, and the
// one-transaction-at-a-time serialisation (serial.go) with its waits. What
// the supplier store relies on (schema, paging, LIKE escaping, optimistic
// updates, privileges) is tested by the store tests in pkg/suppliers, which
// run on this engine by default and on MariaDB with TEST_MYSQL_IMAGE. Where
// the engine falls short of MySQL a test logs "DIFFERS:" instead of failing,
// so the gap stays visible.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/memserver"
)

const rootPassword = "root-Secret-123"

// suppliersTable is the shape of the store's table (its migrations are not
// imported: the engine's tests must not break when they change).
const suppliersTable = `CREATE TABLE suppliers (
  id INT NOT NULL AUTO_INCREMENT,
  name VARCHAR(255) NOT NULL,
  address VARCHAR(255) NOT NULL,
  city VARCHAR(255) NOT NULL,
  state VARCHAR(255) NOT NULL,
  email VARCHAR(255) NOT NULL,
  phone VARCHAR(100) NOT NULL,
  version INT UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (id)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci`

const schemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INT NOT NULL PRIMARY KEY,
		name VARCHAR(255) NOT NULL,
		applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`

// quietLogger keeps test output readable; MEMSERVER_DEBUG=1 shows the
// engine's own log when a test needs investigating.
func quietLogger() *slog.Logger {
	if os.Getenv("MEMSERVER_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// start starts a server with opts (RootPassword and Logger filled in when
// empty) and closes it when the test ends.
func start(t *testing.T, opts memserver.Options) *memserver.Server {
	t.Helper()
	if opts.RootPassword == "" {
		opts.RootPassword = rootPassword
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	s, err := memserver.Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// open connects with a DSN exactly like production builds it.
func open(t *testing.T, s *memserver.Server, user, password, database string) *sql.DB {
	t.Helper()
	dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s?parseTime=true", user, password, s.Addr(), database)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", user, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(t.Context()); err != nil {
		t.Fatalf("ping as %s: %v", user, err)
	}
	return db
}

func exec(t *testing.T, db execer, query string, args ...any) sql.Result {
	t.Helper()
	res, err := db.ExecContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", firstLine(query), err)
	}
	return res
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// coffee starts a server with opts, creates COFFEE with the suppliers table
// and returns a root connection to it.
func coffee(t *testing.T, opts memserver.Options) (*memserver.Server, *sql.DB) {
	t.Helper()
	s := start(t, opts)
	root := open(t, s, "root", rootPassword, "")
	exec(t, root, "CREATE DATABASE COFFEE")
	db := open(t, s, "root", rootPassword, "COFFEE")
	exec(t, db, suppliersTable)
	return s, db
}

func insertSupplier(t *testing.T, db execer, name, city string) int64 {
	t.Helper()
	res := exec(t, db, "INSERT INTO suppliers (name, address, city, state, email, phone, version) VALUES (?, ?, ?, ?, ?, ?, 1)",
		name, "1 Main St", city, "CA", "a@example.com", "555")
	id, err := res.LastInsertId()
	if err != nil {
		t.Fatalf("LastInsertId: %v", err)
	}
	return id
}

func mysqlErrNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

func TestStartOptions(t *testing.T) {
	if _, err := memserver.Start(t.Context(), memserver.Options{}); err == nil {
		t.Fatal("Start without RootPassword succeeded; want error")
	}

	s, err := memserver.Start(t.Context(), memserver.Options{RootUser: "admin", RootPassword: "pw", Logger: quietLogger()})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if s.Host() != "127.0.0.1" || s.Port() == 0 || s.Addr() != fmt.Sprintf("127.0.0.1:%d", s.Port()) {
		t.Errorf("Addr=%q Host=%q Port=%d; want 127.0.0.1 with a bound port", s.Addr(), s.Host(), s.Port())
	}
	db := open(t, s, "admin", "pw", "")
	if got, want := s.DSN("admin", "pw", "x"), fmt.Sprintf("admin:pw@tcp(%s)/x?parseTime=true", s.Addr()); got != want {
		t.Errorf("DSN = %q, want %q", got, want)
	}

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Pooled connections must die with the server, not linger half-alive.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err == nil {
		t.Error("ping after Close succeeded; want error")
	}

	t.Run("all interfaces", func(t *testing.T) {
		s := start(t, memserver.Options{Addr: ":0"})
		if s.Host() != "127.0.0.1" {
			t.Errorf("Host() = %q, want a dialable loopback address", s.Host())
		}
		open(t, s, "root", rootPassword, "")
	})
}

func TestAuthentication(t *testing.T) {
	s := start(t, memserver.Options{})
	open(t, s, "root", rootPassword, "") // plain DSN, no auth flags

	for _, tc := range []struct{ name, user, password string }{
		{"wrong password", "root", "nope"},
		{"empty password", "root", ""},
		{"unknown user", "ghost", rootPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/", tc.user, tc.password, s.Addr()))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.PingContext(t.Context())
			if n := mysqlErrNumber(err); n != 1045 {
				t.Errorf("ping error = %v (number %d), want 1045 access denied", err, n)
			}
		})
	}
}

func TestStartsEmpty(t *testing.T) {
	s := start(t, memserver.Options{})
	root := open(t, s, "root", rootPassword, "")
	rows, err := root.QueryContext(t.Context(), "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var dbs []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, name)
	}
	for _, name := range dbs {
		switch strings.ToLower(name) {
		case "information_schema", "mysql":
		default:
			t.Errorf("unexpected database %q at start (all: %v)", name, dbs)
		}
	}
}

// TestErrorNumbersMatchMySQL covers compat.go: the engine reports these
// refusals as its generic 1105, and callers (the services' readiness
// messages among them) tell them apart by MySQL's numbers.
func TestErrorNumbersMatchMySQL(t *testing.T) {
	s, root := coffee(t, memserver.Options{})
	exec(t, root, "CREATE TABLE other (id INT PRIMARY KEY)")
	exec(t, root, "CREATE USER 'customer'@'%' IDENTIFIED BY 'customer-pw-123'")
	exec(t, root, "GRANT SELECT ON `COFFEE`.`suppliers` TO 'customer'@'%'")
	customer := open(t, s, "customer", "customer-pw-123", "COFFEE")

	for _, tc := range []struct {
		name  string
		db    *sql.DB
		query string
		args  []any
		want  uint16
	}{
		{"table not granted", customer, "SELECT COUNT(*) FROM other", nil, 1142},
		{"command not granted", customer, "DELETE FROM suppliers WHERE id = ?", []any{1}, 1142},
		{"database not granted", customer, "SELECT user FROM mysql.user", nil, 1044},
		{"value too long", root, "INSERT INTO suppliers (name, address, city, state, email, phone) VALUES (?, '', '', '', '', '')",
			[]any{strings.Repeat("é", 256)}, 1406},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.db.ExecContext(t.Context(), tc.query, tc.args...)
			if n := mysqlErrNumber(err); n != tc.want {
				t.Errorf("%s: err = %v (number %d), want %d", tc.query, err, n, tc.want)
			}
		})
	}
}

// TestTransactionsAreExclusive pins down the one big difference from MySQL:
// an open transaction blocks every other connection, reads included, until
// it ends, and a waiter gives up after LockWaitTimeout with 1205.
func TestTransactionsAreExclusive(t *testing.T) {
	// Long enough that the waiter below, which must not give up, still
	// waits when a loaded machine is slow to commit; short for a test.
	_, db := coffee(t, memserver.Options{LockWaitTimeout: 2 * time.Second})
	ctx := t.Context()

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	insertSupplier(t, tx, "Pending", "Town")
	var n int
	err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM suppliers").Scan(&n)
	if mysqlErrNumber(err) != 1205 {
		t.Errorf("read during another connection's transaction: n=%d err=%v, want 1205 after the lock wait timeout", n, err)
	}
	t.Log("DIFFERS: a read from another connection during an open transaction waits (MySQL would read the old snapshot)")

	// A waiter proceeds as soon as the transaction ends.
	got := make(chan error, 1)
	go func() {
		var n int
		err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM suppliers").Scan(&n)
		if err == nil && n != 1 {
			err = fmt.Errorf("count = %d, want 1", n)
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Errorf("waiting reader: %v", err)
	}

	// A connection dropped mid-transaction (no ROLLBACK sent) discards it
	// and frees the server.
	a, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, a, "START TRANSACTION")
	insertSupplier(t, a, "Abandoned", "Town")
	_ = a.Raw(func(dc any) error {
		_ = dc.(driver.Conn).Close()
		return driver.ErrBadConn // tells database/sql to discard it
	})
	_ = a.Close()
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM suppliers").Scan(&n); err != nil || n != 1 {
		t.Errorf("after abandoned tx: count = %d, %v; want 1", n, err)
	}
}

func TestGetLock(t *testing.T) {
	s, _ := coffee(t, memserver.Options{})
	ctx := t.Context()
	// a has its own pool so closing that pool really closes the connection.
	poolA := open(t, s, "root", rootPassword, "COFFEE")
	db := open(t, s, "root", rootPassword, "COFFEE")
	a, err := poolA.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	lock := func(c *sql.Conn, timeout int) sql.NullInt64 {
		t.Helper()
		var got sql.NullInt64
		if err := c.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", "coffee_suppliers_migrations", timeout).Scan(&got); err != nil {
			t.Fatalf("MISSING: GET_LOCK: %v", err)
		}
		return got
	}
	if got := lock(a, 10); got.Int64 != 1 {
		t.Fatalf("GET_LOCK on free lock = %v, want 1", got)
	}
	startWait := time.Now()
	if got := lock(b, 1); got.Valid && got.Int64 != 0 {
		t.Errorf("GET_LOCK held by another session = %v, want 0 (timeout)", got)
	}
	if waited := time.Since(startWait); waited < 500*time.Millisecond {
		t.Logf("DIFFERS: GET_LOCK timeout returned after %v, MySQL waits the full timeout", waited)
	}
	if _, err := a.ExecContext(ctx, "SELECT RELEASE_LOCK(?)", "coffee_suppliers_migrations"); err != nil {
		t.Fatalf("RELEASE_LOCK via Exec: %v", err)
	}
	if got := lock(b, 10); got.Int64 != 1 {
		t.Errorf("GET_LOCK after release = %v, want 1", got)
	}
	var released sql.NullInt64
	if err := b.QueryRowContext(ctx, "SELECT RELEASE_LOCK(?)", "coffee_suppliers_migrations").Scan(&released); err != nil || released.Int64 != 1 {
		t.Errorf("RELEASE_LOCK = %v, %v; want 1", released, err)
	}

	// Two migrators: while b waits inside GET_LOCK, a (the holder) must
	// still be able to run statements and release the lock.
	if got := lock(a, 10); got.Int64 != 1 {
		t.Fatalf("GET_LOCK = %v, want 1", got)
	}
	waited := make(chan sql.NullInt64, 1)
	go func() {
		var got sql.NullInt64
		_ = b.QueryRowContext(ctx, "SELECT GET_LOCK(?, 10)", "coffee_suppliers_migrations").Scan(&got)
		waited <- got
	}()
	time.Sleep(100 * time.Millisecond)
	exec(t, a, schemaMigrations)
	exec(t, a, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", 7, "while_b_waits")
	exec(t, a, "SELECT RELEASE_LOCK(?)", "coffee_suppliers_migrations")
	select {
	case got := <-waited:
		if got.Int64 != 1 {
			t.Errorf("waiting GET_LOCK = %v, want 1 once released", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting GET_LOCK not granted after release")
	}
	exec(t, b, "SELECT RELEASE_LOCK(?)", "coffee_suppliers_migrations")

	// Closing a connection must free its locks, as migrate relies on.
	if got := lock(a, 10); got.Int64 != 1 {
		t.Fatalf("relock = %v", got)
	}
	a.Close()
	poolA.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got := lock(b, 0); got.Int64 == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("lock not released when its connection closed")
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConcurrency runs a burst like a busy service: many connections each
// reading a page and applying version-checked updates.
func TestConcurrency(t *testing.T) {
	s, db := coffee(t, memserver.Options{})
	const workers, rounds, rowsN = 20, 25, 10
	ids := make([]int64, rowsN)
	for i := range ids {
		ids[i] = insertSupplier(t, db, fmt.Sprintf("Supplier %02d", i), "Town")
	}

	app := open(t, s, "root", rootPassword, "COFFEE")
	app.SetMaxOpenConns(workers)
	app.SetMaxIdleConns(workers)

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied = map[int64]int64{} // successful updates per row
		errs    []error
	)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				id := ids[(w+r)%rowsN]
				var total int
				if err := app.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM suppliers WHERE name LIKE ? ESCAPE '\\\\'", "Supplier%").Scan(&total); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("count: %w", err))
					mu.Unlock()
					return
				}
				var version int64
				if err := app.QueryRowContext(t.Context(), "SELECT version FROM suppliers WHERE id = ?", id).Scan(&version); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("select: %w", err))
					mu.Unlock()
					return
				}
				res, err := app.ExecContext(t.Context(), "UPDATE suppliers SET city = ?, version = version + 1 WHERE id = ? AND version = ?",
					fmt.Sprintf("City %d/%d", w, r), id, version)
				var n int64
				if err == nil {
					n, err = res.RowsAffected()
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("update: %w", err))
				}
				applied[id] += n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}

	// Every successful version-checked update bumps the version by exactly
	// one; a mismatch means two updates both "won" (no row-level atomicity).
	lost := 0
	for _, id := range ids {
		var version int64
		if err := db.QueryRowContext(t.Context(), "SELECT version FROM suppliers WHERE id = ?", id).Scan(&version); err != nil {
			t.Fatal(err)
		}
		if version != 1+applied[id] {
			lost++
			t.Logf("row %d: version %d, but %d updates reported success", id, version, applied[id])
		}
	}
	if lost > 0 {
		t.Errorf("concurrent version-checked UPDATEs are not atomic (%d of %d rows)", lost, rowsN)
	}
}

// TestProductionServicesLeaveTheEngineOut guards the images: this engine
// (and the test helpers that start it) must never be linked into a service.
// Each service is its own module, so go list runs in its directory.
func TestProductionServicesLeaveTheEngineOut(t *testing.T) {
	goTool, err := osexec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the services' dependencies: %v", err)
	}
	for _, service := range []string{"customer", "employee"} {
		t.Run(service, func(t *testing.T) {
			t.Parallel()
			cmd := osexec.Command(goTool, "list", "-deps", ".", "./server")
			cmd.Dir = filepath.Join("..", "..", "..", "services", service)
			out, err := cmd.Output()
			if err != nil {
				var exitErr *osexec.ExitError
				if errors.As(err, &exitErr) {
					t.Fatalf("go list -deps in %s: %v\n%s", cmd.Dir, err, exitErr.Stderr)
				}
				t.Fatalf("go list -deps in %s: %v", cmd.Dir, err)
			}
			deps := strings.Fields(string(out))
			if !slices.Contains(deps, "github.com/go-sql-driver/mysql") {
				t.Fatalf("go list -deps listed %d packages without the MySQL driver; the check would prove nothing", len(deps))
			}
			for _, dep := range deps {
				for _, forbidden := range []string{
					"github.com/dolthub/",
					"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/memserver",
					"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest",
					"testing",
				} {
					if dep == forbidden || strings.HasPrefix(dep, strings.TrimSuffix(forbidden, "/")+"/") {
						t.Errorf("the %s binary depends on %s", service, dep)
					}
				}
			}
		})
	}
}

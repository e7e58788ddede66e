package main

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
)

// envFor is the APP_DB_* environment `make migrate` and `make seed` read.
func envFor(d suppliertest.DB, extra ...string) func(string) (string, bool) {
	m := map[string]string{
		"APP_DB_HOST": d.Host, "APP_DB_PORT": strconv.Itoa(d.Port),
		"APP_DB_USER": d.User, "APP_DB_PASSWORD": d.Password, "APP_DB_NAME": d.Name,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return envconfig.FromMap(m)
}

func countSuppliers(t *testing.T, d suppliertest.DB) int {
	t.Helper()
	var n int
	if err := d.Open(t).QueryRow("SELECT COUNT(*) FROM suppliers").Scan(&n); err != nil {
		t.Fatalf("count suppliers: %v", err)
	}
	return n
}

func TestMigrateThenSeedHonourTheAppDBSettings(t *testing.T) {
	d := suppliertest.NewDatabase(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	ctx := context.Background()

	if err := run(ctx, log, []string{"migrate"}, envFor(d)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := run(ctx, log, []string{"migrate"}, envFor(d)); err != nil {
		t.Fatalf("a second migrate must be a no-op, got %v", err)
	}
	if err := run(ctx, log, []string{"seed", "-n", "37"}, envFor(d)); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if n := countSuppliers(t, d); n != 37 {
		t.Fatalf("seed -n 37 left %d suppliers", n)
	}
	if strings.Contains(logs.String(), d.Password) {
		t.Fatal("the database password reached the log")
	}
}

func TestMigrateCreatesLeastPrivilegeAccounts(t *testing.T) {
	d := suppliertest.NewDatabase(t)
	suffix := strconv.Itoa(d.Port) + strings.TrimPrefix(d.Name, "test_")[:6]
	customerUser, employeeUser := "c"+suffix, "e"+suffix
	const customerPassword, employeePassword = "customer-secret-123", "employee-secret-456"
	var logs bytes.Buffer
	err := run(context.Background(), slog.New(slog.NewJSONHandler(&logs, nil)), []string{"migrate"}, envFor(d,
		"CUSTOMER_DB_USER", customerUser, "CUSTOMER_DB_PASSWORD", customerPassword,
		"EMPLOYEE_DB_USER", employeeUser, "EMPLOYEE_DB_PASSWORD", employeePassword))
	if err != nil {
		t.Fatalf("migrate with accounts: %v", err)
	}
	for _, secret := range []string{customerPassword, employeePassword, d.Password} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a password reached the log: %s", logs.String())
		}
	}

	as := func(user, password string) *suppliers.Store {
		cfg := suppliers.DBConfig{Host: d.Host, Port: d.Port, User: user, Password: password, Name: d.Name}
		db, err := suppliers.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return suppliers.NewStore(db, 0)
	}
	in := suppliers.Input{Name: "Tres Ríos Growers", Address: "4 Calle Real", City: "San José", State: "San José",
		Email: "ventas@tresrios.example.com", Phone: "+506 2222 0100"}
	if _, err := as(customerUser, customerPassword).Create(context.Background(), testActor, in); err == nil {
		t.Fatal("the customer account could insert a supplier")
	}
	if _, err := as(employeeUser, employeePassword).Create(context.Background(), testActor, in); err != nil {
		t.Fatalf("the employee account could not insert a supplier: %v", err)
	}
	if n := countSuppliers(t, d); n != 1 {
		t.Fatalf("want exactly the employee's supplier, have %d", n)
	}
	t.Cleanup(func() {
		admin := d.Open(t)
		for _, u := range []string{customerUser, employeeUser} {
			admin.Exec("DROP USER IF EXISTS '" + u + "'@'%'")
		}
	})
}

func TestBadInvocationsSayWhatIsWrong(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	cases := []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{nil, nil, []string{"usage"}},
		{[]string{"drop-everything"}, nil, []string{`unknown command "drop-everything"`}},
		{[]string{"seed", "-n", "-5"}, nil, []string{"-n must be"}},
		{[]string{"migrate"}, map[string]string{}, []string{"APP_DB_HOST", "APP_DB_USER", "APP_DB_PASSWORD"}},
		{[]string{"migrate"}, map[string]string{"APP_DB_HOST": "h", "APP_DB_USER": "u", "APP_DB_PASSWORD": "p", "APP_DB_PORT": "99999"}, []string{"APP_DB_PORT"}},
		{[]string{"migrate"}, map[string]string{"APP_DB_HOST": "h", "APP_DB_USER": "u", "APP_DB_PASSWORD": "p", "APP_DB_NAME": "COFFEE; DROP"}, []string{"APP_DB_NAME"}},
	}
	for _, c := range cases {
		err := run(context.Background(), log, c.args, envconfig.FromMap(c.env))
		if err == nil {
			t.Errorf("%v: want an error", c.args)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q should mention %q", c.args, err, w)
			}
		}
	}
}

// testActor is the employee these tests act as.
var testActor = suppliers.Actor{ID: 1, Email: "tester@coffee-suppliers.example"}

// TestMigrateReadsTheTLSSettings: the migration connects as the services
// do, so APP_DB_TLS=verify without a readable CA bundle stops it at once,
// naming the setting, before it touches the database.
func TestMigrateReadsTheTLSSettings(t *testing.T) {
	t.Parallel()
	lookup := envconfig.FromMap(map[string]string{
		"APP_DB_HOST": "127.0.0.1", "APP_DB_PORT": "1", "APP_DB_USER": "root", "APP_DB_PASSWORD": "pw",
		"APP_DB_TLS": "verify", "APP_DB_CA_FILE": t.TempDir() + "/no-bundle.pem",
	})
	err := run(t.Context(), slog.New(slog.DiscardHandler), []string{"migrate"}, lookup)
	if err == nil || !strings.Contains(err.Error(), "APP_DB_CA_FILE") || !strings.Contains(err.Error(), "no-bundle.pem") {
		t.Errorf("migrate with APP_DB_TLS=verify and no bundle = %v, want a configuration error naming APP_DB_CA_FILE", err)
	}
}

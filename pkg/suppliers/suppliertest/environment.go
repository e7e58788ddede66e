package suppliertest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// Environment is a new environment before its first migration, as a first
// deploy finds it: the database exists (RDS creates it) but holds no
// tables, and the services' accounts do not exist yet. Migrate does what
// the migration step (suppliersdb migrate) does; Customer and Employee are
// the services' database settings, usable before and after.
type Environment struct {
	DB       DB
	Customer DB // the customer service's account, once Migrate has run
	Employee DB // the employee service's account, once Migrate has run
	admin    *sql.DB
}

// NewEnvironment creates the database; accounts made by Migrate are dropped
// when t ends.
func NewEnvironment(t testing.TB) *Environment {
	t.Helper()
	d := NewDatabase(t)
	suffix := strings.ToLower(rand.Text()[:10])
	password := rand.Text()
	customer, employee := d, d
	customer.User, customer.Password = "cust_"+suffix, password
	employee.User, employee.Password = "emp_"+suffix, password
	env := &Environment{DB: d, Customer: customer, Employee: employee, admin: d.Open(t)}
	// Accounts are server-wide. Registered after Open, so this runs
	// before the admin pool closes (cleanups run last-in first-out).
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, user := range []string{customer.User, employee.User} {
			if _, err := env.admin.ExecContext(ctx, fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", user)); err != nil {
				t.Errorf("suppliertest: drop user %s: %v", user, err)
			}
		}
	})
	return env
}

// Migrate applies the schema and creates the services' accounts, with the
// rights production gives them (suppliers.EnsureAccounts).
func (e *Environment) Migrate(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := suppliers.Migrate(ctx, e.admin); err != nil {
		t.Fatalf("suppliertest: migrate: %v", err)
	}
	if err := suppliers.EnsureAccounts(ctx, e.admin, e.DB.Name,
		suppliers.Account{User: e.Customer.User, Password: e.Customer.Password},
		suppliers.Account{User: e.Employee.User, Password: e.Employee.Password}); err != nil {
		t.Fatalf("suppliertest: service accounts: %v", err)
	}
}

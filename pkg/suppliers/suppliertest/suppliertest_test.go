package suppliertest_test

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
)

func errNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

func schemaExists(t *testing.T, admin *sql.DB, name string) bool {
	t.Helper()
	var n int
	if err := admin.QueryRowContext(context.Background(),
		"SELECT COUNT(*) FROM information_schema.schemata WHERE SCHEMA_NAME = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestNewDatabase(t *testing.T) {
	outer := suppliertest.NewDatabase(t)
	admin := outer.Open(t)

	var inner suppliertest.DB
	t.Run("inner", func(t *testing.T) {
		inner = suppliertest.NewDatabase(t)
		if inner.Name == outer.Name {
			t.Fatalf("two databases share the name %q", inner.Name)
		}
		if !regexp.MustCompile(`^test_[a-z0-9_]+$`).MatchString(inner.Name) || len(inner.Name) > 64 {
			t.Errorf("name %q is not a plain identifier of at most 64 characters", inner.Name)
		}
		db := inner.Open(t)
		if _, err := db.ExecContext(t.Context(), "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL)"); err != nil {
			t.Fatalf("create table: %v", err)
		}
		var current string
		if err := db.QueryRowContext(t.Context(), "SELECT DATABASE()").Scan(&current); err != nil || current != inner.Name {
			t.Errorf("DATABASE() = %q, %v; want %q", current, err, inner.Name)
		}
		if !schemaExists(t, admin, inner.Name) {
			t.Errorf("database %s not visible to other connections", inner.Name)
		}
	})
	if schemaExists(t, admin, inner.Name) {
		t.Errorf("database %s still exists after its test ended", inner.Name)
	}
}

// TestDSN checks tests connect as the services do: through the services'
// own driver settings, with awkward password characters intact.
func TestDSN(t *testing.T) {
	d := suppliertest.DB{Host: "127.0.0.1", Port: 3306, Name: "test_x", User: "u", Password: "p@ss:word/?"}
	c, err := mysql.ParseDSN(d.DSN())
	if err != nil {
		t.Fatalf("DSN %q does not parse: %v", d.DSN(), err)
	}
	if !c.ParseTime || c.DBName != "test_x" || c.Addr != "127.0.0.1:3306" || c.User != "u" || c.Passwd != "p@ss:word/?" {
		t.Fatalf("got %+v", c)
	}
	prod, err := d.Config().DriverConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.Params["charset"] != prod.Params["charset"] || c.Timeout != prod.Timeout || c.ReadTimeout < prod.ReadTimeout {
		t.Fatalf("tests must connect like production (bar longer read timeouts): %+v vs %+v", c, prod)
	}
}

func TestCreateUser(t *testing.T) {
	// Parallel subtests share the server, as tests across packages do.
	for _, user := range []string{"st_customer_a", "st_customer_b", "st_customer_c"} {
		t.Run(user, func(t *testing.T) {
			t.Parallel()
			d := suppliertest.NewDatabase(t)
			admin := d.Open(t)
			if _, err := admin.ExecContext(t.Context(), "CREATE TABLE suppliers (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL)"); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.ExecContext(t.Context(), "INSERT INTO suppliers (name) VALUES (?)", "Acme"); err != nil {
				t.Fatal(err)
			}

			var cust suppliertest.DB
			t.Run("grants", func(t *testing.T) {
				cust = d.CreateUser(t, user, "pw-"+user, "SELECT ON %s.suppliers")
				if cust.User != user || cust.Name != d.Name {
					t.Fatalf("CreateUser returned %+v", cust)
				}
				db := cust.Open(t)
				var n int
				if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM suppliers").Scan(&n); err != nil || n != 1 {
					t.Errorf("granted SELECT: n=%d err=%v", n, err)
				}
				_, err := db.ExecContext(t.Context(), "INSERT INTO suppliers (name) VALUES (?)", "x")
				if errNumber(err) != 1142 {
					t.Errorf("ungranted INSERT: err = %v, want 1142", err)
				}
			})

			// The account is dropped with the subtest that created it.
			db, err := sql.Open("mysql", cust.DSN())
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.PingContext(t.Context()); errNumber(err) != 1045 {
				t.Errorf("login after cleanup: err = %v, want 1045", err)
			}
		})
	}
}

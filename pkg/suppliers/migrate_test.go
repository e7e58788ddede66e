package suppliers

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		want []string
	}{
		{"empty", "", nil},
		{"only comments", "-- nothing here\n  -- indented comment\n\n", nil},
		{"one statement", "CREATE TABLE t (id INT);\n", []string{"CREATE TABLE t (id INT)"}},
		{"two statements and comments",
			"-- first\nCREATE TABLE a (\n  id INT\n);\n\n-- second\nCREATE TABLE b (id INT);\n",
			[]string{"CREATE TABLE a (\n  id INT\n)", "CREATE TABLE b (id INT)"}},
		{"semicolon inside a line stays", "INSERT INTO t VALUES (';'), ('x');\n", []string{"INSERT INTO t VALUES (';'), ('x')"}},
		{"last statement without semicolon", "SELECT 1;\nSELECT 2\n", []string{"SELECT 1", "SELECT 2"}},
		{"trailing spaces after semicolon", "SELECT 1;   \nSELECT 2;\t\n", []string{"SELECT 1", "SELECT 2"}},
		{"CRLF line endings", "SELECT 1;\r\nSELECT 2;\r\n", []string{"SELECT 1", "SELECT 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := splitStatements(tc.body); !slices.Equal(got, tc.want) {
				t.Errorf("splitStatements(%q) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}

func TestMigrationsAreOrderedAndWellFormed(t *testing.T) {
	t.Parallel()
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 2 {
		t.Fatalf("got %d migrations, want at least the two that create the table and add version", len(ms))
	}
	name := regexp.MustCompile(`^[a-z0-9_]+$`)
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %d has version %d: versions must run 1, 2, 3… without gaps", i, m.Version)
		}
		if !name.MatchString(m.Name) {
			t.Errorf("migration %04d name %q", m.Version, m.Name)
		}
		if len(m.Statements) == 0 {
			t.Errorf("migration %04d_%s has no statements", m.Version, m.Name)
		}
		for _, s := range m.Statements {
			if strings.HasSuffix(s, ";") || strings.Contains(s, "\n--") || strings.HasPrefix(s, "--") || strings.TrimSpace(s) != s {
				t.Errorf("migration %04d statement %q: want one trimmed statement without comments or semicolon", m.Version, s)
			}
		}
	}
	if ms[0].Name != "create_suppliers" || !strings.Contains(ms[0].Statements[0], "CREATE TABLE IF NOT EXISTS suppliers") {
		t.Errorf("first migration = %04d_%s %q, want the suppliers table", ms[0].Version, ms[0].Name, ms[0].Statements)
	}
	all := fmt.Sprint(ms)
	if !strings.Contains(all, "ADD COLUMN version") {
		t.Error("no migration adds the version column optimistic concurrency needs")
	}
}

func TestAccountPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"abcdefghijkl", true}, // 12
		{"Tr0ub4dor&3!xyz#~", true},
		{"abcdefghijk", false}, // 11
		{"", false},
		{"abcdef'ghijkl", false},
		{`abcdef"ghijkl`, false},
		{`abcdef\ghijkl`, false},
		{"abcdef ghijkl", false},
		{"abcdef\tghijkl", false},
		{"abcdefghijklé", false},
		{"abcdefghijkl\x00", false},
	} {
		if err := accountPassword(tc.pw); (err == nil) != tc.ok {
			t.Errorf("accountPassword(%q) = %v, want ok=%v", tc.pw, err, tc.ok)
		}
	}
}

func TestEnsureAccountsRefusesBadPasswordsWithoutQuotingThem(t *testing.T) {
	t.Parallel()
	const secret = "short'pw"
	// The password check runs before any statement, so no database is needed.
	err := EnsureAccounts(context.Background(), nil, "COFFEE",
		Account{User: "coffee_customer", Password: secret}, Account{User: "coffee_employee", Password: "employee-password-1"})
	if err == nil {
		t.Fatal("EnsureAccounts accepted a short password with a quote")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q quotes the password", err)
	}
	if !strings.Contains(err.Error(), "coffee_customer") {
		t.Errorf("error %q should name the account", err)
	}
}

package suppliers

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered schema change from the migrations folder.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q: name must look like 0001_what_it_does.sql", e.Name())
		}
		version, _ := strconv.Atoi(m[1])
		body, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: version, Name: m[2], Statements: splitStatements(string(body))})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	return out, nil
}

// splitStatements cuts a migration file at semicolons that end a line and
// drops "--" comment lines; the driver runs one statement per call.
func splitStatements(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// migrationLock serialises concurrent migration runs (two pipelines, or a
// retry racing the first attempt) on the server, not in any one process.
const migrationLock = "coffee_suppliers_migrations"

// Migrate applies every migration not yet recorded in schema_migrations and
// returns the versions it applied. MySQL commits DDL implicitly, so each
// migration is recorded right after its statements succeed; a failure stops
// the run and is returned, so the next run resumes at the failed migration.
func Migrate(ctx context.Context, db *sql.DB) ([]int, error) {
	migrations, err := Migrations()
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close()

	var locked sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 60)", migrationLock).Scan(&locked); err != nil {
		return nil, fmt.Errorf("migrate: take lock: %w", err)
	}
	if locked.Int64 != 1 {
		return nil, errors.New("migrate: another migration has held the lock for 60s; try again when it ends")
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(?)", migrationLock) //nolint:errcheck // released with the connection anyway

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INT NOT NULL PRIMARY KEY,
		name VARCHAR(255) NOT NULL,
		applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}

	var done []int
	for _, m := range migrations {
		if applied[m.Version] {
			continue
		}
		for i, stmt := range m.Statements {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return done, fmt.Errorf("migrate: %04d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", m.Version, m.Name); err != nil {
			return done, fmt.Errorf("migrate: record %04d_%s: %w", m.Version, m.Name, err)
		}
		done = append(done, m.Version)
	}
	return done, nil
}

// Account is a database login for one service.
type Account struct {
	User     string
	Password string
}

// accountPassword rejects the characters that would need escaping inside a
// SQL string literal (CREATE USER takes no placeholders), so no password can
// change the statement's meaning whatever the server's sql_mode.
func accountPassword(pw string) error {
	if len(pw) < 12 {
		return errors.New("must be at least 12 characters")
	}
	for _, r := range pw {
		if r < 0x21 || r > 0x7e || r == '\'' || r == '"' || r == '\\' {
			return errors.New(`may hold printable ASCII except quotes and backslash (exclude '"\ when generating it)`)
		}
	}
	return nil
}

// CustomerGrants and EmployeeGrants are the rights of each service's
// account on database dbName, as GRANT takes them ("SELECT ON `db`.`t`"):
// the least privilege each needs. The customer service may only read
// suppliers; the employee service may change suppliers, append to (never
// rewrite) their audit trail, manage accounts, ended sessions, sign-in
// throttling and one-time form tokens, but not change the schema. Only the
// migration step holds DDL rights. Tests give their accounts the same.
func CustomerGrants(dbName string) []string {
	return []string{"SELECT ON " + qualified(dbName, "suppliers")}
}

// EmployeeGrants: see CustomerGrants.
func EmployeeGrants(dbName string) []string {
	on := func(table string) string { return qualified(dbName, table) }
	return []string{
		"SELECT, INSERT, UPDATE, DELETE ON " + on("suppliers"),
		"SELECT, INSERT ON " + on("supplier_audit"),
		"SELECT, INSERT, UPDATE ON " + on("employees"),
		"SELECT, INSERT, UPDATE, DELETE ON " + on("login_throttle"),
		"SELECT, INSERT, DELETE ON " + on("ended_sessions"),
		"SELECT, INSERT, DELETE ON " + on("form_tokens"),
	}
}

// qualified is table of database dbName, quoted for a statement.
func qualified(dbName, table string) string { return fmt.Sprintf("`%s`.`%s`", dbName, table) }

// EnsureAccounts creates or updates the per-service logins, each with its
// grants (CustomerGrants, EmployeeGrants).
func EnsureAccounts(ctx context.Context, db *sql.DB, dbName string, customer, employee Account) error {
	accounts := []struct {
		account Account
		grants  []string
	}{
		{customer, CustomerGrants(dbName)},
		{employee, EmployeeGrants(dbName)},
	}
	for _, a := range accounts {
		if err := accountPassword(a.account.Password); err != nil {
			return fmt.Errorf("account %s: password %w", a.account.User, err)
		}
		user := fmt.Sprintf("'%s'@'%%'", a.account.User)
		statements := []string{
			fmt.Sprintf("CREATE USER IF NOT EXISTS %s IDENTIFIED BY '%s'", user, a.account.Password),
			// ALTER as well, so re-running the step rotates a changed secret.
			fmt.Sprintf("ALTER USER %s IDENTIFIED BY '%s'", user, a.account.Password),
		}
		for _, g := range a.grants {
			statements = append(statements, fmt.Sprintf("GRANT %s TO %s", g, user))
		}
		for _, stmt := range statements {
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				// The statement holds the password and a syntax error would
				// quote it: name the step and scrub the server's message.
				verb := strings.Join(strings.Fields(stmt)[:2], " ")
				return fmt.Errorf("account %s: %s: %s", a.account.User, verb,
					strings.ReplaceAll(err.Error(), a.account.Password, "(password)"))
			}
		}
	}
	return nil
}

package suppliers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// ErrEmployeeExists is returned when an account with that email exists.
var ErrEmployeeExists = errors.New("an employee account with this email already exists")

// Employee is a sign-in account for the administration area. PasswordHash
// is an argon2id PHC string, never a password.
type Employee struct {
	ID           int64
	Email        string
	PasswordHash string
}

// normalEmail is how account emails are stored and looked up: trimmed and
// lower-cased, so "Ana@Example.com" and "ana@example.com" are one account.
func normalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// EmployeeByEmail returns the account with that email, or ErrNotFound.
func (st *Store) EmployeeByEmail(ctx context.Context, email string) (Employee, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	var e Employee
	err := st.db.QueryRowContext(ctx, "SELECT id, email, password_hash FROM employees WHERE email = ?", normalEmail(email)).
		Scan(&e.ID, &e.Email, &e.PasswordHash)
	if errors.Is(err, sql.ErrNoRows) {
		return Employee{}, fmt.Errorf("employee account: %w", ErrNotFound)
	}
	if err != nil {
		return Employee{}, classify("look up employee account", err)
	}
	return e, nil
}

// CreateEmployee adds an account, or returns ErrEmployeeExists.
func (st *Store) CreateEmployee(ctx context.Context, email, passwordHash string) (Employee, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	email = normalEmail(email)
	if !validEmail(email) {
		return Employee{}, FieldErrors{"email": "Enter an email address like ana@example.com."}
	}
	res, err := st.db.ExecContext(ctx, "INSERT INTO employees (email, password_hash) VALUES (?, ?)", email, passwordHash)
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) && myErr.Number == 1062 {
		return Employee{}, fmt.Errorf("create employee account %s: %w", email, ErrEmployeeExists)
	}
	if err != nil {
		return Employee{}, classify("create employee account", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Employee{}, fmt.Errorf("create employee account: read new id: %w", err)
	}
	return Employee{ID: id, Email: email, PasswordHash: passwordHash}, nil
}

// SetEmployeePassword replaces an account's password hash, or returns
// ErrNotFound.
func (st *Store) SetEmployeePassword(ctx context.Context, email, passwordHash string) error {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	email = normalEmail(email)
	res, err := st.db.ExecContext(ctx, "UPDATE employees SET password_hash = ? WHERE email = ?", passwordHash, email)
	if err != nil {
		return classify("reset employee password", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("reset employee password: rows affected: %w", err)
	} else if n == 0 {
		// Zero rows also when the hash is unchanged: tell the two apart.
		if _, err := st.EmployeeByEmail(ctx, email); err != nil {
			return err
		}
	}
	return nil
}

// CountEmployees returns how many accounts exist, to decide whether the
// first administrator must be created.
func (st *Store) CountEmployees(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	var n int
	if err := st.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM employees").Scan(&n); err != nil {
		return 0, classify("count employee accounts", err)
	}
	return n, nil
}

// RecordLoginFailure counts a failed sign-in for key at now and returns the
// key's failures so far. The count restarts when the previous failure is
// older than window. One statement does the counting, so replicas racing on
// the same key never lose a failure.
func (st *Store) RecordLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	now = now.UTC().Truncate(time.Second)
	var failures int
	err := st.inTx(ctx, "record failed sign-in", func(tx *sql.Tx) error {
		// failures is assigned before last_failure_at, so its IF still
		// sees the previous failure's time.
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO login_throttle (throttle_key, failures, last_failure_at) VALUES (?, 1, ?)
			 ON DUPLICATE KEY UPDATE failures = IF(last_failure_at < ?, 1, failures + 1), last_failure_at = ?`,
			key, now, now.Add(-window), now); err != nil {
			return classify("record failed sign-in", err)
		}
		if err := tx.QueryRowContext(ctx, "SELECT failures FROM login_throttle WHERE throttle_key = ?", key).Scan(&failures); err != nil {
			return classify("record failed sign-in", err)
		}
		return nil
	})
	return failures, err
}

// LoginFailures returns key's failures within window before now, and when
// the last one happened; zero values when there are none.
func (st *Store) LoginFailures(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	var failures int
	var last time.Time
	err := st.db.QueryRowContext(ctx, "SELECT failures, last_failure_at FROM login_throttle WHERE throttle_key = ?", key).
		Scan(&failures, &last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, time.Time{}, nil
	case err != nil:
		return 0, time.Time{}, classify("read failed sign-ins", err)
	case last.Before(now.UTC().Add(-window)):
		return 0, time.Time{}, nil
	}
	return failures, last, nil
}

// ClearLoginFailures forgets key's failures, after a successful sign-in.
func (st *Store) ClearLoginFailures(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	if _, err := st.db.ExecContext(ctx, "DELETE FROM login_throttle WHERE throttle_key = ?", key); err != nil {
		return classify("clear failed sign-ins", err)
	}
	return nil
}

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
// is an argon2id PHC string, never a password. SessionGeneration is raised
// to end every session the employee has open.
type Employee struct {
	ID                int64
	Email             string
	PasswordHash      string
	SessionGeneration int64
}

// normalEmail is how account emails are stored and looked up: ASCII spaces
// trimmed and ASCII letters lower-cased, so "Ana@Example.com " and
// "ana@example.com" are one account. Nothing else is folded (the employee
// service's auth.NormalizeEmail applies the same rule).
func normalEmail(email string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, strings.Trim(email, " \t\r\n"))
}

// EmployeeByEmail returns the account with exactly that email (once
// normalised), or ErrNotFound. The column's collation compares ignoring
// accents and trailing spaces, so äna@example.com would find
// ana@example.com: the index finds the candidate, and Go compares it
// exactly, the same on MySQL, MariaDB and the in-process engine.
func (st *Store) EmployeeByEmail(ctx context.Context, email string) (Employee, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	email = normalEmail(email)
	var e Employee
	err := st.db.QueryRowContext(ctx, "SELECT id, email, password_hash, session_generation FROM employees WHERE email = ?", email).
		Scan(&e.ID, &e.Email, &e.PasswordHash, &e.SessionGeneration)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && e.Email != email) {
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

// SetEmployeePassword replaces an account's password hash and ends every
// session it has open (a reset is often for a password someone else
// learnt), or returns ErrNotFound.
func (st *Store) SetEmployeePassword(ctx context.Context, email, passwordHash string) error {
	e, err := st.EmployeeByEmail(ctx, email)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	if _, err := st.db.ExecContext(ctx,
		"UPDATE employees SET password_hash = ?, session_generation = session_generation + 1 WHERE id = ?",
		passwordHash, e.ID); err != nil {
		return classify("reset employee password", err)
	}
	return nil
}

// UpgradePasswordHash replaces an account's hash after a successful sign-in
// with one of older parameters, unless the password was reset meanwhile.
// Sessions stay open: the password is the same.
func (st *Store) UpgradePasswordHash(ctx context.Context, id int64, oldHash, newHash string) error {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	if _, err := st.db.ExecContext(ctx, "UPDATE employees SET password_hash = ? WHERE id = ? AND password_hash = ?",
		newHash, id, oldHash); err != nil {
		return classify("upgrade employee password hash", err)
	}
	return nil
}

// EndSession ends one signed-in session, named by its id (a hash that
// cannot be turned back into the cookie), for good: it is remembered until
// until, when the session would have expired anyway, then purged.
func (st *Store) EndSession(ctx context.Context, sessionID string, until time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	_, err := st.db.ExecContext(ctx, "INSERT INTO ended_sessions (session_id, ends_at) VALUES (?, ?)",
		sessionID, until.UTC().Truncate(time.Second).Add(time.Second))
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) && myErr.Number == 1062 {
		err = nil // ended already (signed out twice, on two replicas at once)
	}
	if err != nil {
		return classify("end session", err)
	}
	// Committed: a failed purge is not the sign-out's, and the next one
	// purges again.
	_, _ = st.db.ExecContext(ctx, "DELETE FROM ended_sessions WHERE ends_at < ? LIMIT 100", time.Now().UTC())
	return nil
}

// SessionValid reports whether a signed-in session may go on: its
// employee still exists at the session's generation, and the session has
// not been ended. One query, whatever the answer.
func (st *Store) SessionValid(ctx context.Context, employeeID, generation int64, sessionID string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	var current int64
	var ended int
	err := st.db.QueryRowContext(ctx,
		"SELECT session_generation, (SELECT COUNT(*) FROM ended_sessions WHERE session_id = ?) FROM employees WHERE id = ?",
		sessionID, employeeID).Scan(&current, &ended)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // the account is gone
	}
	if err != nil {
		return false, classify("check session", err)
	}
	return current == generation && ended == 0, nil
}

// EndSessions raises the employee's session generation, so every session
// they have open is refused, and returns the new generation.
func (st *Store) EndSessions(ctx context.Context, id int64) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	var generation int64
	err := st.inTx(ctx, "end sessions", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE employees SET session_generation = session_generation + 1 WHERE id = ?", id); err != nil {
			return classify("end sessions", err)
		}
		err := tx.QueryRowContext(ctx, "SELECT session_generation FROM employees WHERE id = ?", id).Scan(&generation)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("employee account %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return classify("end sessions", err)
		}
		return nil
	})
	return generation, err
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

// LoginAttempt is what CountLoginAttempt found for a key: the failures
// before this attempt within the window, when the last of them happened
// (zero when none), and whether this attempt was counted.
type LoginAttempt struct {
	Failures int
	Last     time.Time
	Counted  bool
}

// CountLoginAttempt counts a sign-in attempt as a failure under key before
// its password is checked, unless key already has refuseAfter failures
// within window (zero: no limit); a successful sign-in then takes it back
// (ForgetLoginAttempt, ClearLoginFailures). Counting first, under the
// row's lock, means simultaneous attempts each see the ones before them:
// forty at once cannot all be checked against a limit of ten. A refused
// attempt is not counted, so the window ends 15 minutes after the last
// checked failure.
func (st *Store) CountLoginAttempt(ctx context.Context, key string, now time.Time, window time.Duration, refuseAfter int) (LoginAttempt, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	now = now.UTC().Truncate(time.Second)
	var a LoginAttempt
	err := st.inTx(ctx, "count sign-in attempt", func(tx *sql.Tx) error {
		// Insert or lock the key's row: concurrent attempts queue here
		// (an exclusive lock on MySQL and MariaDB, the only transaction
		// at a time on the in-process engine).
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO login_throttle (throttle_key, failures, last_failure_at) VALUES (?, 0, ?)
			 ON DUPLICATE KEY UPDATE failures = failures`, key, now); err != nil {
			return classify("count sign-in attempt", err)
		}
		if err := tx.QueryRowContext(ctx, "SELECT failures, last_failure_at FROM login_throttle WHERE throttle_key = ?", key).
			Scan(&a.Failures, &a.Last); err != nil {
			return classify("count sign-in attempt", err)
		}
		if a.Failures <= 0 || !a.Last.After(now.Add(-window)) {
			a.Failures, a.Last = 0, time.Time{}
		}
		if refuseAfter > 0 && a.Failures >= refuseAfter {
			return nil
		}
		a.Counted = true
		if _, err := tx.ExecContext(ctx, "UPDATE login_throttle SET failures = ?, last_failure_at = ? WHERE throttle_key = ?",
			a.Failures+1, now, key); err != nil {
			return classify("count sign-in attempt", err)
		}
		return nil
	})
	return a, err
}

// ForgetLoginAttempt takes back one attempt counted under key: it
// succeeded, or was turned away before its password was checked.
func (st *Store) ForgetLoginAttempt(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	if _, err := st.db.ExecContext(ctx, "UPDATE login_throttle SET failures = failures - 1 WHERE throttle_key = ? AND failures > 0", key); err != nil {
		return classify("take back sign-in attempt", err)
	}
	return nil
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
	case !last.After(now.UTC().Add(-window)):
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

// ClearLoginFailuresWithPrefix forgets the failures of every key that
// begins with prefix: an account's from every address, for an unlock.
func (st *Store) ClearLoginFailuresWithPrefix(ctx context.Context, prefix string) error {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	if _, err := st.db.ExecContext(ctx, `DELETE FROM login_throttle WHERE throttle_key LIKE ? ESCAPE '\\'`,
		escapeLike(prefix)+"%"); err != nil {
		return classify("clear failed sign-ins", err)
	}
	return nil
}

package suppliers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/go-sql-driver/mysql"
)

var (
	// ErrNotFound means no supplier has the requested id.
	ErrNotFound = errors.New("supplier not found")
	// ErrConflict is matched by *ConflictError with errors.Is.
	ErrConflict = errors.New("supplier was changed by someone else")
	// ErrUnavailable wraps failures to reach the database in time, which
	// callers show as "try again shortly" (503) rather than as a bug (500).
	ErrUnavailable = errors.New("supplier database unavailable")
)

// ConflictError is returned when an edit or delete names a version that is no
// longer current. Current holds what the database has now.
type ConflictError struct {
	Current Supplier
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("supplier %d: %v (now at version %d)", e.Current.ID, ErrConflict, e.Current.Version)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// DefaultQueryTimeout bounds every store call so that a database outage turns
// into a prompt 503 instead of a hanging request.
const DefaultQueryTimeout = 1500 * time.Millisecond

// Store reads and writes suppliers. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	timeout time.Duration
}

// NewStore wraps an open pool. A zero timeout means DefaultQueryTimeout.
func NewStore(db *sql.DB, timeout time.Duration) *Store {
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	return &Store{db: db, timeout: timeout}
}

const supplierColumns = "id, name, address, city, state, email, phone, version"

func scanSupplier(row interface{ Scan(...any) error }) (Supplier, error) {
	var s Supplier
	err := row.Scan(&s.ID, &s.Name, &s.Address, &s.City, &s.State, &s.Email, &s.Phone, &s.Version)
	return s, err
}

// List returns one page of suppliers ordered by name, filtered by q.Search
// (a case-insensitive substring of name or city).
func (st *Store) List(ctx context.Context, q Query) (List, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	if q.Page < 1 {
		q.Page = 1
	}
	if q.PerPage < 1 || q.PerPage > MaxPerPage {
		q.PerPage = DefaultPerPage
	}
	list := List{Items: []Supplier{}, Search: q.Search, Page: q.Page, PerPage: q.PerPage}

	where, args := "", []any{}
	if q.Search != "" {
		pattern := "%" + escapeLike(q.Search) + "%"
		where = ` WHERE name LIKE ? ESCAPE '\\' OR city LIKE ? ESCAPE '\\'`
		args = append(args, pattern, pattern)
	}
	if err := st.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM suppliers"+where, args...).Scan(&list.Total); err != nil {
		return list, classify("count suppliers", err)
	}
	if list.Total == 0 || q.offset() >= list.Total {
		return list, nil
	}
	rows, err := st.db.QueryContext(ctx,
		"SELECT "+supplierColumns+" FROM suppliers"+where+" ORDER BY name, id LIMIT ? OFFSET ?",
		append(args, q.PerPage, q.offset())...)
	if err != nil {
		return list, classify("list suppliers", err)
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scanSupplier(rows)
		if err != nil {
			return list, classify("scan supplier", err)
		}
		list.Items = append(list.Items, s)
	}
	if err := rows.Err(); err != nil {
		return list, classify("list suppliers", err)
	}
	return list, nil
}

// Get returns the supplier with the given id, or ErrNotFound.
func (st *Store) Get(ctx context.Context, id int64) (Supplier, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	return get(ctx, st.db, id)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func get(ctx context.Context, q queryer, id int64) (Supplier, error) {
	s, err := scanSupplier(q.QueryRowContext(ctx, "SELECT "+supplierColumns+" FROM suppliers WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Supplier{}, fmt.Errorf("supplier %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Supplier{}, classify(fmt.Sprintf("get supplier %d", id), err)
	}
	return s, nil
}

// NotReadyError says why the store cannot serve yet: which of the things
// the migration step creates (the account, the database, the tables) is
// missing, or that the database does not answer. Reason is the same for
// every attempt that fails the same way, so a caller can log it once and
// again only when it changes; Err is the driver's error, classified.
type NotReadyError struct {
	Reason string
	Err    error
}

func (e *NotReadyError) Error() string { return e.Reason + ": " + e.Err.Error() }

func (e *NotReadyError) Unwrap() error { return e.Err }

// Ready reports whether the store can serve, for readiness checks: the
// database answers, the account may sign in and read the suppliers table,
// and the table has the columns this code reads. A ping is not enough: in
// a new environment the services start before the migration has created
// their accounts and tables. The query reads no row, and is bounded by the
// store's timeout.
func (st *Store) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	rows, err := st.db.QueryContext(ctx, "SELECT "+supplierColumns+" FROM suppliers LIMIT 0")
	if err == nil {
		err = errors.Join(rows.Err(), rows.Close())
	}
	if err != nil {
		return &NotReadyError{Reason: notReadyReason(err), Err: classify("readiness query", err)}
	}
	return nil
}

// notReadyReason names what is missing, by MySQL's error numbers, in words
// an operator can act on.
func notReadyReason(err error) string {
	var myErr *mysql.MySQLError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &certErr), errors.As(err, &hostErr):
		return "the database's TLS certificate does not verify against APP_DB_CA_FILE (a wrong bundle, or a host name the certificate does not name)"
	case errors.Is(err, mysql.ErrNoTLS):
		return "APP_DB_TLS=verify, but the database does not offer TLS"
	case errors.As(err, &myErr):
		switch myErr.Number {
		case 1045: // access denied; MariaDB also answers this to plain text when it requires TLS
			return "the database refused the account: not created yet (has the migration run?), a wrong password, " +
				"or a server that requires TLS (set APP_DB_TLS=verify)"
		case 3159: // MySQL: insecure transport prohibited
			return "the database requires TLS: set APP_DB_TLS=verify"
		case 1044, 1142: // no rights on the database, or on the table
			return "the account has no rights on the suppliers table yet (has the migration run?)"
		case 1049: // unknown database
			return "the database does not exist yet (has the migration run?)"
		case 1146: // no such table
			return "the suppliers table does not exist yet (has the migration run?)"
		case 1054: // unknown column
			return "the suppliers table lacks columns this release reads: run this release's migration"
		}
	}
	if isUnavailable(err) {
		return "the database does not answer"
	}
	return "the readiness query failed"
}

// classify wraps err with what was being done, marking connection failures
// and timeouts as ErrUnavailable.
func classify(doing string, err error) error {
	if isUnavailable(err) {
		return fmt.Errorf("%s: %w: %w", doing, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

func isUnavailable(err error) bool {
	var netErr net.Error
	var myErr *mysql.MySQLError
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, mysql.ErrInvalidConn),
		errors.As(err, &netErr):
		return true
	case errors.As(err, &myErr):
		// Too many connections, server shutting down, lost connection,
		// read-only or lock wait timeout: all pass when the server recovers.
		switch myErr.Number {
		case 1040, 1053, 1205, 1290, 2006, 2013:
			return true
		}
	}
	return false
}

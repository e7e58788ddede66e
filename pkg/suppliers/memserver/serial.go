package memserver

import (
	"context"
	"regexp"
	"sync"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
)

// serialHandler makes the memory engine safe for concurrent clients (and
// translates error numbers, see mysqlError).
//
// go-mysql-server's memory tables are not thread-safe (concurrent statements
// race on shared row and index slices, and version-checked UPDATEs lose
// writes), and a memory session's transaction commits by writing back whole
// tables. So only one connection may use the engine at a time: it holds a
// single token for one statement, or from a statement that leaves a
// transaction open until the COMMIT/ROLLBACK that ends it. This makes every
// statement atomic and transactions serializable, at the cost of
// parallelism nobody needs in tests or on a laptop.
//
// A connection that cannot get the token within the wait gets MySQL error
// 1205 (lock wait timeout), as it would waiting on InnoDB row locks. Unlike
// InnoDB, plain reads wait too: there is no MVCC.
type serialHandler struct {
	mysql.Handler

	token chan struct{} // capacity 1: holding it means using the engine
	wait  time.Duration

	mu    sync.Mutex
	owner *mysql.Conn // connection holding the token, nil when free
}

func newSerialHandler(h mysql.Handler, wait time.Duration) *serialHandler {
	return &serialHandler{Handler: h, token: make(chan struct{}, 1), wait: wait}
}

// lockFunc matches statements that only call named-lock functions. They run
// without the token: GET_LOCK may wait for a long time, and the holder of the
// named lock needs the engine to finish its work and call RELEASE_LOCK. The
// lock subsystem has its own locking and these statements read no tables:
// the arguments may not contain parentheses, so no subquery slips through.
var lockFunc = regexp.MustCompile(`(?is)^\s*(SELECT|DO)\s+(GET_LOCK|RELEASE_LOCK|RELEASE_ALL_LOCKS|IS_FREE_LOCK|IS_USED_LOCK)\s*\([^;()]*\)(\s+AS\s+\w+)?\s*;?\s*$`)

func (h *serialHandler) enter(ctx context.Context, c *mysql.Conn, query string) (func(), error) {
	h.mu.Lock()
	held := h.owner == c
	h.mu.Unlock()
	if held {
		return func() { h.leave(c) }, nil
	}
	if lockFunc.MatchString(query) {
		return func() {}, nil
	}

	timer := time.NewTimer(h.wait)
	defer timer.Stop()
	select {
	case h.token <- struct{}{}:
	case <-timer.C:
		return nil, mysql.NewSQLError(mysql.ERLockWaitTimeout, mysql.SSUnknownSQLState,
			"Lock wait timeout exceeded; try restarting transaction (memserver runs one statement or transaction at a time)")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	h.mu.Lock()
	h.owner = c
	h.mu.Unlock()
	return func() { h.leave(c) }, nil
}

// leave keeps the token while c is inside a transaction; the engine sets
// the flag after every statement.
func (h *serialHandler) leave(c *mysql.Conn) {
	if c.StatusFlags&uint16(mysql.ServerInTransaction) != 0 {
		return
	}
	h.release(c)
}

func (h *serialHandler) release(c *mysql.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.owner == c {
		h.owner = nil
		<-h.token
	}
}

func (h *serialHandler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	done, err := h.enter(ctx, c, query)
	if err != nil {
		return err
	}
	defer done()
	return mysqlError(h.Handler.ComQuery(ctx, c, query, callback))
}

func (h *serialHandler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	done, err := h.enter(ctx, c, query)
	if err != nil {
		return "", err
	}
	defer done()
	rest, err := h.Handler.ComMultiQuery(ctx, c, query, callback)
	return rest, mysqlError(err)
}

func (h *serialHandler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	done, err := h.enter(ctx, c, query)
	if err != nil {
		return nil, err
	}
	defer done()
	fields, err := h.Handler.ComPrepare(ctx, c, query, prepare)
	return fields, mysqlError(err)
}

func (h *serialHandler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, callback func(*sqltypes.Result) error) error {
	done, err := h.enter(ctx, c, prepare.PrepareStmt)
	if err != nil {
		return err
	}
	defer done()
	return mysqlError(h.Handler.ComStmtExecute(ctx, c, prepare, callback))
}

// ComResetConnection replaces the session, discarding any open transaction,
// so the connection no longer needs the token.
func (h *serialHandler) ComResetConnection(c *mysql.Conn) error {
	defer h.release(c)
	defer func() { c.StatusFlags &^= uint16(mysql.ServerInTransaction) }()
	return h.Handler.ComResetConnection(c)
}

// ConnectionClosed drops the session (an open transaction is discarded, as
// in MySQL) and frees the token if this connection held it.
func (h *serialHandler) ConnectionClosed(c *mysql.Conn) {
	defer h.release(c)
	h.Handler.ConnectionClosed(c)
}

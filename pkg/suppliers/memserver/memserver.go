// Package memserver runs an in-process, memory-only MySQL-compatible server
// (github.com/dolthub/go-mysql-server) that clients reach over TCP with the
// ordinary github.com/go-sql-driver/mysql driver, exactly like production
// MySQL/MariaDB.
//
// It exists for the local launcher (so `make run` needs nothing but Go) and
// for tests. Production binaries must never import it: it pulls in a whole SQL
// engine and its semantics differ from MySQL in places (memserver_test.go
// pins down the engine's own behaviour; the store tests in pkg/suppliers,
// which run here and on MariaDB, pin down what the store relies on).
//
// Users and grants are enforced through the engine's "mysql" database, so
// CREATE USER / GRANT / ALTER USER behave like MySQL and a connection lacking a
// privilege gets error 1142 ("command denied"). Authentication uses
// mysql_native_password, which go-sql-driver accepts by default: plain DSNs
// such as "user:pw@tcp(host:port)/db?parseTime=true" work without extra flags.
//
// The memory engine is not safe for concurrent use, so the server runs one
// statement, or one open transaction, at a time (see serialHandler). That
// makes every statement atomic, but a connection that keeps a transaction
// open blocks all others, reads included, for up to
// Options.LockWaitTimeout.
package memserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/sirupsen/logrus"
)

// DefaultAddr binds an ephemeral port on loopback so parallel test binaries
// never collide and nothing is exposed beyond the machine.
const DefaultAddr = "127.0.0.1:0"

// DefaultRootUser is the administrative account name used when
// Options.RootUser is empty.
const DefaultRootUser = "root"

// AuthPlugin is the authentication plugin the server offers by default and
// stores for created users. go-sql-driver/mysql enables it by default
// (allowNativePasswords=true), so DSNs need no extra parameters.
const AuthPlugin = "mysql_native_password"

// Options configures Start.
type Options struct {
	// Addr is the TCP address to listen on. Default DefaultAddr.
	Addr string
	// RootUser is the superuser account (host '%'), allowed to CREATE USER,
	// GRANT and everything else. Default DefaultRootUser.
	RootUser string
	// RootPassword is required: an empty password would make privilege
	// enforcement pointless for anything that can reach the port.
	RootPassword string
	// Logger receives server lifecycle messages. When it is enabled at
	// debug level, the engine's own (logrus) output is forwarded to it too;
	// otherwise that output is discarded because it logs every connection.
	// nil means slog.Default() for lifecycle messages.
	Logger *slog.Logger
	// LockWaitTimeout bounds how long a statement waits while another
	// connection runs a statement or holds a transaction open (the server
	// runs one at a time, see serialHandler); then it fails with error
	// 1205. Default DefaultLockWaitTimeout.
	LockWaitTimeout time.Duration
}

// DefaultLockWaitTimeout is shorter than InnoDB's 50s default so a test that
// reads through a second connection while its own transaction is open (which
// MySQL allows, but this server cannot) fails quickly with error 1205
// instead of hanging.
const DefaultLockWaitTimeout = 10 * time.Second

// Server is a running in-process server. Close it when done.
type Server struct {
	addr   *net.TCPAddr
	logger *slog.Logger
	srv    *server.Server
	engine *sqle.Engine
	ln     *trackingListener

	closeOnce sync.Once
	closeErr  error
	done      chan struct{} // closed when the accept loop has returned
}

// Start listens on opts.Addr and serves in the background until Close.
// It starts with no user databases: callers run CREATE DATABASE themselves.
// ctx only bounds startup (binding the port); it does not stop the server.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.RootPassword == "" {
		return nil, errors.New("memserver: RootPassword is required")
	}
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.RootUser == "" {
		opts.RootUser = DefaultRootUser
	}
	if opts.LockWaitTimeout <= 0 {
		opts.LockWaitTimeout = DefaultLockWaitTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	configureEngineLogging(ctx, opts.Logger)

	var lc net.ListenConfig
	nl, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("memserver: listen on %s: %w", opts.Addr, err)
	}
	ln := newTrackingListener(nl)
	tcpAddr, ok := nl.Addr().(*net.TCPAddr)
	if !ok {
		_ = nl.Close()
		return nil, fmt.Errorf("memserver: unexpected listener address type %T", nl.Addr())
	}

	// Native (primary key) indexes make `WHERE id = ?` a lookup instead of
	// a table scan, which is what the store's queries assume.
	pro := memory.NewDBProvider()
	pro.WithOption(memory.NativeIndexProvider(true))
	engine := sqle.NewDefault(pro)

	// Adding a superuser enables the mysql database, which switches the
	// engine from "accept everyone with all privileges" to real
	// authentication and grant checks.
	mysqlDB := engine.Analyzer.Catalog.MySQLDb
	// Without a persister CREATE USER / GRANT panic (nil pointer) when they
	// save the grant tables; users live in memory like everything else.
	mysqlDB.SetPersister(&mysql_db.NoopPersister{})
	ed := mysqlDB.Editor()
	mysqlDB.AddSuperUser(ed, opts.RootUser, "%", opts.RootPassword)
	ed.Close()

	cfg := server.Config{
		Protocol: "tcp",
		Address:  tcpAddr.String(),
		Listener: ln,
		ProtocolListenerFactory: func(cfg server.Config, lc mysql.ListenerConfig, sel server.ServerEventListener) (server.ProtocolListener, error) {
			lc.AuthServer = unknownUserAuth{lc.AuthServer}
			return server.MySQLProtocolListenerFactory(cfg, lc, sel)
		},
	}
	serialize := func(h mysql.Handler) (mysql.Handler, error) {
		return newSerialHandler(h, opts.LockWaitTimeout), nil
	}
	srv, err := server.NewServerWithHandler(cfg, engine, sql.NewContext, memory.NewSessionBuilder(pro), nil, serialize)
	if err != nil {
		_ = ln.Close()
		_ = engine.Close() // only the expected context.Canceled
		return nil, fmt.Errorf("memserver: create server: %w", err)
	}

	s := &Server{
		addr:   tcpAddr,
		logger: logger,
		srv:    srv,
		engine: engine,
		ln:     ln,
		done:   make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		// Start blocks in the accept loop and always returns nil; it ends
		// when the listener is closed.
		_ = srv.Start()
	}()
	logger.InfoContext(ctx, "memserver: listening", "addr", s.Addr(), "user", opts.RootUser)
	return s, nil
}

// Addr returns the bound address as host:port, e.g. "127.0.0.1:53211".
func (s *Server) Addr() string { return net.JoinHostPort(s.Host(), strconv.Itoa(s.Port())) }

// Host returns the bound IP address, e.g. "127.0.0.1". When listening on
// all interfaces it returns the loopback address, which clients in this
// process can dial (unlike "0.0.0.0" or "::").
func (s *Server) Host() string {
	if s.addr.IP.IsUnspecified() {
		return "127.0.0.1" // Go listens dual-stack on "::", so IPv4 loopback works
	}
	return s.addr.IP.String()
}

// Port returns the bound TCP port.
func (s *Server) Port() int { return s.addr.Port }

// Close stops accepting connections, drops open ones and releases the
// engine; all data is lost. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		// server.Close closes the listener, ending the accept loop.
		var errs []error
		if err := s.srv.Close(); err != nil {
			errs = append(errs, fmt.Errorf("memserver: close listener: %w", err))
		}
		<-s.done
		// The engine would otherwise keep serving already-open connections,
		// so a "stopped" server could still be used by pooled clients.
		s.ln.closeConns()
		// Shutdown reports its own cancellation as context.Canceled.
		if err := s.engine.Close(); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("memserver: close engine: %w", err))
		}
		s.closeErr = errors.Join(errs...)
		s.logger.Info("memserver: stopped", "addr", s.Addr())
	})
	return s.closeErr
}

// DSN returns a go-sql-driver DSN for user on this server, with
// parseTime=true so DATETIME/TIMESTAMP scan into time.Time. database may
// be empty.
func (s *Server) DSN(user, password, database string) string {
	return user + ":" + password + "@tcp(" + s.Addr() + ")/" + database + "?parseTime=true"
}

// configureEngineLogging points go-mysql-server's logrus output at logger
// when it wants debug output and discards it otherwise. logrus is
// process-global, so the last Start wins; that only matters in processes
// running several servers with different loggers, which only tests do.
func configureEngineLogging(ctx context.Context, logger *slog.Logger) {
	std := logrus.StandardLogger()
	std.SetOutput(io.Discard)
	if logger == nil || !logger.Enabled(ctx, slog.LevelDebug) {
		// Nothing is printed either way; a low level spares the engine
		// from formatting per-query debug messages.
		std.SetLevel(logrus.WarnLevel)
		std.ReplaceHooks(make(logrus.LevelHooks))
		return
	}
	std.SetLevel(logrus.DebugLevel)
	hooks := make(logrus.LevelHooks)
	hooks.Add(slogHook{logger: logger})
	std.ReplaceHooks(hooks)
}

// slogHook forwards logrus entries to slog, keeping their level and fields.
type slogHook struct{ logger *slog.Logger }

func (h slogHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h slogHook) Fire(e *logrus.Entry) error {
	level := slog.LevelDebug
	switch {
	case e.Level <= logrus.ErrorLevel:
		level = slog.LevelError
	case e.Level == logrus.WarnLevel:
		level = slog.LevelWarn
	case e.Level == logrus.InfoLevel:
		level = slog.LevelInfo
	}
	attrs := make([]slog.Attr, 0, len(e.Data))
	for k, v := range e.Data {
		attrs = append(attrs, slog.Any(k, v))
	}
	ctx := e.Context
	if ctx == nil {
		ctx = context.Background()
	}
	h.logger.LogAttrs(ctx, level, "gms: "+e.Message, attrs...)
	return nil
}

// trackingListener remembers accepted connections so Close can drop them;
// the engine itself only stops accepting new ones. (Wrapping the conns also
// turns off the engine's per-query socket polling for vanished clients,
// which only Linux supports and nothing here needs.)
type trackingListener struct {
	net.Listener

	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

func newTrackingListener(l net.Listener) *trackingListener {
	return &trackingListener{Listener: l, conns: make(map[*trackedConn]struct{})}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, owner: l}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	l.conns[tc] = struct{}{}
	return tc, nil
}

func (l *trackingListener) closeConns() {
	l.mu.Lock()
	l.closed = true
	conns := l.conns
	l.conns = make(map[*trackedConn]struct{})
	l.mu.Unlock()
	for c := range conns {
		_ = c.Conn.Close()
	}
}

func (l *trackingListener) forget(c *trackedConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

type trackedConn struct {
	net.Conn
	owner     *trackingListener
	closeOnce sync.Once
}

func (c *trackedConn) Close() error {
	c.closeOnce.Do(func() { c.owner.forget(c) })
	return c.Conn.Close()
}

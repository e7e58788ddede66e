// Package stack starts the whole application in one process for a machine
// with nothing but Go: an in-process MySQL-compatible engine, migrated and
// seeded; the customer and employee services, each on its own least-
// privilege database account through the production driver; and the gateway
// with the load balancer's rules in front of them.
package stack

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/local/gateway"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/memserver"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	customer "github.com/coffee-suppliers/coffee-suppliers/services/customer/server"
	employee "github.com/coffee-suppliers/coffee-suppliers/services/employee/server"
)

// Options configure Start.
type Options struct {
	// Addr is where the gateway listens, e.g. 127.0.0.1:3000; port 0 picks
	// a free one.
	Addr string
	// Suppliers is how many demo suppliers to seed.
	Suppliers int
	// Logger receives every component's logs, each tagged with the
	// component's service; it should name no service itself.
	Logger *slog.Logger
	// AdminEmail and AdminPassword are the first employee account. Left
	// empty, a demo account (DemoEmail with a random password) is created
	// for this run.
	AdminEmail    string
	AdminPassword string
	// SessionIdleTimeout and SessionMaxAge override the employee service's
	// session limits (30 min, 12 h) when set.
	SessionIdleTimeout time.Duration
	SessionMaxAge      time.Duration
	// Now is the employee service's clock for sessions and sign-in
	// throttling; nil is time.Now. Browser tests move it forward to see a
	// session expire without waiting.
	Now func() time.Time
}

// DemoEmail is the account `make run` creates when no ADMIN_EMAIL is set.
const DemoEmail = "demo@coffee-suppliers.example"

// Stack is a running application.
type Stack struct {
	// URL is the gateway's address, the one users open.
	URL string
	// CustomerMetricsURL and EmployeeMetricsURL are the private metrics ports.
	CustomerMetricsURL string
	EmployeeMetricsURL string
	// AdminDB is the embedded database's schema-owning account; CustomerDB
	// and EmployeeDB are the services' own least-privilege accounts. Tests
	// use them to check what the database holds and who may change it.
	AdminDB, CustomerDB, EmployeeDB suppliers.DBConfig
	// AdminEmail and AdminPassword sign in to the administration: the
	// Options' account, or the demo account made for this run.
	AdminEmail    string
	AdminPassword string

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	errs    chan error
	closers []func() error
}

const (
	dbName = "COFFEE"
	// shutdownTimeout is short: locally nobody waits on a draining replica.
	shutdownTimeout = 5 * time.Second
)

// Start brings everything up and returns once the gateway accepts
// connections. Stop it with Close.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Stack{cancel: cancel, errs: make(chan error, 3)}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	rootPassword := randomSecret()
	db, err := memserver.Start(ctx, memserver.Options{Addr: "127.0.0.1:0", RootPassword: rootPassword, Logger: log.With("service", "database")})
	if err != nil {
		return nil, fmt.Errorf("start embedded database: %w", err)
	}
	s.closers = append(s.closers, db.Close)
	s.AdminDB = suppliers.DBConfig{Host: db.Host(), Port: db.Port(), User: "root", Password: rootPassword, Name: dbName}

	customerAccount := suppliers.Account{User: "coffee_customer", Password: randomSecret()}
	employeeAccount := suppliers.Account{User: "coffee_employee", Password: randomSecret()}
	if err := prepareDatabase(ctx, s.AdminDB, customerAccount, employeeAccount, opts.Suppliers); err != nil {
		return nil, err
	}

	webCfg := web.Config{ShutdownTimeout: shutdownTimeout, LogLevel: slog.LevelInfo,
		TrustedProxies: mustPrefixes("127.0.0.0/8", "::1/128")}
	s.CustomerDB, s.EmployeeDB = s.AdminDB, s.AdminDB
	s.CustomerDB.User, s.CustomerDB.Password = customerAccount.User, customerAccount.Password
	s.EmployeeDB.User, s.EmployeeDB.Password = employeeAccount.User, employeeAccount.Password
	customerURL, customerMetrics, err := s.startService(ctx, log, "customer", s.CustomerDB, webCfg,
		func(log *slog.Logger, db *sql.DB) (*web.Service, error) {
			return customer.New(customer.Deps{Log: log, Web: webCfg, DB: db})
		})
	if err != nil {
		return nil, err
	}
	s.AdminEmail, s.AdminPassword = opts.AdminEmail, opts.AdminPassword
	if s.AdminEmail == "" && s.AdminPassword == "" {
		s.AdminEmail, s.AdminPassword = DemoEmail, rand.Text()
	}
	employeeOpts := employee.Options{
		// A session key for this run only: signing in again after a
		// restart is no loss, the data is gone too.
		SessionKeys:   [][]byte{[]byte(rand.Text() + rand.Text())},
		IdleTimeout:   opts.SessionIdleTimeout,
		MaxAge:        opts.SessionMaxAge,
		AdminEmail:    s.AdminEmail,
		AdminPassword: s.AdminPassword,
		Now:           opts.Now,
	}
	employeeURL, employeeMetrics, err := s.startService(ctx, log, "employee", s.EmployeeDB, webCfg,
		func(log *slog.Logger, db *sql.DB) (*web.Service, error) {
			return employee.New(employee.Deps{Log: log, Web: webCfg, DB: db, Options: employeeOpts})
		})
	if err != nil {
		return nil, err
	}
	s.CustomerMetricsURL, s.EmployeeMetricsURL = customerMetrics+"/metrics", employeeMetrics+"/metrics"

	srv, err := gateway.NewServer(map[gateway.Target]*url.URL{gateway.Customer: customerURL, gateway.Employee: employeeURL},
		log.With("service", "gateway"), gateway.HAProxy)
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("gateway: listen on %s (set PORT to use another port): %w", addr, err)
	}
	s.URL = "http://" + ln.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.errs <- fmt.Errorf("gateway: %w", err)
		}
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-ctx.Done()
		shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = srv.Shutdown(shutdownCtx)
	}()
	return s, nil
}

// prepareDatabase does what the migration step does in production: create
// the database, apply the schema, create the services' accounts, and load
// demo suppliers.
func prepareDatabase(ctx context.Context, admin suppliers.DBConfig, customerAccount, employeeAccount suppliers.Account, n int) error {
	server := admin
	server.Name = ""
	root, err := suppliers.Open(server)
	if err != nil {
		return err
	}
	defer root.Close()
	if _, err := root.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+dbName); err != nil {
		return fmt.Errorf("create database %s: %w", dbName, err)
	}
	db, err := suppliers.Open(admin)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := suppliers.Migrate(ctx, db); err != nil {
		return err
	}
	if err := suppliers.EnsureAccounts(ctx, db, dbName, customerAccount, employeeAccount); err != nil {
		return err
	}
	if err := suppliers.Seed(ctx, db, n, uint64(time.Now().UnixNano())); err != nil {
		return err
	}
	return nil
}

// startService opens the service's own database pool with its own account,
// builds the service over it with its own constructor (as its main does),
// and serves it on loopback ports chosen by the system.
func (s *Stack) startService(ctx context.Context, log *slog.Logger, name string, dbCfg suppliers.DBConfig,
	cfg web.Config, build func(*slog.Logger, *sql.DB) (*web.Service, error)) (appURL *url.URL, metricsURL string, err error) {
	db, err := suppliers.Open(dbCfg)
	if err != nil {
		return nil, "", err
	}
	s.closers = append(s.closers, db.Close)
	svcLog := log.With("service", name)
	svc, err := build(svcLog, db)
	if err != nil {
		return nil, "", fmt.Errorf("%s service: %w", name, err)
	}
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("%s service: listen: %w", name, err)
	}
	metricsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		appLn.Close()
		return nil, "", fmt.Errorf("%s service: listen for metrics: %w", name, err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := web.Serve(ctx, svcLog, cfg.ShutdownTimeout, appLn, svc.Handler(), metricsLn, svc.MetricsHandler()); err != nil {
			s.errs <- fmt.Errorf("%s service: %w", name, err)
		}
	}()
	return &url.URL{Scheme: "http", Host: appLn.Addr().String()}, "http://" + metricsLn.Addr().String(), nil
}

// Wait blocks until ctx ends or a component fails, then shuts down.
func (s *Stack) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-s.errs:
	}
	return errors.Join(err, s.Close())
}

// Close stops the gateway and the services (letting in-flight requests
// finish), then the database. The data is gone afterwards.
func (s *Stack) Close() error {
	s.cancel()
	s.wg.Wait()
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// randomSecret is a fresh password for this run only: nothing is stored.
func randomSecret() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func mustPrefixes(prefixes ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(prefixes))
	for i, p := range prefixes {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

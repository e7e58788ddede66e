package web

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"

	"github.com/gin-gonic/gin"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// Service is one service's assembled parts: its pages, its engine with the
// shared routes and middleware, its store and its metrics. A service's
// server package adds its own routes to Engine.
type Service struct {
	App     *App
	Engine  *gin.Engine
	Store   *suppliers.Store
	metrics http.Handler
	ready   *readiness
}

// NewService assembles a service over an open pool. templates holds the
// service's pages as templates/*.html.
func NewService(log *slog.Logger, cfg Config, db *sql.DB, site Site, templates fs.FS) (*Service, error) {
	pages, err := fs.Sub(templates, "templates")
	if err != nil {
		return nil, fmt.Errorf("%s templates: %w", site.Service, err)
	}
	app, err := NewApp(log, site, pages)
	if err != nil {
		return nil, fmt.Errorf("%s templates: %w", site.Service, err)
	}
	if cfg.PageCacheTTL > 0 {
		app.cache = newPageCache(cfg.PageCacheTTL, cfg.Clock)
	}
	store := suppliers.NewStore(db, 0)
	metrics := NewMetrics(site.Service, db)
	ready := newReadiness(log, store.Ready)
	engine, err := app.Engine(cfg, metrics, ready.Ready)
	if err != nil {
		return nil, err
	}
	return &Service{App: app, Engine: engine, Store: store, metrics: metrics.Handler(cfg), ready: ready}, nil
}

// WhenReady adds start-up work that needs the database (the employee's
// first administrator): it runs at readiness checks once the database is
// usable, until it first succeeds, and /readyz answers 503 until then.
// Doing it there rather than at start lets a service start before its
// database has been migrated, and stay up.
func (s *Service) WhenReady(fn func(context.Context) error) { s.ready.whenReady(fn) }

// Handler serves the application port.
func (s *Service) Handler() http.Handler { return s.Engine }

// MetricsHandler serves the private metrics port.
func (s *Service) MetricsHandler() http.Handler { return s.metrics }

// Builder is a service's constructor, e.g. the customer's server.New.
// lookup reads the environment, for settings only that service has (the
// employee's session key and first administrator); a service without any
// ignores it.
type Builder func(log *slog.Logger, cfg Config, db *sql.DB, lookup func(string) (string, bool)) (*Service, error)

// ServiceConfig is everything a service reads from its environment.
type ServiceConfig struct {
	Web Config
	DB  suppliers.DBConfig
}

// ServiceConfigFromEnv reads and validates the settings, naming every
// variable that is missing or malformed in one error.
func ServiceConfigFromEnv(lookup func(string) (string, bool)) (ServiceConfig, error) {
	env := envconfig.New(lookup)
	cfg := ServiceConfig{Web: ConfigFromEnv(env), DB: suppliers.DBConfigFromEnv(env)}
	if err := env.Err(); err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, nil
}

// LogValue logs the settings with secrets masked.
func (c ServiceConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("web", c.Web), slog.Any("db", c.DB))
}

// Run is a service's whole life: read the configuration through lookup,
// open the pool, build the service, serve until ctx ends, drain, close. It
// takes its environment and output as arguments so tests can run a whole
// service without touching the process's own.
func Run(ctx context.Context, name string, build Builder, lookup func(string) (string, bool), stdout io.Writer) (err error) {
	cfg, err := ServiceConfigFromEnv(lookup)
	if err != nil {
		return err
	}
	out := newLogWriter(stdout)
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("write log: %w", cerr)
		}
	}()
	log := NewLogger(out, name, cfg.Web.LogLevel)
	log.Info("starting", "config", cfg)
	db, err := suppliers.Open(cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := build(log, cfg.Web, db, lookup)
	if err != nil {
		return err
	}
	appLn, metricsLn, err := Listen(cfg.Web)
	if err != nil {
		return err
	}
	return Serve(ctx, log, cfg.Web.ShutdownTimeout, appLn, svc.Handler(), metricsLn, svc.MetricsHandler())
}

// Main is a service binary's main: `NAME healthcheck` probes a running
// instance (for container health checks); otherwise run serves until
// SIGTERM or Ctrl+C. Failures exit non-zero with the reason on stderr.
func Main(name string, run func(context.Context, func(string) (string, bool), io.Writer) error) {
	if len(os.Args) == 2 && os.Args[1] == "healthcheck" {
		os.Exit(HealthcheckCommand(os.LookupEnv))
	}
	if limit := containerMemoryLimit(os.LookupEnv, cgroupRoot); limit > 0 {
		// A soft limit under the container's: the collector works harder
		// only as the process nears it (GOMEMLIMIT in the environment wins).
		debug.SetMemoryLimit(limit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.LookupEnv, os.Stdout); err != nil {
		stop()
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// ListQuery reads a supplier list URL's q and page (and per_page, where
// the caller lets clients choose a page size), or returns the error that
// names the malformed parameter.
func ListQuery(c *gin.Context, allowPerPage bool) (suppliers.Query, error) {
	perPage := ""
	if allowPerPage {
		perPage = c.Query("per_page")
	}
	return suppliers.ParseQuery(c.Query("q"), c.Query("page"), perPage)
}

// ListFromQuery answers a supplier list URL (see ListQuery) with that page.
func ListFromQuery(c *gin.Context, store *suppliers.Store, allowPerPage bool) (suppliers.List, error) {
	q, err := ListQuery(c, allowPerPage)
	if err != nil {
		return suppliers.List{}, err
	}
	return store.List(c.Request.Context(), q)
}

// QueryKey names a list query in the page cache: its parsed values, so
// spellings of one URL share an entry and unknown parameters add none.
func QueryKey(q suppliers.Query) string {
	return strconv.Itoa(q.Page) + "\x00" + strconv.Itoa(q.PerPage) + "\x00" + q.Search
}

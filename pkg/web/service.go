package web

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

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

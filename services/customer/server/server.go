// Package server is the customer service's HTTP side: the public catalogue
// pages and the read-only JSON API. It is a package of its own, not
// internal, so the local launcher can run it in-process.
package server

import (
	"database/sql"
	"embed"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed openapi.json
var openAPIDocument []byte

// site is how the catalogue presents itself in the shared layout.
var site = web.Site{
	Service: "customer",
	Section: "Catalogue",
	Home:    "/",
	Nav: []web.Link{
		{Label: "Home", URL: "/"},
		{Label: "Suppliers", URL: "/suppliers"},
		{Label: "Administration", URL: "/admin/suppliers"},
	},
	CacheControl: "no-cache",
}

// handlers carries what the routes need; there are no package globals.
type handlers struct {
	app   *web.App
	store *suppliers.Store
}

// Deps are what the catalogue is built from. The catalogue is public and
// has no settings of its own beyond what every service reads.
type Deps struct {
	Log *slog.Logger
	Web web.Config
	// DB is an open pool on the customer's read-only account; the caller
	// closes it.
	DB *sql.DB
}

// New builds the service: its store over deps.DB, its pages and routes.
func New(deps Deps) (*web.Service, error) {
	svc, err := web.NewService(deps.Log, deps.Web, deps.DB, site, templateFiles)
	if err != nil {
		return nil, err
	}
	app, engine := svc.App, svc.Engine
	h := handlers{app: app, store: svc.Store}
	engine.GET("/", app.Page(h.home))
	engine.GET("/suppliers", app.Page(h.list))
	api := engine.Group("/api")
	api.GET("/suppliers", app.API(h.apiList))
	api.GET("/suppliers/:id", app.API(h.apiGet))
	api.GET("/openapi.json", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.Data(http.StatusOK, "application/json; charset=utf-8", openAPIDocument)
	})
	return svc, nil
}

func (h handlers) home(c *gin.Context) error {
	return h.app.HTML(c, http.StatusOK, "home", "Welcome", nil)
}

// list serves the catalogue's busiest page from the page cache: every
// visitor sees the same list, so it is read and rendered once per query and
// PAGE_CACHE_TTL, and an employee's change shows within that bound.
func (h handlers) list(c *gin.Context) error {
	q, err := web.ListQuery(c, false)
	if err != nil {
		return err
	}
	return h.app.CachedPage(c, "suppliers", "Suppliers", web.QueryKey(q), func() (any, error) {
		return h.store.List(c.Request.Context(), q)
	})
}

func (h handlers) apiList(c *gin.Context) error {
	list, err := web.ListFromQuery(c, h.store, true)
	if err != nil {
		return err
	}
	return web.JSON(c, http.StatusOK, apiList{List: list, TotalPages: list.TotalPages()})
}

// apiList adds the page count to the list's JSON.
type apiList struct {
	suppliers.List
	TotalPages int `json:"total_pages"`
}

func (h handlers) apiGet(c *gin.Context) error {
	id, err := suppliers.ParseID(c.Param("id"))
	if err != nil {
		return err
	}
	s, err := h.store.Get(c.Request.Context(), id)
	if err != nil {
		return err
	}
	return web.JSON(c, http.StatusOK, s)
}

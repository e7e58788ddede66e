package web

// This file holds App and its adapters: a Handler returns its error and
// Page or API answer it. Each middleware of the chain Engine builds has a
// file of its own.

import (
	"context"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Handler is a gin handler that returns its error instead of writing it, so
// one adapter decides the status, the page and the log line.
type Handler func(*gin.Context) error

// App is one service's web front: its templates, its site and its logger.
type App struct {
	log   *slog.Logger
	site  Site
	pages templates
	cache *pageCache // nil when pages are not cached
	nav   map[navKey]template.HTML
}

// NewApp parses the shared layout and the service's pages once, at start.
func NewApp(log *slog.Logger, site Site, pages fs.FS) (*App, error) {
	t, err := parseTemplates(pages)
	if err != nil {
		return nil, err
	}
	if site.CacheControl == "" {
		site.CacheControl = "no-cache"
	}
	nav, err := renderNav(t["error"], site)
	if err != nil {
		return nil, err
	}
	return &App{log: log, site: site, pages: t, nav: nav}, nil
}

// Page adapts a Handler whose errors are shown as HTML pages.
func (a *App) Page(h Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			a.fail(c, err)
		}
	}
}

// API adapts a Handler whose errors are answered as JSON.
func (a *App) API(h Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(jsonErrorsKey, true)
		if err := h(c); err != nil {
			a.fail(c, err)
		}
	}
}

const (
	errorKey      = "web.error"
	jsonErrorsKey = "web.json"
	requestIDKey  = "web.request_id"
)

// fail answers err as a page or JSON. The request log line carries err
// (once); users see only the classified message.
func (a *App) fail(c *gin.Context, err error) {
	if errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil {
		// The client went away; nobody is left to answer.
		c.Set(errorKey, err)
		c.Abort()
		return
	}
	e := Classify(err)
	c.Set(errorKey, err)
	if e.Status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "5")
	}
	if c.GetBool(jsonErrorsKey) {
		if jerr := JSON(c, e.Status, gin.H{"error": gin.H{"status": e.Status, "title": e.Title, "message": e.Message}}); jerr == nil {
			c.Abort()
			return
		}
	} else if rerr := a.HTML(c, e.Status, "error", e.Title, e); rerr == nil {
		c.Abort()
		return
	} else {
		c.Set(errorKey, errors.Join(err, rerr))
	}
	c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Something went wrong.\n"))
	c.Abort()
}

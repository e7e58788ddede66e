package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// MaxBodyBytes is the largest request body any form accepts: a supplier is
// at most a few kilobytes, so anything bigger is a mistake or an attack.
const MaxBodyBytes = 64 << 10

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

// Engine builds the gin engine with the middleware chain every request
// passes (request id, request log, metrics, panic recovery, security
// headers, body limit), the static files, health checks and error routes.
// ready is /readyz's check: nil when the service can serve.
func (a *App) Engine(cfg Config, metrics *Metrics, ready func(context.Context) error) (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	proxies := make([]string, len(cfg.TrustedProxies))
	for i, p := range cfg.TrustedProxies {
		proxies[i] = p.String()
	}
	// gin trusts every proxy until told otherwise, letting any client
	// choose its own address via X-Forwarded-For.
	if err := engine.SetTrustedProxies(proxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	// The ALB, HAProxy and the local gateway set X-Forwarded-For; gin's
	// default also believes X-Real-IP, which only a client would send.
	engine.RemoteIPHeaders = []string{"X-Forwarded-For"}
	engine.HandleMethodNotAllowed = true
	engine.RedirectTrailingSlash = false
	// Recovery sits inside the log and metrics so a panicking request is
	// still logged and counted, as the 500 it is answered with.
	engine.Use(requestID, a.requestLog, metrics.instrument, a.recoverPanic, securityHeaders, a.sameOrigin(), limitBody)
	if err := a.serveStatic(engine); err != nil {
		return nil, err
	}
	engine.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	engine.GET("/readyz", func(c *gin.Context) {
		// The check bounds itself (the store's query timeout); it logs
		// its reason when that changes, so the request line does not.
		if err := ready(c.Request.Context()); err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready"})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	engine.NoRoute(a.errorRoute(func(c *gin.Context) error {
		if isAPIPath(c.Request.URL.Path) {
			return &Error{Status: http.StatusNotFound, Title: "Not found",
				Message: "There is nothing at this address. The API's paths are listed in /api/openapi.json."}
		}
		return &Error{Status: http.StatusNotFound, Title: "Page not found",
			Message: "There is no page at this address. Check the link, or start again from the home page."}
	}))
	engine.NoMethod(a.errorRoute(func(c *gin.Context) error {
		method, _ := capForLog(c.Request.Method)
		return Errorf(http.StatusMethodNotAllowed, "This address does not accept "+method+" requests.")
	}))
	return engine, nil
}

// APIPrefix is where the JSON API lives: everything under it answers JSON,
// errors included.
const APIPrefix = "/api"

func isAPIPath(p string) bool {
	return p == APIPrefix || strings.HasPrefix(p, APIPrefix+"/")
}

// errorRoute adapts the not-found and method-not-allowed handlers: JSON
// under APIPrefix, an HTML page elsewhere.
func (a *App) errorRoute(h Handler) gin.HandlerFunc {
	page, api := a.Page(h), a.API(h)
	return func(c *gin.Context) {
		if isAPIPath(c.Request.URL.Path) {
			api(c)
			return
		}
		page(c)
	}
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

func (a *App) recoverPanic(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			a.fail(c, fmt.Errorf("panic: %v", r))
		}
	}()
	c.Next()
}

// requestLog writes one JSON line per request. Health checks log at debug:
// the load balancer asks every few seconds and would drown everything else,
// and a failing /readyz logs its reason itself, once per change.
// Only the path is logged, never the query string, headers or body, so no
// password, cookie or token can reach the log.
func (a *App) requestLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	switch health := c.FullPath() == "/healthz" || c.FullPath() == "/readyz"; {
	case health && (status < 500 || status == http.StatusServiceUnavailable):
		level = slog.LevelDebug
	case status >= 500:
		level = slog.LevelError
	}
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	method, methodCut := capForLog(c.Request.Method)
	path, pathCut := capForLog(c.Request.URL.Path)
	attrs := []slog.Attr{
		slog.String("request_id", RequestID(c)),
		slog.String("method", method),
		slog.String("route", route),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
		slog.String("client_ip", c.ClientIP()),
	}
	if methodCut || pathCut {
		attrs = append(attrs, slog.Bool("truncated", true))
	}
	if err, ok := c.Get(errorKey); ok {
		attrs = append(attrs, slog.Any("error", err))
	}
	a.log.LogAttrs(c.Request.Context(), level, "request", attrs...)
}

// maxLoggedBytes caps what a log line copies from a request (its method
// and path): any token is a valid method and a path may be as long as the
// header limit, and a client must not be able to fill the log with them.
const maxLoggedBytes = 256

// capForLog returns s cut to maxLoggedBytes (at a character boundary) and
// whether it was cut; the request line then says truncated: true.
func capForLog(s string) (string, bool) {
	if len(s) <= maxLoggedBytes {
		return s, false
	}
	cut := maxLoggedBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…", true
}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:=-]{1,128}$`)

// requestID keeps the caller's X-Request-Id when it looks like one (so a
// request can be followed through the load balancer), or makes a new one.
func requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !validRequestID.MatchString(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

// RequestID returns the current request's id.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// contentSecurityPolicy allows nothing but this origin's style sheet and
// form targets: the pages have no scripts at all.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https" {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Next()
}

// sameOrigin refuses state-changing requests a browser sent from another
// site (judged by Sec-Fetch-Site or Origin against Host): every change is
// made by a form on these pages, so a cross-site post can only be someone
// else's page acting in an employee's name. Clients that are not browsers
// send neither header and pass.
func (a *App) sameOrigin() gin.HandlerFunc {
	protection := http.NewCrossOriginProtection()
	return func(c *gin.Context) {
		if err := protection.Check(c.Request); err != nil {
			a.fail(c, &Error{Status: http.StatusForbidden, Title: "Form sent from another site",
				Message: "Suppliers can only be changed from the forms on these pages. Open the form here and submit it again.",
				Err:     err})
			return
		}
		c.Next()
	}
}

// limitBody refuses a declared oversize body before reading it, and caps
// undeclared (chunked) ones so reading past the limit fails.
func limitBody(c *gin.Context) {
	if c.Request.ContentLength > MaxBodyBytes {
		c.Set(oversizeKey, true)
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	c.Next()
}

const oversizeKey = "web.oversize"

// ParseForm reads an HTML form submission: only URL-encoded bodies (what a
// browser's form sends) are accepted, at most MaxBodyBytes.
func ParseForm(c *gin.Context) (url.Values, error) {
	if c.GetBool(oversizeKey) {
		return nil, &http.MaxBytesError{Limit: MaxBodyBytes}
	}
	mediaType, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mediaType != "application/x-www-form-urlencoded" {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Title: "Unsupported form encoding",
			Message: "This form accepts application/x-www-form-urlencoded bodies, as a browser sends them."}
	}
	if err := c.Request.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, &Error{Status: http.StatusBadRequest, Title: "Unreadable form",
			Message: "The form could not be read. Reload the page and submit it again.", Err: err}
	}
	return c.Request.PostForm, nil
}

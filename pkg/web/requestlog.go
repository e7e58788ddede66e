package web

import (
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

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

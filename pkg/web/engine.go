package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

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
	engine.NoRoute(a.NotFound)
	engine.NoMethod(a.MethodNotAllowed)
	return engine, nil
}

// NotFound answers a request no route matched: JSON under APIPrefix, an
// HTML page elsewhere. Engine makes it the engine's answer; a service that
// guards a group of paths puts its guard before it
// (engine.NoRoute(guard, app.NotFound)), so unrouted paths there pass the
// guard as routed ones do.
func (a *App) NotFound(c *gin.Context) {
	if isAPIPath(c.Request.URL.Path) {
		a.failUnrouted(c, &Error{Status: http.StatusNotFound, Title: "Not found",
			Message: "There is nothing at this address. The API's paths are listed in /api/openapi.json."})
		return
	}
	a.failUnrouted(c, &Error{Status: http.StatusNotFound, Title: "Page not found",
		Message: "There is no page at this address. Check the link, or start again from the home page."})
}

// MethodNotAllowed answers a request whose path has routes for other
// methods only, like NotFound (engine.NoMethod).
func (a *App) MethodNotAllowed(c *gin.Context) {
	method, _ := capForLog(c.Request.Method)
	a.failUnrouted(c, Errorf(http.StatusMethodNotAllowed, "This address does not accept "+method+" requests."))
}

// APIPrefix is where the JSON API lives: everything under it answers JSON,
// errors included.
const APIPrefix = "/api"

func isAPIPath(p string) bool {
	return p == APIPrefix || strings.HasPrefix(p, APIPrefix+"/")
}

// failUnrouted answers err as JSON under APIPrefix, as API does, and as a
// page elsewhere.
func (a *App) failUnrouted(c *gin.Context, err error) {
	if isAPIPath(c.Request.URL.Path) {
		c.Set(jsonErrorsKey, true)
	}
	a.fail(c, err)
}

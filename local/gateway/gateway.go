// Package gateway is the local stand-in for the Application Load Balancer:
// it applies the same listener rules (path /admin or /admin/* to the
// employee service, everything else to the customer service) in front of
// the two services started by the launcher.
package gateway

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// Target names a target group.
type Target string

// The two target groups behind the load balancer.
const (
	Customer Target = "customer"
	Employee Target = "employee"
)

// Rule is one ALB listener rule: a request whose path matches any pattern
// goes to Target. Patterns use the ALB's syntax: * matches any characters
// (including /), ? matches one; matching is case-sensitive.
type Rule struct {
	Priority     int
	PathPatterns []string
	Target       Target
}

// Rules are the listener rules in priority order, and DefaultTarget is the
// listener's default action. HAProxy's configuration and the CloudFormation
// listener rules implement the same table; tests compare them.
var (
	Rules = []Rule{
		{Priority: 10, PathPatterns: []string{"/admin", "/admin/*"}, Target: Employee},
	}
	DefaultTarget = Customer
)

// Route returns the target group for a request path.
func Route(p string) Target {
	for _, r := range Rules {
		for _, pattern := range r.PathPatterns {
			if matchALB(pattern, p) {
				return r.Target
			}
		}
	}
	return DefaultTarget
}

// matchALB matches like an ALB path condition. Unlike path.Match, whose *
// stops at /, the ALB's * spans slashes, so * is tried at every split.
func matchALB(pattern, s string) bool {
	for pattern != "" {
		switch pattern[0] {
		case '*':
			pattern = pattern[1:]
			for i := len(s); i >= 0; i-- {
				if matchALB(pattern, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// New returns the gateway: a reverse proxy to each target. A target that
// does not answer gets a 502 page, as the ALB would give.
func New(targets map[Target]*url.URL, log *slog.Logger) (http.Handler, error) {
	proxies := map[Target]*httputil.ReverseProxy{}
	for _, t := range []Target{Customer, Employee} {
		u, ok := targets[t]
		if !ok {
			return nil, errors.New("gateway: no address for target " + string(t))
		}
		proxies[t] = &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(u)
				r.SetXForwarded()
				r.Out.Host = r.In.Host
			},
			Transport: &http.Transport{
				MaxIdleConnsPerHost: 64,
				IdleConnTimeout:     60 * time.Second,
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				log.Warn("gateway: target unreachable", "target", string(t), "path", r.URL.Path, "error", err)
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = w.Write([]byte(badGatewayPage))
			},
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Like the ALB, match the path as sent, without cleaning it.
		proxies[Route(r.URL.Path)].ServeHTTP(w, r)
	}), nil
}

const badGatewayPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>502 Bad Gateway</title></head>
<body><h1>502 Bad Gateway</h1><p>The service behind this address is not answering. Try again in a moment.</p></body></html>
`

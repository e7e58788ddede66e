// Package gateway is the local stand-in for the Application Load Balancer:
// it applies the same listener rules (path /admin or /admin/* to the
// employee service, everything else to the customer service) in front of
// the two services started by the launcher, with the timeouts and the
// connection limit HAProxy has in the compose stack (HAProxy).
package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
	"unicode/utf8"
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

// Timeouts are how long the gateway waits on a client or a backend. Each
// is one of HAProxy's in loadbalancer/haproxy.cfg (named beside it); a
// test fails when they differ.
type Timeouts struct {
	// Header bounds receiving a request's headers (timeout http-request).
	Header time.Duration
	// Body bounds each wait for more of a request's body (timeout
	// client): a client that stops sending is answered 408.
	Body time.Duration
	// Write bounds each wait for the client to take more of the response
	// (timeout client).
	Write time.Duration
	// Idle bounds the wait for the next request on a kept-alive
	// connection (timeout http-keep-alive).
	Idle time.Duration
	// Server bounds the wait for a backend's response headers (timeout
	// server); past it the client gets 504.
	Server time.Duration
	// Connect bounds connecting to a backend (timeout connect).
	Connect time.Duration
}

// Config is a gateway server's limits.
type Config struct {
	Timeouts Timeouts
	// MaxConns is how many client connections are served at once (maxconn);
	// further ones wait to be accepted until one ends.
	MaxConns int
}

// HAProxy is loadbalancer/haproxy.cfg's configuration, which `make run`'s
// gateway applies too.
var HAProxy = Config{
	Timeouts: Timeouts{
		Header:  10 * time.Second,
		Body:    30 * time.Second,
		Write:   30 * time.Second,
		Idle:    5 * time.Second,
		Server:  30 * time.Second,
		Connect: 2 * time.Second,
	},
	MaxConns: 1000,
}

// New returns the gateway's handler with HAProxy's timeouts: a reverse
// proxy to each target. A target that does not answer gets a 502 page, as
// the ALB would give.
func New(targets map[Target]*url.URL, log *slog.Logger) (http.Handler, error) {
	return newHandler(targets, log, HAProxy.Timeouts)
}

func newHandler(targets map[Target]*url.URL, log *slog.Logger, timeouts Timeouts) (http.Handler, error) {
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
				DialContext:           (&net.Dialer{Timeout: timeouts.Connect}).DialContext,
				ResponseHeaderTimeout: timeouts.Server,
				MaxIdleConnsPerHost:   64,
				IdleConnTimeout:       60 * time.Second,
			},
			ModifyResponse: func(resp *http.Response) error {
				// The backend answered, perhaps before reading the whole
				// body (a 413, say): stop waiting for the rest, so the
				// client hears the answer instead of being held.
				if body, ok := resp.Request.Context().Value(clientBodyKey{}).(*clientBody); ok && body.stop() {
					resp.Header.Set("Connection", "close")
				}
				return nil
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				failed(w, r, err, log, t)
			},
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.Body != nil && r.Body != http.NoBody {
			body := &clientBody{body: r.Body, rc: rc, timeout: timeouts.Body}
			r.Body = body
			r = r.WithContext(context.WithValue(r.Context(), clientBodyKey{}, body))
		}
		// Like the ALB, match the path as sent, without cleaning it.
		proxies[Route(r.URL.Path)].ServeHTTP(&clientResponse{ResponseWriter: w, rc: rc, timeout: timeouts.Write}, r)
	}), nil
}

// failed answers a request the backend did not: the client's own fault
// (its body stalled: 408; it was malformed: 400), a backend too slow (504)
// or unreachable (502). Only the last two are the ALB's 5xx, which alarms
// count.
func failed(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger, t Target) {
	if body, ok := r.Context().Value(clientBodyKey{}).(*clientBody); ok {
		if bodyErr := body.failure(); bodyErr != nil {
			var ne net.Error
			status, title, text := http.StatusBadRequest, "400 Bad Request", "The request's body could not be read."
			if errors.As(bodyErr, &ne) && ne.Timeout() {
				status, title, text = http.StatusRequestTimeout, "408 Request Timeout", "The rest of the request did not arrive in time."
			}
			w.Header().Set("Connection", "close")
			writePage(w, status, title, text)
			return
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		log.Warn("gateway: target too slow", "target", string(t), "path", capForLog(r.URL.Path), "error", err)
		writePage(w, http.StatusGatewayTimeout, "504 Gateway Timeout", "The service behind this address did not answer in time. Try again in a moment.")
		return
	}
	if r.Context().Err() == nil { // else the client went away: no outage to report
		log.Warn("gateway: target unreachable", "target", string(t), "path", capForLog(r.URL.Path), "error", err)
	}
	writePage(w, http.StatusBadGateway, "502 Bad Gateway", "The service behind this address is not answering. Try again in a moment.")
}

// capForLog cuts a client's path to 256 bytes: a log line must not carry
// whatever length a client chose.
func capForLog(s string) string {
	const limit = 256
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(truncated)"
}

func writePage(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>`+title+`</title></head>
<body><h1>`+title+`</h1><p>`+text+`</p></body></html>
`)
}

type clientBodyKey struct{}

// clientBody is a request body as the client sends it: each read may wait
// at most timeout for more, and it remembers why reading failed, so a
// stalled or malformed body is answered as the client's fault.
type clientBody struct {
	body    io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration

	mu      sync.Mutex
	err     error // the first read error other than EOF
	done    bool  // the whole body was read
	stopped bool  // the backend answered; read no more
}

func (b *clientBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return 0, errBackendAnswered
	}
	_ = b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	b.mu.Unlock()
	n, err := b.body.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case err == io.EOF:
		b.done = true
		// The server's own watch on the idle connection (it notices a
		// client leaving) must not inherit this deadline while the
		// backend takes its time.
		_ = b.rc.SetReadDeadline(time.Time{})
	case err != nil && b.err == nil && !b.stopped:
		b.err = err
	}
	return n, err
}

func (b *clientBody) Close() error { return b.body.Close() }

// stop ends the wait for the rest of a body the backend no longer needs
// and reports whether any was left unread.
func (b *clientBody) stop() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return false
	}
	b.stopped = true
	_ = b.rc.SetReadDeadline(time.Now())
	return true
}

func (b *clientBody) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

var errBackendAnswered = errors.New("gateway: the backend answered before the body was read")

// clientResponse gives the client timeout to take each part of the
// response, as HAProxy's timeout client does.
type clientResponse struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (w *clientResponse) WriteHeader(status int) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	w.ResponseWriter.WriteHeader(status)
}

func (w *clientResponse) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController (the proxy's flushes) reach the
// connection.
func (w *clientResponse) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Server is the gateway as `make run` serves it: the handler behind an
// http.Server with cfg's timeouts, accepting at most cfg.MaxConns
// connections at once.
type Server struct {
	srv      *http.Server
	maxConns int
}

// NewServer builds the gateway's server; log receives the gateway's
// warnings and the server's own errors.
func NewServer(targets map[Target]*url.URL, log *slog.Logger, cfg Config) (*Server, error) {
	h, err := newHandler(targets, log, cfg.Timeouts)
	if err != nil {
		return nil, err
	}
	return &Server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: cfg.Timeouts.Header,
			IdleTimeout:       cfg.Timeouts.Idle,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		maxConns: cfg.MaxConns,
	}, nil
}

// Serve accepts connections on ln until Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	return s.srv.Serve(&limitListener{Listener: ln, slots: make(chan struct{}, max(s.maxConns, 1))})
}

// Shutdown stops accepting and waits for open requests, at most until ctx
// ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// Close closes the listener and every connection at once.
func (s *Server) Close() error { return s.srv.Close() }

// limitListener accepts a connection only while fewer than cap(slots) are
// open; the rest wait in the kernel's backlog, as past HAProxy's maxconn.
type limitListener struct {
	net.Listener
	slots chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	conn, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: conn, release: func() { <-l.slots }}, nil
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

package web

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// randomMethod is a valid HTTP token no server knows, as a scanner sends.
func randomMethod(r *rand.Rand, n int) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// TestUnknownMethodsShareOneMetricLabel: 700 requests with made-up methods
// (issue 12, point 6) must not each become a series kept until restart, nor
// put kilobytes of method or path into a log line.
func TestUnknownMethodsShareOneMetricLabel(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	r := rand.New(rand.NewPCG(12, 6))
	for i := range 700 {
		target := []string{"/hello", "/no/such/page", "/api/ok"}[i%3]
		ta.do(t, randomMethod(r, 8+r.IntN(24)), target, nil)
	}
	long := randomMethod(r, 8000)
	longPath := "/" + strings.Repeat("p", 8000)
	ta.do(t, long, "/hello", nil)
	ta.do(t, http.MethodGet, longPath, nil)

	rec := httptest.NewRecorder()
	ta.metrics.Handler(Config{}).ServeHTTP(rec, metricsRequest("/metrics", "127.0.0.1:9090"))
	body := rec.Body.String()
	series := 0
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, "http_requests_total{") || strings.HasPrefix(line, "http_request_duration_seconds_count{") {
			series++
		}
	}
	if series > 12 {
		t.Errorf("700 made-up methods left %d request series, want a handful (one OTHER label)", series)
	}
	if len(body) > 64<<10 {
		t.Errorf("/metrics is %d bytes after 700 made-up methods, want well under 64 KB", len(body))
	}
	if !strings.Contains(body, `method="OTHER"`) {
		t.Errorf("made-up methods should be counted as OTHER:\n%s", body)
	}

	for i, line := range ta.log.lines(t) {
		text, _ := json.Marshal(line)
		if len(text) > 2048 {
			t.Errorf("log line %d is %d bytes: what a request carries must be capped: %.300s…", i, len(text), text)
		}
	}
	var sawTruncated bool
	for _, line := range ta.log.lines(t) {
		if strings.HasPrefix(fmt.Sprint(line["method"]), long[:100]) || strings.HasPrefix(fmt.Sprint(line["path"]), longPath[:100]) {
			if line["truncated"] != true {
				t.Errorf("a capped method or path must say so (truncated: true): %v", line)
			}
			sawTruncated = true
		}
	}
	if !sawTruncated {
		t.Error("the long method and path left no log line")
	}
}

// TestAPIAnswersJSONForEveryError: nothing under /api answers HTML (issue
// 12, point 13), not even a path no route knows or a method none accepts.
func TestAPIAnswersJSONForEveryError(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	for _, tc := range []struct {
		method, target string
		status         int
		allow          string
	}{
		{http.MethodGet, "/api/ok/", http.StatusNotFound, ""},
		{http.MethodGet, "/api/no/such/thing", http.StatusNotFound, ""},
		{http.MethodGet, "/api", http.StatusNotFound, ""},
		{http.MethodOptions, "/api/ok", http.StatusMethodNotAllowed, "GET"},
		{http.MethodDelete, "/api/ok", http.StatusMethodNotAllowed, "GET"},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			r := ta.do(t, tc.method, tc.target, nil)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d; body:\n%s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want JSON; body:\n%s", ct, r.body)
			}
			var e struct {
				Error struct {
					Status         int
					Title, Message string
				}
			}
			if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error.Status != tc.status || e.Error.Message == "" {
				t.Errorf("body %q (%v), want {error:{status,title,message}}", r.body, err)
			}
			if tc.allow != "" && !strings.Contains(r.header.Get("Allow"), tc.allow) {
				t.Errorf("Allow = %q, want it to list %s", r.header.Get("Allow"), tc.allow)
			}
		})
	}
	// Pages outside /api keep their HTML error pages.
	if r := ta.do(t, http.MethodGet, "/apiary", nil); !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("/apiary 404 Content-Type = %q, want an HTML page", r.header.Get("Content-Type"))
	}
}

// TestDefaultTrustedProxiesAreLoopbackOnly: with TRUSTED_PROXIES unset, a
// peer on a private network that is not the configured proxy cannot choose
// its own address with X-Forwarded-For (issue 12, point 11): the address
// the per-address sign-in limit and the log use stays the peer's.
func TestDefaultTrustedProxiesAreLoopbackOnly(t *testing.T) {
	t.Parallel()
	cfg, err := configFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	ta := newTestAppConfig(t, nil, cfg)
	for _, tc := range []struct {
		path, remote, want string
	}{
		{"/from-loopback-gateway", "127.0.0.1:40000", "198.51.100.7"},
		{"/from-loopback-v6", "[::1]:40000", "198.51.100.7"},
		{"/from-compose-neighbour", "172.18.0.9:40000", "172.18.0.9"},
		{"/from-vpc-neighbour", "10.0.3.7:40000", "10.0.3.7"},
		{"/from-home-network", "192.168.1.20:40000", "192.168.1.20"},
		{"/from-internet", "203.0.113.9:40000", "203.0.113.9"},
	} {
		ta.engine.ServeHTTP(discard{}, httptestRequest(tc.path, tc.remote))
		if got := ta.log.requestLine(t, tc.path)["client_ip"]; got != tc.want {
			t.Errorf("client_ip from %s with X-Forwarded-For 198.51.100.7 = %v, want %s", tc.remote, got, tc.want)
		}
	}
	// The load balancers set X-Forwarded-For only; X-Real-IP is whatever
	// the client sent, even through a trusted proxy.
	req := httptestRequest("/real-ip-from-client", "127.0.0.1:40000")
	req.Header.Set("X-Forwarded-For", "unknown")
	req.Header.Set("X-Real-IP", "198.51.100.66")
	ta.engine.ServeHTTP(discard{}, req)
	if got := ta.log.requestLine(t, "/real-ip-from-client")["client_ip"]; got != "127.0.0.1" {
		t.Errorf("client_ip with a client's X-Real-IP = %v, want the peer 127.0.0.1", got)
	}
}

// metricsRequest asks the metrics port for path with the given Host.
func metricsRequest(path, host string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = host
	req.RemoteAddr = "127.0.0.1:50000"
	return req
}

// TestMetricsPortAnswersOnlyExpectedHosts: a web page whose name was
// rebound to 127.0.0.1 (DNS rebinding) reaches the metrics port with its own
// name as Host; only loopback names, IP literals (how a scraper finds a
// task) and this machine's own name are answered (issue 12, point 12).
func TestMetricsPortAnswersOnlyExpectedHosts(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	h := ta.metrics.Handler(Config{})
	for _, tc := range []struct {
		host   string
		status int
	}{
		{"127.0.0.1:9090", http.StatusOK},
		{"[::1]:9090", http.StatusOK},
		{"localhost:9090", http.StatusOK},
		{"LOCALHOST", http.StatusOK},
		{"10.0.3.7:9090", http.StatusOK}, // a scraper in the VPC, by task IP
		{"evil.example:9090", http.StatusMisdirectedRequest},
		{"rebind.attacker.example", http.StatusMisdirectedRequest},
		{"localhost.attacker.example:9090", http.StatusMisdirectedRequest},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, metricsRequest("/metrics", tc.host))
		if rec.Code != tc.status {
			t.Errorf("Host %q: /metrics = %d, want %d", tc.host, rec.Code, tc.status)
		}
		if tc.status != http.StatusOK && strings.Contains(rec.Body.String(), "go_goroutines") {
			t.Errorf("Host %q: refused, yet the metrics were sent", tc.host)
		}
	}
}

// TestPprofOnlyWhenAskedFor: profiles (which can stall a service for
// seconds and show its memory) are served only with PPROF=1.
func TestPprofOnlyWhenAskedFor(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	off, err := configFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	on, err := configFrom(map[string]string{"PPROF": "1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		cfg    Config
		status int
	}{{"default", off, http.StatusNotFound}, {"PPROF=1", on, http.StatusOK}} {
		rec := httptest.NewRecorder()
		ta.metrics.Handler(tc.cfg).ServeHTTP(rec, metricsRequest("/debug/pprof/", "127.0.0.1:9090"))
		if rec.Code != tc.status {
			t.Errorf("%s: /debug/pprof/ = %d, want %d", tc.name, rec.Code, tc.status)
		}
	}
	if _, err := configFrom(map[string]string{"PPROF": "yes please"}); err == nil || !strings.Contains(err.Error(), "PPROF") {
		t.Errorf("PPROF=yes please: err = %v, want one naming PPROF", err)
	}
}

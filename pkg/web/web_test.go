package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	custom := &Error{Status: http.StatusTeapot, Title: "Teapot", Message: "short and stout"}
	for _, tc := range []struct {
		name   string
		err    error
		status int
	}{
		{"own error passes through", fmt.Errorf("wrapped: %w", custom), http.StatusTeapot},
		{"body too large", &http.MaxBytesError{Limit: MaxBodyBytes}, http.StatusRequestEntityTooLarge},
		{"bad id", fmt.Errorf("parse: %w", suppliers.ErrInvalidID), http.StatusBadRequest},
		{"not found", fmt.Errorf("supplier 9: %w", suppliers.ErrNotFound), http.StatusNotFound},
		{"bad query", &suppliers.QueryError{Param: "page", Message: "page must be a whole number from 1"}, http.StatusBadRequest},
		{"bad fields", suppliers.FieldErrors{"name": "Name is required."}, http.StatusBadRequest},
		{"conflict", &suppliers.ConflictError{Current: suppliers.Supplier{ID: 1, Version: 3}}, http.StatusConflict},
		{"database down", fmt.Errorf("list: %w: %w", suppliers.ErrUnavailable, errors.New("dial tcp: refused")), http.StatusServiceUnavailable},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{"anything else", errors.New("secret internal detail"), http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := Classify(tc.err)
			if e.Status != tc.status {
				t.Fatalf("Classify(%v).Status = %d, want %d", tc.err, e.Status, tc.status)
			}
			if e.Title == "" || e.Message == "" {
				t.Errorf("Classify(%v) = %+v, want a title and a message", tc.err, e)
			}
			if e.Status >= 500 && (strings.Contains(e.Message, "secret") || strings.Contains(e.Message, "refused")) {
				t.Errorf("5xx message %q shows internals", e.Message)
			}
			if e.Status != http.StatusTeapot && fmt.Sprint(e.Err) != fmt.Sprint(tc.err) {
				t.Errorf("Classify dropped the cause %v (it must reach the log)", tc.err)
			}
		})
	}
	if e := Classify(suppliers.FieldErrors{"name": "Name is required."}); !strings.Contains(e.Message, "Name is required.") {
		t.Errorf("field errors message %q should tell the employee what to fix", e.Message)
	}
}

func TestEtagMatches(t *testing.T) {
	t.Parallel()
	const etag = `"abc"`
	for header, want := range map[string]bool{
		"":                    false,
		`"abc"`:               true,
		`W/"abc"`:             true,
		`"x", "abc"`:          true,
		`"x",W/"abc"`:         true,
		"*":                   true,
		`"abcd"`:              false,
		`abc`:                 false,
		`"ABC"`:               false,
		`"x", "y"`:            false,
		`"abc`:                false,
		`  "abc"  , "other" `: true,
	} {
		if got := etagMatches(header, etag); got != want {
			t.Errorf("etagMatches(%q, %q) = %v, want %v", header, etag, got, want)
		}
	}
}

func TestPageURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		search string
		page   int
		want   string
	}{
		{"", 1, "?"},
		{"", 2, "?page=2"},
		{"kona", 1, "?q=kona"},
		{"kona", 3, "?page=3&q=kona"},
		{"café & co", 1, "?q=caf%C3%A9+%26+co"},
		{`"><script>`, 2, "?page=2&q=%22%3E%3Cscript%3E"},
	} {
		if got := pageURL(suppliers.List{Search: tc.search}, tc.page); got != tc.want {
			t.Errorf("pageURL(%q, %d) = %q, want %q", tc.search, tc.page, got, tc.want)
		}
	}
}

var wantSecurityHeaders = map[string]string{
	"Content-Security-Policy":      "default-src 'none'",
	"X-Content-Type-Options":       "nosniff",
	"X-Frame-Options":              "DENY",
	"Referrer-Policy":              "same-origin",
	"Permissions-Policy":           "camera=()",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	for _, target := range []string{"/hello", "/no/such/page", "/panic", "/api/ok", "/api/fail", "/healthz", "/readyz", "/static/style.css"} {
		t.Run(target, func(t *testing.T) {
			r := ta.do(t, http.MethodGet, target, nil, "Origin", "https://evil.example")
			for name, want := range wantSecurityHeaders {
				if got := r.header.Get(name); !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", name, got, want)
				}
			}
			for name := range r.header {
				if strings.HasPrefix(name, "Access-Control-") {
					t.Errorf("CORS header %s = %q: cross-origin reads must not be allowed", name, r.header.Get(name))
				}
			}
			if got := r.header.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("HSTS %q on plain HTTP", got)
			}
		})
	}
	// A scheme's name is case-insensitive (RFC 3986 §3.1), whatever case
	// the load balancer writes it in.
	for _, proto := range []string{"https", "HTTPS", "Https"} {
		r := ta.do(t, http.MethodGet, "/hello", nil, "X-Forwarded-Proto", proto)
		if got := r.header.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=") {
			t.Errorf("HSTS = %q behind a load balancer saying X-Forwarded-Proto: %s, want max-age", got, proto)
		}
	}
}

func TestPagesAndETags(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	r := ta.do(t, http.MethodGet, "/hello?name=%3Cb%3EO%27Brien+%26+Sons%3C%2Fb%3E", nil)
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /hello = %d %s", r.status, r.header.Get("Content-Type"))
	}
	if !strings.Contains(r.body, `<p class="greeting">&lt;b&gt;O&#39;Brien &amp; Sons&lt;/b&gt;</p>`) {
		t.Errorf("page does not escape its data exactly once:\n%s", r.body)
	}
	if r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache so browsers revalidate", r.header.Get("Cache-Control"))
	}
	etag := r.header.Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-z-]+"$`).MatchString(etag) {
		t.Fatalf("ETag = %q, want a quoted strong tag", etag)
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag} {
		r2 := ta.do(t, http.MethodGet, "/hello?name=%3Cb%3EO%27Brien+%26+Sons%3C%2Fb%3E", nil, "If-None-Match", inm)
		if r2.status != http.StatusNotModified || r2.body != "" {
			t.Errorf("If-None-Match %s: %d with %d bytes, want 304 and no body", inm, r2.status, len(r2.body))
		}
		if r2.header.Get("ETag") != etag {
			t.Errorf("304 carries ETag %q, want %q", r2.header.Get("ETag"), etag)
		}
	}
	// Different content, different tag: the old tag no longer matches.
	r3 := ta.do(t, http.MethodGet, "/hello?name=other", nil, "If-None-Match", etag)
	if r3.status != http.StatusOK || r3.header.Get("ETag") == etag {
		t.Errorf("changed page: %d with ETag %q, want 200 and a new tag", r3.status, r3.header.Get("ETag"))
	}

	j := ta.do(t, http.MethodGet, "/api/ok", nil)
	if j.status != http.StatusOK || j.header.Get("Content-Type") != "application/json; charset=utf-8" || j.header.Get("ETag") == "" {
		t.Fatalf("GET /api/ok = %d %q ETag %q", j.status, j.header.Get("Content-Type"), j.header.Get("ETag"))
	}
	if j2 := ta.do(t, http.MethodGet, "/api/ok", nil, "If-None-Match", j.header.Get("ETag")); j2.status != http.StatusNotModified {
		t.Errorf("JSON revalidation = %d, want 304", j2.status)
	}
	// Error pages are never 304: a tag only applies to a 200.
	if e := ta.do(t, http.MethodGet, "/nope", nil, "If-None-Match", "*"); e.status != http.StatusNotFound || e.header.Get("ETag") != "" {
		t.Errorf("404 with If-None-Match: * = %d ETag %q, want 404 without ETag", e.status, e.header.Get("ETag"))
	}
}

func TestErrorPages(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	for _, tc := range []struct {
		method, target string
		status         int
		wantText       string
		json           bool
	}{
		{http.MethodGet, "/no/such/page", http.StatusNotFound, "Page not found", false},
		{http.MethodGet, "/static/layout.html", http.StatusNotFound, "no such file", false},
		{http.MethodGet, "/static/../ui/layout.html", http.StatusNotFound, "", false},
		{http.MethodPost, "/hello", http.StatusMethodNotAllowed, "does not accept POST", false},
		{http.MethodGet, "/fail", http.StatusInternalServerError, "Something went wrong", false},
		{http.MethodGet, "/panic", http.StatusInternalServerError, "Something went wrong", false},
		{http.MethodGet, "/broken", http.StatusInternalServerError, "Something went wrong", false},
		{http.MethodGet, "/api/fail", http.StatusInternalServerError, "Something went wrong", true},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			r := ta.do(t, tc.method, tc.target, nil, "X-Request-Id", "trace-"+fmt.Sprint(tc.status))
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d; body:\n%s", r.status, tc.status, r.body)
			}
			if strings.Contains(r.body, "secret") || strings.Contains(r.body, "half a page") || strings.Contains(r.body, "Missing") {
				t.Errorf("error response shows internals or a half-rendered page:\n%s", r.body)
			}
			if !strings.Contains(r.body, tc.wantText) {
				t.Errorf("body lacks %q:\n%s", tc.wantText, r.body)
			}
			if tc.json {
				var e struct {
					Error struct {
						Status         int
						Title, Message string
					}
				}
				if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error.Status != tc.status || e.Error.Message == "" {
					t.Errorf("JSON error body %q (%v), want {error:{status,title,message}}", r.body, err)
				}
				return
			}
			if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "</html>") {
				t.Errorf("want a whole HTML page, got %q:\n%s", r.header.Get("Content-Type"), r.body)
			}
			if tc.status >= 500 && !strings.Contains(r.body, "trace-"+fmt.Sprint(tc.status)) {
				t.Errorf("5xx page should quote the request id for support:\n%s", r.body)
			}
		})
	}
	// The cause reaches the log, once, with the panic's text.
	line := ta.log.requestLine(t, "/panic")
	if line["status"] != float64(500) || !strings.Contains(fmt.Sprint(line["error"]), "secret panic text") {
		t.Errorf("panic log line = %v, want status 500 and the panic in error", line)
	}
	if line["level"] != "ERROR" {
		t.Errorf("5xx logged at %v, want ERROR", line["level"])
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		ping  error
		ready int
	}{
		{"database up", nil, http.StatusOK},
		{"database down", errors.New("dial tcp: connection refused"), http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ta := newTestApp(t, tc.ping)
			if r := ta.do(t, http.MethodGet, "/healthz", nil); r.status != http.StatusOK {
				t.Errorf("/healthz = %d, want 200 whatever the database does", r.status)
			}
			r := ta.do(t, http.MethodGet, "/readyz", nil)
			if r.status != tc.ready {
				t.Errorf("/readyz = %d, want %d", r.status, tc.ready)
			}
			if strings.Contains(r.body, "refused") {
				t.Errorf("/readyz shows internals: %s", r.body)
			}
			if line := ta.log.requestLine(t, "/readyz"); tc.ping == nil && line["level"] != "DEBUG" {
				t.Errorf("/readyz logged at %v, want DEBUG (health checks would drown the log)", line["level"])
			}
		})
	}
}

func TestParseForm(t *testing.T) {
	t.Parallel()
	const form = "application/x-www-form-urlencoded"
	big := "name=" + strings.Repeat("a", MaxBodyBytes)
	for _, tc := range []struct {
		name        string
		contentType string
		body        io.Reader
		status      int
	}{
		{"form", form, strings.NewReader("name=Acme"), http.StatusOK},
		{"form with charset", form + "; charset=UTF-8", strings.NewReader("name=Acme"), http.StatusOK},
		{"declared too large", form, strings.NewReader(big), http.StatusRequestEntityTooLarge},
		{"chunked too large", form, io.MultiReader(strings.NewReader(big)), http.StatusRequestEntityTooLarge},
		{"multipart", "multipart/form-data; boundary=x", strings.NewReader("--x--"), http.StatusUnsupportedMediaType},
		{"json", "application/json", strings.NewReader(`{"name":"Acme"}`), http.StatusUnsupportedMediaType},
		{"no content type", "", strings.NewReader("name=Acme"), http.StatusUnsupportedMediaType},
		{"malformed", form, strings.NewReader("name=%zz"), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ta := newTestApp(t, nil)
			r := ta.do(t, http.MethodPost, "/form", tc.body, "Content-Type", tc.contentType)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d; body:\n%s", r.status, tc.status, r.body)
			}
			if tc.status == http.StatusOK && r.body != "name=Acme" {
				t.Errorf("body = %q, want the form's value", r.body)
			}
		})
	}
}

func TestRequestLogKeepsSecretsOut(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	r := ta.do(t, http.MethodPost, "/form?token=qz-sekrit-query", strings.NewReader("name=Acme&password=hunter2"),
		"Content-Type", "application/x-www-form-urlencoded",
		"Cookie", "session=sekrit-cookie-value",
		"Authorization", "Bearer sekrit-bearer-value",
		"X-Request-Id", "req-42")
	if r.status != http.StatusOK {
		t.Fatalf("POST /form = %d", r.status)
	}
	line := ta.log.requestLine(t, "/form")
	want := map[string]any{"msg": "request", "service": "test", "request_id": "req-42", "method": "POST",
		"route": "/form", "status": float64(200), "level": "INFO"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if d, ok := line["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("duration_ms = %v, want a non-negative number", line["duration_ms"])
	}
	// The error paths too: a made-up method (405, OTHER in the metrics), an
	// unknown API path (JSON 404), an over-long path (cut in the log).
	for _, m := range []struct{ method, target string }{
		{"MADEUPMETHOD", "/hello?token=qz-sekrit-query"},
		{http.MethodGet, "/api/nothing?token=qz-sekrit-query"},
		{http.MethodOptions, "/api/ok?token=qz-sekrit-query"},
		{http.MethodGet, "/" + strings.Repeat("p", 600) + "?token=qz-sekrit-query"},
	} {
		ta.do(t, m.method, m.target, nil, "Cookie", "session=sekrit-cookie-value", "Authorization", "Bearer sekrit-bearer-value")
	}
	all := ta.log.String()
	// Every secret is a word no log field could hold by chance (a random
	// hex request ID once held "abc").
	for _, secret := range []string{"token", "qz-sekrit-query", "hunter2", "password", "sekrit", "Bearer", "session="} {
		if strings.Contains(all, secret) {
			t.Errorf("log contains %q:\n%s", secret, all)
		}
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	generated := regexp.MustCompile(`^[0-9a-f]{24}$`)
	for _, tc := range []struct {
		name, sent string
		kept       bool
	}{
		{"load balancer trace id", "Root=1-67891233-abcdef012345678912345678", true},
		{"uuid", "7f9c2ba4-e88f-4c1b-8f6e-1d2b3c4d5e6f", true},
		{"missing", "", false},
		{"spaces", "two words", false},
		{"markup", "<script>alert(1)</script>", false},
		{"log injection", `x","status":200,"y":"`, false},
		{"too long", strings.Repeat("a", 129), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/hello/" + strings.ReplaceAll(tc.name, " ", "-")
			r := ta.do(t, http.MethodGet, path, nil, "X-Request-Id", tc.sent)
			got := r.header.Get("X-Request-Id")
			if tc.kept && got != tc.sent {
				t.Errorf("X-Request-Id = %q, want the caller's %q", got, tc.sent)
			}
			if !tc.kept && !generated.MatchString(got) {
				t.Errorf("X-Request-Id = %q for %q, want a fresh id", got, tc.sent)
			}
			if line := ta.log.requestLine(t, path); line["request_id"] != got {
				t.Errorf("log request_id = %v, response says %q", line["request_id"], got)
			}
			if !strings.Contains(r.body, got) {
				t.Errorf("404 page does not show reference %q", got)
			}
		})
	}
	a := ta.do(t, http.MethodGet, "/healthz", nil).header.Get("X-Request-Id")
	b := ta.do(t, http.MethodGet, "/healthz", nil).header.Get("X-Request-Id")
	if a == b {
		t.Errorf("two requests got the same id %q", a)
	}
}

func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	for _, tc := range []struct {
		path, remote, want string
	}{
		{"/from-proxy", "127.0.0.1:40000", "198.51.100.7"},
		{"/from-internet", "203.0.113.9:40000", "203.0.113.9"},
	} {
		req := httptestRequest(tc.path, tc.remote)
		ta.engine.ServeHTTP(discard{}, req)
		if got := ta.log.requestLine(t, tc.path)["client_ip"]; got != tc.want {
			t.Errorf("client_ip from %s with X-Forwarded-For = %v, want %s", tc.remote, got, tc.want)
		}
	}
}

func TestStaticFiles(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	r := ta.do(t, http.MethodGet, "/static/style.css", nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/css; charset=utf-8" || r.body == "" {
		t.Fatalf("style sheet: %d %q, %d bytes", r.status, r.header.Get("Content-Type"), len(r.body))
	}
	if r.header.Get("ETag") == "" || !strings.Contains(r.header.Get("Cache-Control"), "max-age") {
		t.Errorf("style sheet caching: ETag %q, Cache-Control %q", r.header.Get("ETag"), r.header.Get("Cache-Control"))
	}
	if r2 := ta.do(t, http.MethodGet, "/static/style.css", nil, "If-None-Match", r.header.Get("ETag")); r2.status != http.StatusNotModified {
		t.Errorf("style sheet revalidation = %d, want 304", r2.status)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	ta.do(t, http.MethodGet, "/hello", nil)
	ta.do(t, http.MethodGet, "/hello", nil)
	ta.do(t, http.MethodGet, "/random/scanner/path", nil)
	ta.do(t, http.MethodGet, "/panic", nil)
	if r := ta.do(t, http.MethodGet, "/metrics", nil); r.status != http.StatusNotFound {
		t.Errorf("/metrics on the application port = %d, want 404 (metrics are private)", r.status)
	}
	rec := newRecorder()
	ta.metrics.Handler(Config{Pprof: true}).ServeHTTP(rec, metricsRequest("/metrics", "127.0.0.1:9090"))
	body := rec.Body.String()
	for _, want := range []string{
		`http_requests_total{method="GET",route="/hello",status="200"} 2`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 2`, // the scanner and /metrics
		`http_requests_total{method="GET",route="/panic",status="500"} 1`,
		`http_request_duration_seconds_bucket{method="GET",route="/hello",le="0.005"}`,
		`http_request_duration_seconds_count{method="GET",route="/hello"} 2`,
		`go_sql_max_open_connections{db_name="test"}`,
		`go_sql_in_use_connections{db_name="test"}`,
		`coffee_build_info{goversion="go`,
		`service="test"`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "scanner") {
		t.Error("an unknown path became a metric label")
	}
	pprof := newRecorder()
	ta.metrics.Handler(Config{Pprof: true}).ServeHTTP(pprof, metricsRequest("/debug/pprof/", "127.0.0.1:9090"))
	if pprof.Code != http.StatusOK {
		t.Errorf("/debug/pprof/ on the metrics port with PPROF=1 = %d, want 200", pprof.Code)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	cfg, err := configFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 8080 || cfg.MetricsPort != 9090 || cfg.ShutdownTimeout.Seconds() != 20 || cfg.LogLevel.String() != "INFO" || len(cfg.TrustedProxies) != 2 {
		t.Errorf("defaults = %+v", cfg)
	}
	for _, tc := range []struct {
		vars map[string]string
		name string
	}{
		{map[string]string{"PORT": "http"}, "PORT"},
		{map[string]string{"PORT": "8000", "METRICS_PORT": "8000"}, "METRICS_PORT"},
		{map[string]string{"SHUTDOWN_TIMEOUT": "45"}, "SHUTDOWN_TIMEOUT"},
		{map[string]string{"TRUSTED_PROXIES": "alb"}, "TRUSTED_PROXIES"},
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
	} {
		if _, err := configFrom(tc.vars); err == nil || !strings.Contains(err.Error(), tc.name+": ") {
			t.Errorf("%v: err = %v, want it to name %s", tc.vars, err, tc.name)
		}
	}
	if cfg, err := configFrom(map[string]string{"LOG_LEVEL": "debug", "PORT": "0", "METRICS_PORT": "0"}); err != nil || cfg.LogLevel.String() != "DEBUG" {
		t.Errorf("LOG_LEVEL=debug, ports 0: %+v, %v", cfg, err)
	}
}

func TestCrossSiteFormPostsAreRefused(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	const form = "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name   string
		method string
		target string
		header []string
		status int
	}{
		{"no browser headers (curl)", http.MethodPost, "/form", nil, http.StatusOK},
		{"same origin", http.MethodPost, "/form", []string{"Sec-Fetch-Site", "same-origin"}, http.StatusOK},
		{"user typed it", http.MethodPost, "/form", []string{"Sec-Fetch-Site", "none"}, http.StatusOK},
		{"matching Origin", http.MethodPost, "/form", []string{"Origin", "http://example.com"}, http.StatusOK},
		{"cross-site", http.MethodPost, "/form", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"same site, other origin", http.MethodPost, "/form", []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"foreign Origin", http.MethodPost, "/form", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"cross-site read is fine", http.MethodGet, "/hello", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.method == http.MethodPost {
				body = strings.NewReader("name=Acme")
			}
			r := ta.do(t, tc.method, tc.target, body, append([]string{"Content-Type", form}, tc.header...)...)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d; body:\n%s", r.status, tc.status, r.body)
			}
			if tc.status == http.StatusForbidden && (!strings.Contains(r.body, "another site") || strings.Contains(r.body, "name=Acme")) {
				t.Errorf("refusal page should explain and not run the handler:\n%s", r.body)
			}
		})
	}
}

package server_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webtest"
	"github.com/coffee-suppliers/coffee-suppliers/services/customer/server"
)

// catalogue is a customer service over its own migrated database, reached
// through a read-only account like production's, plus an admin store to
// arrange data with.
type catalogue struct {
	handler http.Handler
	svc     *web.Service
	admin   *suppliers.Store
	clock   *webtest.Clock
}

func webConfig() web.Config {
	return web.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newCatalogue(t testing.TB) *catalogue {
	t.Helper()
	d := suppliertest.NewDatabase(t)
	adminDB := d.Open(t)
	if _, err := suppliers.Migrate(t.Context(), adminDB); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	reader := d.CreateUser(t, "cat_"+d.Name[len(d.Name)-8:], "catalogue-Pass-1", suppliers.CustomerGrants(d.Name)...)
	// The page cache is on, as in production, on a clock the tests move.
	clock := webtest.NewClock(time.Now())
	cfg := webConfig()
	cfg.PageCacheTTL, cfg.Clock = web.DefaultPageCacheTTL, clock.Now
	svc, err := server.New(server.Deps{Log: quietLog(), Web: cfg, DB: reader.Open(t)})
	if err != nil {
		t.Fatal(err)
	}
	return &catalogue{handler: svc.Handler(), svc: svc, admin: suppliers.NewStore(adminDB, 30*time.Second), clock: clock}
}

func (c *catalogue) add(t testing.TB, name, city string) suppliers.Supplier {
	t.Helper()
	s, err := c.admin.Create(t.Context(), suppliers.Actor{ID: 1, Email: "tester@coffee-suppliers.example"}, suppliers.Input{Name: name, Address: "1 Main Street", City: city, State: "WA",
		Email: "orders@example.com", Phone: "+1 206 555 0100"})
	if err != nil {
		t.Fatalf("create %q: %v", name, err)
	}
	return s
}

type response struct {
	status int
	header http.Header
	body   string
}

// get requests target; header pairs are name, value.
func get(t *testing.T, h http.Handler, target string, header ...string) response {
	t.Helper()
	return request(t, h, http.MethodGet, target, header...)
}

func request(t *testing.T, h http.Handler, method, target string, header ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Result().Header, rec.Body.String()}
}

func (r response) want(t *testing.T, status int, contentType string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body:\n%s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, contentType) {
		t.Fatalf("Content-Type = %q, want %s", ct, contentType)
	}
}

func (r response) contains(t *testing.T, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.body, p) {
			t.Errorf("body lacks %q:\n%s", p, r.body)
		}
	}
}

func (r response) lacks(t *testing.T, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(r.body, p) {
			t.Errorf("body contains %q:\n%s", p, r.body)
		}
	}
}

// tableNames returns the Name cells of a supplier table, unescaped.
func tableNames(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<td data-label="Name">(.*?)</td>`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestHome(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	r := get(t, c.handler, "/")
	r.want(t, http.StatusOK, "text/html; charset=utf-8")
	r.contains(t, "Find a coffee supplier", `action="/suppliers"`, `href="/suppliers"`, `href="/api/openapi.json"`,
		`<a href="/" aria-current="page">Home</a>`, `href="/static/style.css"`)
	if css := get(t, c.handler, "/static/style.css"); css.status != http.StatusOK {
		t.Errorf("the page's style sheet answers %d", css.status)
	}
}

func TestSupplierListPagesAndSearch(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	for i := range 45 {
		c.add(t, fmt.Sprintf("Supplier %02d", 44-i), "Seattle")
	}
	c.add(t, "Kona Roasters", "Kailua-Kona")

	for _, tc := range []struct {
		target string
		names  []string
		parts  []string
		absent []string
	}{
		{"/suppliers", nil, []string{"Showing 1–20 of 46 suppliers.", "Page 1 of 3", `rel="next" href="?page=2"`,
			`<a href="/suppliers" aria-current="page">Suppliers</a>`}, []string{`rel="prev"`}},
		{"/suppliers?page=2", nil, []string{"Showing 21–40 of 46", `rel="prev" href="?"`, `rel="next" href="?page=3"`}, nil},
		{"/suppliers?page=3", []string{"Supplier 39", "Supplier 40", "Supplier 41", "Supplier 42", "Supplier 43", "Supplier 44"},
			[]string{"Showing 41–46 of 46"}, []string{`rel="next"`}},
		{"/suppliers?q=KONA", []string{"Kona Roasters"}, []string{"Showing 1–1 of 1 supplier matching “KONA”.", `value="KONA"`}, []string{`class="pager"`}},
		{"/suppliers?q=supplier+4&page=1", []string{"Supplier 40", "Supplier 41", "Supplier 42", "Supplier 43", "Supplier 44"}, []string{"Showing 1–5 of 5"}, []string{"Supplier 04"}},
		{"/suppliers?q=seattle&page=3", nil, []string{"Showing 41–45 of 45 suppliers matching “seattle”", `rel="prev" href="?page=2&amp;q=seattle"`}, nil},
		{"/suppliers?q=nothing+like+this", []string{}, []string{"No suppliers match “nothing like this”."}, []string{"<table>"}},
		{"/suppliers?page=9", []string{}, []string{"past the end of the list", `href="?"`}, []string{"<table>"}},
	} {
		t.Run(tc.target, func(t *testing.T) {
			r := get(t, c.handler, tc.target)
			r.want(t, http.StatusOK, "text/html; charset=utf-8")
			r.contains(t, tc.parts...)
			r.lacks(t, tc.absent...)
			if tc.names != nil {
				if got := tableNames(r.body); !slices.Equal(got, tc.names) && !(len(got) == 0 && len(tc.names) == 0) {
					t.Errorf("rows = %q, want %q", got, tc.names)
				}
			}
		})
	}
	first := tableNames(get(t, c.handler, "/suppliers").body)
	if len(first) != 20 || first[0] != "Kona Roasters" || first[1] != "Supplier 00" {
		t.Errorf("first page = %q, want 20 suppliers in name order", first)
	}
}

func TestBadListParameters(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	for _, target := range []string{"/suppliers?page=abc", "/suppliers?page=0", "/suppliers?page=-2", "/suppliers?page=1.5",
		"/suppliers?q=" + strings.Repeat("x", 256), "/suppliers?q=%ff"} {
		t.Run(target[:min(len(target), 40)], func(t *testing.T) {
			r := get(t, c.handler, target)
			r.want(t, http.StatusBadRequest, "text/html; charset=utf-8")
			r.contains(t, "Bad search or page", "Go to the start page")
		})
	}
}

func TestFreshnessWithETags(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	s := c.add(t, "Blue Ridge Coffee", "Seattle")
	for _, target := range []string{"/suppliers", "/api/suppliers", fmt.Sprintf("/api/suppliers/%d", s.ID)} {
		t.Run(target, func(t *testing.T) {
			first := get(t, c.handler, target)
			etag := first.header.Get("ETag")
			if first.status != http.StatusOK || etag == "" {
				t.Fatalf("GET = %d with ETag %q, want 200 and a tag", first.status, etag)
			}
			if cc := first.header.Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache so every view revalidates", cc)
			}
			again := get(t, c.handler, target, "If-None-Match", etag)
			if again.status != http.StatusNotModified || again.body != "" {
				t.Fatalf("revalidation = %d with %d bytes, want 304 and no body", again.status, len(again.body))
			}
		})
	}

	// An employee renames the supplier: every cached view must refresh.
	tags := map[string]string{}
	for _, target := range []string{"/suppliers", "/api/suppliers", fmt.Sprintf("/api/suppliers/%d", s.ID)} {
		tags[target] = get(t, c.handler, target).header.Get("ETag")
	}
	in := s.Input()
	in.Name = "Blue Ridge Coffee Roasters"
	if _, err := c.admin.Update(t.Context(), suppliers.Actor{ID: 1, Email: "tester@coffee-suppliers.example"}, s.ID, s.Version, in); err != nil {
		t.Fatal(err)
	}
	// The list page may be kept for the page cache's time to live, never
	// longer.
	c.clock.Advance(web.DefaultPageCacheTTL)
	for target, etag := range tags {
		r := get(t, c.handler, target, "If-None-Match", etag)
		if r.status != http.StatusOK || !strings.Contains(r.body, "Blue Ridge Coffee Roasters") || r.header.Get("ETag") == etag {
			t.Errorf("%s after an update: %d, ETag %q (was %q); want 200 with the new name and a new tag", target, r.status, r.header.Get("ETag"), etag)
		}
	}
}

// openAPI is the part of the embedded OpenAPI document the tests read.
type openAPI struct {
	OpenAPI    string                    `json:"openapi"`
	Paths      map[string]map[string]any `json:"paths"`
	Components struct {
		Schemas map[string]schema `json:"schemas"`
	} `json:"components"`
}

type schema struct {
	Type                 string            `json:"type"`
	Required             []string          `json:"required"`
	Properties           map[string]schema `json:"properties"`
	Items                *schema           `json:"items"`
	Ref                  string            `json:"$ref"`
	AdditionalProperties *bool             `json:"additionalProperties"`
	MaxLength            int               `json:"maxLength"`
	Minimum              *float64          `json:"minimum"`
	Maximum              *float64          `json:"maximum"`
}

func loadOpenAPI(t *testing.T, h http.Handler) openAPI {
	t.Helper()
	r := get(t, h, "/api/openapi.json")
	r.want(t, http.StatusOK, "application/json")
	var doc openAPI
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("/api/openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// conform checks v against s: types, required properties, no extra ones
// where additionalProperties is false, string lengths and number bounds.
func conform(t *testing.T, doc openAPI, s schema, v any, at string) {
	t.Helper()
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		ref, ok := doc.Components.Schemas[name]
		if !ok {
			t.Fatalf("%s: unresolved $ref %s", at, s.Ref)
		}
		s = ref
	}
	switch s.Type {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s = %v, want an object", at, v)
			return
		}
		for _, req := range s.Required {
			if _, ok := obj[req]; !ok {
				t.Errorf("%s lacks required property %q", at, req)
			}
		}
		for k, pv := range obj {
			ps, ok := s.Properties[k]
			if !ok {
				if s.AdditionalProperties != nil && !*s.AdditionalProperties {
					t.Errorf("%s has property %q the schema does not declare", at, k)
				}
				continue
			}
			conform(t, doc, ps, pv, at+"."+k)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			t.Errorf("%s = %v, want an array (never null)", at, v)
			return
		}
		for i, item := range arr {
			conform(t, doc, *s.Items, item, fmt.Sprintf("%s[%d]", at, i))
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			t.Errorf("%s = %v, want a string", at, v)
			return
		}
		if s.MaxLength > 0 && utf8.RuneCountInString(str) > s.MaxLength {
			t.Errorf("%s has %d characters, schema allows %d", at, utf8.RuneCountInString(str), s.MaxLength)
		}
	case "integer":
		n, ok := v.(float64)
		if !ok || n != float64(int64(n)) {
			t.Errorf("%s = %v, want an integer", at, v)
			return
		}
		if s.Minimum != nil && n < *s.Minimum || s.Maximum != nil && n > *s.Maximum {
			t.Errorf("%s = %v, outside the schema's bounds", at, n)
		}
	default:
		t.Fatalf("%s: schema type %q not handled by this test", at, s.Type)
	}
}

func decode(t *testing.T, r response) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, r.body)
	}
	return v
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	doc := loadOpenAPI(t, c.handler)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	var paths []string
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"/api/suppliers", "/api/suppliers/{id}"}) {
		t.Errorf("paths = %q, want the list and the item", paths)
	}
	for _, name := range []string{"Supplier", "SupplierList", "Error"} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("schema %s missing", name)
		}
	}
	// The document's limits are the domain's.
	sup := doc.Components.Schemas["Supplier"]
	for _, f := range suppliers.Fields {
		if got := sup.Properties[f.Name].MaxLength; got != f.MaxChars {
			t.Errorf("Supplier.%s maxLength = %d, the store allows %d", f.Name, got, f.MaxChars)
		}
	}
}

func TestAPIMatchesOpenAPI(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	doc := loadOpenAPI(t, c.handler)
	list, item, apiErr := schema{Ref: "#/components/schemas/SupplierList"}, schema{Ref: "#/components/schemas/Supplier"}, schema{Ref: "#/components/schemas/Error"}
	s := c.add(t, strings.Repeat("é", 255), "Seattle")
	for i := range 5 {
		c.add(t, fmt.Sprintf("Kona %d", i), "Kailua-Kona")
	}

	for _, tc := range []struct {
		target string
		status int
		schema schema
	}{
		{"/api/suppliers", http.StatusOK, list},
		{"/api/suppliers?q=kona&page=2&per_page=2", http.StatusOK, list},
		{"/api/suppliers?per_page=100", http.StatusOK, list},
		{"/api/suppliers?q=none", http.StatusOK, list},
		{"/api/suppliers?page=50", http.StatusOK, list},
		{"/api/suppliers?per_page=0", http.StatusBadRequest, apiErr},
		{"/api/suppliers?per_page=101", http.StatusBadRequest, apiErr},
		{"/api/suppliers?per_page=all", http.StatusBadRequest, apiErr},
		{"/api/suppliers?page=0", http.StatusBadRequest, apiErr},
		{fmt.Sprintf("/api/suppliers/%d", s.ID), http.StatusOK, item},
		{"/api/suppliers/abc", http.StatusBadRequest, apiErr},
		{"/api/suppliers/0", http.StatusBadRequest, apiErr},
		{"/api/suppliers/007", http.StatusBadRequest, apiErr},
		{"/api/suppliers/2147483648", http.StatusBadRequest, apiErr},
		{"/api/suppliers/2147483647", http.StatusNotFound, apiErr},
		{"/api/suppliers/999999", http.StatusNotFound, apiErr},
	} {
		t.Run(tc.target, func(t *testing.T) {
			r := get(t, c.handler, tc.target)
			r.want(t, tc.status, "application/json; charset=utf-8")
			v := decode(t, r)
			conform(t, doc, tc.schema, v, "response")
			if tc.status != http.StatusOK {
				e := v.(map[string]any)["error"].(map[string]any)
				if e["status"] != float64(tc.status) {
					t.Errorf("error.status = %v, want %d", e["status"], tc.status)
				}
			}
		})
	}

	r := get(t, c.handler, "/api/suppliers?q=kona&page=2&per_page=2")
	var page struct{ Items []suppliers.Supplier }
	if err := json.Unmarshal([]byte(r.body), &page); err != nil {
		t.Fatal(err)
	}
	m := decode(t, r).(map[string]any)
	if m["page"] != 2.0 || m["per_page"] != 2.0 || m["total"] != 5.0 || m["total_pages"] != 3.0 || m["search"] != "kona" {
		t.Errorf("page fields = %v, want page 2 of 3, 2 per page, 5 in total, search kona", m)
	}
	if len(page.Items) != 2 || page.Items[0].Name != "Kona 2" || page.Items[1].Name != "Kona 3" {
		t.Errorf("items = %+v, want Kona 2 and Kona 3", page.Items)
	}
	var got suppliers.Supplier
	if err := json.Unmarshal([]byte(get(t, c.handler, fmt.Sprintf("/api/suppliers/%d", s.ID)).body), &got); err != nil || got != s {
		t.Errorf("GET /api/suppliers/%d = %+v, %v; want %+v", s.ID, got, err, s)
	}
}

func TestHTMLEscapesOnce(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	c.add(t, "O'Brien & Sons", "Seattle")
	c.add(t, `<script>alert("x")</script> Roasters`, "Seattle")

	r := get(t, c.handler, "/suppliers")
	r.want(t, http.StatusOK, "text/html")
	r.body = withoutLineBreakHints(r.body)
	r.contains(t, "<td data-label=\"Name\">O&#39;Brien &amp; Sons</td>",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Roasters")
	r.lacks(t, "&amp;#39;", "&amp;amp;", "<script>")

	s := get(t, c.handler, "/suppliers?q=O'Brien+%26")
	s.contains(t, `value="O&#39;Brien &amp;"`, "matching “O&#39;Brien &amp;”", "O&#39;Brien &amp; Sons</td>")
	s.lacks(t, "&amp;#39;", "&amp;amp;")

	// JSON carries the text as stored.
	var list struct{ Items []suppliers.Supplier }
	if err := json.Unmarshal([]byte(get(t, c.handler, "/api/suppliers?q=brien").body), &list); err != nil || len(list.Items) != 1 || list.Items[0].Name != "O'Brien & Sons" {
		t.Errorf("API returned %+v (%v), want the name exactly as stored", list.Items, err)
	}
}

var securityHeaders = map[string]string{
	"Content-Security-Policy":      "default-src 'none'",
	"X-Content-Type-Options":       "nosniff",
	"X-Frame-Options":              "DENY",
	"Referrer-Policy":              "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
}

func TestSecurityHeadersAndNoCORS(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	s := c.add(t, "Acme", "Seattle")
	for _, target := range []string{"/", "/suppliers", "/suppliers?page=abc", "/api/suppliers", fmt.Sprintf("/api/suppliers/%d", s.ID),
		"/api/suppliers/abc", "/api/openapi.json", "/static/style.css", "/healthz", "/readyz", "/no-such-page"} {
		t.Run(target, func(t *testing.T) {
			r := get(t, c.handler, target, "Origin", "https://other.example")
			for name, want := range securityHeaders {
				if got := r.header.Get(name); !strings.Contains(got, want) {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			for name := range r.header {
				if strings.HasPrefix(name, "Access-Control-") {
					t.Errorf("CORS header %s = %q", name, r.header.Get(name))
				}
			}
			if r.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
}

func TestUnknownPagesAndMethods(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	for _, tc := range []struct {
		method, target string
		status         int
		text           string
	}{
		{http.MethodGet, "/no-such-page", http.StatusNotFound, "Page not found"},
		{http.MethodGet, "/suppliers/", http.StatusNotFound, "Page not found"},
		{http.MethodGet, "/admin/suppliers", http.StatusNotFound, "Page not found"}, // the load balancer sends /admin to the employee service
		{http.MethodGet, "/templates/home.html", http.StatusNotFound, "Page not found"},
		{http.MethodGet, "/static/../templates/home.html", http.StatusNotFound, ""},
		{http.MethodPost, "/suppliers", http.StatusMethodNotAllowed, "does not accept POST"},
		// Under /api the same errors answer JSON: TestAPIErrorsAreJSON.
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			r := request(t, c.handler, tc.method, tc.target)
			r.want(t, tc.status, "text/html; charset=utf-8")
			r.contains(t, tc.text, `<a href="/">Go to the start page</a>`)
			r.lacks(t, "{{", "find a coffee supplier")
		})
	}
}

func TestDatabaseDown(t *testing.T) {
	t.Parallel()
	cfg := suppliers.DBConfig{Host: "127.0.0.1", Port: 1, User: "coffee_customer", Password: "p", Name: "COFFEE"}
	db, err := suppliers.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := server.New(server.Deps{Log: quietLog(), Web: webConfig(), DB: db})
	if err != nil {
		t.Fatal(err)
	}
	h := svc.Handler()
	for _, tc := range []struct {
		target      string
		status      int
		contentType string
	}{
		{"/", http.StatusOK, "text/html"}, // the home page needs no database
		{"/healthz", http.StatusOK, "application/json"},
		{"/readyz", http.StatusServiceUnavailable, "application/json"},
		{"/suppliers", http.StatusServiceUnavailable, "text/html"},
		{"/suppliers?q=kona&page=2", http.StatusServiceUnavailable, "text/html"},
		{"/api/suppliers", http.StatusServiceUnavailable, "application/json"},
		{"/api/suppliers/1", http.StatusServiceUnavailable, "application/json"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			t.Parallel()
			r := get(t, h, tc.target)
			r.want(t, tc.status, tc.contentType)
			r.lacks(t, "127.0.0.1", "refused", "dial", "COFFEE")
			if tc.status == http.StatusServiceUnavailable && tc.target != "/readyz" {
				if ra := r.header.Get("Retry-After"); ra == "" {
					t.Error("503 without Retry-After")
				}
				if strings.HasPrefix(tc.contentType, "text/html") {
					r.contains(t, "Temporarily unavailable", "try again")
				}
			}
		})
	}
}

func TestMetricsHandler(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	get(t, c.handler, "/suppliers?q=secret-search")
	get(t, c.handler, "/api/suppliers/42")
	r := get(t, c.svc.MetricsHandler(), "http://127.0.0.1:9090/metrics")
	r.want(t, http.StatusOK, "text/plain")
	r.contains(t, `http_requests_total{method="GET",route="/suppliers",status="200"} 1`,
		`http_requests_total{method="GET",route="/api/suppliers/:id",status="404"} 1`,
		`coffee_build_info{goversion=`, `service="customer"`, `go_sql_max_open_connections{db_name="customer"}`)
	r.lacks(t, "secret-search", "/api/suppliers/42")
}

// The catalogue's list pages are kept for at most PAGE_CACHE_TTL: an
// employee's change (here straight in the database, as the employee
// service makes it) is on every page once that bound has passed, and each
// search keeps its own page. A cached page is still a full answer: its own
// request id, the security headers, revalidation.
func TestCataloguePagesCacheWithinTheirBound(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	s := c.add(t, "Blue Ridge Coffee", "Seattle")
	c.add(t, "Kona Roasters", "Kailua-Kona")
	first := get(t, c.handler, "/suppliers?q=blue")
	first.contains(t, "Blue Ridge Coffee")
	first.lacks(t, "Kona Roasters")
	get(t, c.handler, "/suppliers?q=kona").contains(t, "Kona Roasters")

	again := get(t, c.handler, "/suppliers?q=blue")
	if again.body != first.body || again.header.Get("X-Request-Id") == first.header.Get("X-Request-Id") {
		t.Errorf("a cached page should be the same page under a request id of its own")
	}
	if again.header.Get("Content-Security-Policy") == "" || again.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("a cached page lacks the security headers: %v", again.header)
	}
	if r := get(t, c.handler, "/suppliers?q=blue", "If-None-Match", first.header.Get("ETag")); r.status != http.StatusNotModified {
		t.Errorf("revalidating a cached page = %d, want 304", r.status)
	}

	in := s.Input()
	in.Name = "Blue Ridge Coffee Roasters"
	if _, err := c.admin.Update(t.Context(), suppliers.Actor{ID: 1, Email: "tester@coffee-suppliers.example"}, s.ID, s.Version, in); err != nil {
		t.Fatal(err)
	}
	c.clock.Advance(web.DefaultPageCacheTTL)
	for _, target := range []string{"/suppliers?q=blue", "/suppliers"} {
		get(t, c.handler, target).contains(t, "Blue Ridge Coffee Roasters")
	}
}

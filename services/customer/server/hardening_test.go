package server_test

import (
	"html"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
	"github.com/coffee-suppliers/coffee-suppliers/services/customer/server"
)

// TestAPIErrorsAreJSON: everything under /api answers JSON in the
// document's Error shape (issue 12, point 13), also for a path no route
// knows and a method no route accepts.
func TestAPIErrorsAreJSON(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	s := c.add(t, "Blue Ridge Coffee", "Seattle")
	doc := loadOpenAPI(t, c.handler)
	apiErr := schema{Ref: "#/components/schemas/Error"}
	for _, tc := range []struct {
		method, target string
		status         int
	}{
		{http.MethodGet, "/api/suppliers/1/", http.StatusNotFound},
		{http.MethodGet, "/api/suppliers/" + itoa(s.ID) + "/", http.StatusNotFound},
		{http.MethodGet, "/api/no-such-thing", http.StatusNotFound},
		{http.MethodGet, "/api/", http.StatusNotFound},
		{http.MethodOptions, "/api/suppliers", http.StatusMethodNotAllowed},
		{http.MethodPost, "/api/suppliers", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/api/suppliers/" + itoa(s.ID), http.StatusMethodNotAllowed},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			r := request(t, c.handler, tc.method, tc.target)
			r.want(t, tc.status, "application/json; charset=utf-8")
			conform(t, doc, apiErr, decode(t, r), "response")
			if tc.status == http.StatusMethodNotAllowed {
				if !strings.Contains(r.header.Get("Allow"), "GET") {
					t.Errorf("Allow = %q, want the methods the path accepts", r.header.Get("Allow"))
				}
				r.contains(t, "does not accept "+tc.method)
			}
		})
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

var mailtoHref = regexp.MustCompile(`href="(mailto:[^"]*)"`)

// TestMailtoLinksCarryOnlyTheAddress: a stored email crafted to add
// headers to the visitor's message (issue 12, point 10) — written straight
// into the table, as a row from before validation was tightened would be —
// is still linked as one address: nothing in the href can start a header
// (?) or separate one (&).
func TestMailtoLinksCarryOnlyTheAddress(t *testing.T) {
	t.Parallel()
	d := suppliertest.NewDatabase(t)
	db := d.Open(t)
	if _, err := suppliers.Migrate(t.Context(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	crafted := []string{
		"sales?bcc=spy%40evil.example&subject=hi@supplier.example",
		"sales@supplier.example?cc=spy@evil.example",
		"sales%3Fbcc%3Dspy@supplier.example",
		"sales@supplier.example&body=wire-money",
		"sales@supplier.example#frag",
	}
	for _, email := range crafted {
		if _, err := db.ExecContext(t.Context(), "INSERT INTO suppliers (name, address, city, state, email, phone, version) VALUES (?, ?, ?, ?, ?, ?, 1)",
			"Crafted "+email, "1 Main Street", "Seattle", "WA", email, "+1 206 555 0100"); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := server.New(server.Deps{Log: quietLog(), Web: webConfig(), DB: db})
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, svc.Handler(), "/suppliers?q=Crafted")
	r.want(t, http.StatusOK, "text/html")
	hrefs := mailtoHref.FindAllStringSubmatch(r.body, -1)
	if len(hrefs) != len(crafted) {
		t.Fatalf("found %d mailto links, want %d:\n%s", len(hrefs), len(crafted), r.body)
	}
	for _, m := range hrefs {
		href := html.UnescapeString(m[1])
		if strings.ContainsAny(href, "?&#") {
			t.Errorf("mailto link %q can carry headers: a visitor's mail client would add them", href)
		}
		if strings.Count(href, "@") != 1 {
			t.Errorf("mailto link %q should hold exactly the one address", href)
		}
	}
	// The visible text is the address as stored, escaped once (around
	// the line-break hints and unbreakable parts of a table cell).
	r.body = withoutLineBreakHints(r.body)
	r.contains(t, "sales?bcc=spy%40evil.example&amp;subject=hi@supplier.example</a>")
}

// TestMadeUpMethodsDoNotGrowTheMetrics: 700 requests with random methods
// (issue 12, point 6) leave the request series and /metrics about as they
// were, instead of one series per method kept until restart.
func TestMadeUpMethodsDoNotGrowTheMetrics(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	c.add(t, "Blue Ridge Coffee", "Seattle")
	r := rand.New(rand.NewPCG(7, 700))
	for i := range 700 {
		method := make([]byte, 6+r.IntN(20))
		for j := range method {
			method[j] = byte('A' + r.IntN(26))
		}
		request(t, c.handler, string(method), []string{"/suppliers", "/api/suppliers", "/no-such-page"}[i%3])
	}
	m := get(t, c.svc.MetricsHandler(), "http://127.0.0.1:9090/metrics")
	m.want(t, http.StatusOK, "text/plain")
	series := 0
	for line := range strings.Lines(m.body) {
		if strings.HasPrefix(line, "http_requests_total{") {
			series++
		}
	}
	if series > 6 || len(m.body) > 64<<10 {
		t.Errorf("after 700 made-up methods: %d request series, /metrics %d bytes; want a few series (method=\"OTHER\") and well under 64 KB", series, len(m.body))
	}
	m.contains(t, `method="OTHER"`)
}

// TestMetricsPortRefusesForeignHostsAndKeepsPprofOff: the service's private
// listener answers a scraper (by IP or localhost), not a page that rebound
// its own name to the machine (issue 12, point 12), and has no profiles
// unless PPROF=1.
func TestMetricsPortRefusesForeignHostsAndKeepsPprofOff(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	h := c.svc.MetricsHandler()
	get(t, h, "http://localhost:9090/metrics").want(t, http.StatusOK, "text/plain")
	get(t, h, "http://10.0.3.7:9090/metrics").want(t, http.StatusOK, "text/plain")
	refused := get(t, h, "http://rebound.attacker.example:9090/metrics")
	if refused.status != http.StatusMisdirectedRequest {
		t.Errorf("Host rebound.attacker.example: /metrics = %d, want 421", refused.status)
	}
	refused.lacks(t, "go_goroutines")
	if r := get(t, h, "http://127.0.0.1:9090/debug/pprof/"); r.status != http.StatusNotFound {
		t.Errorf("/debug/pprof/ without PPROF=1 = %d, want 404", r.status)
	}
}

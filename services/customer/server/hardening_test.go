package server_test

import (
	"html"
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
	svc, err := server.New(quietLog(), webConfig(), db, nil)
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
	// The visible text is the address as stored, escaped once.
	r.contains(t, "sales?bcc=spy%40evil.example&amp;subject=hi@supplier.example</a>")
}

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
)

func TestAdminRootRedirectsToList(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	for _, path := range []string{"/admin", "/admin/"} {
		rec := get(t, svc.handler, path)
		if rec.Code != http.StatusFound && rec.Code != http.StatusSeeOther {
			t.Fatalf("GET %s: status %d, want a redirect", path, rec.Code)
		}
		if got := rec.Header().Get("Location"); got != "/admin/suppliers" {
			t.Errorf("GET %s redirects to %q, want /admin/suppliers", path, got)
		}
	}
}

// Unknown paths answer the not-found page. Under /admin they pass the
// guard like every administration page, so the page shows who is signed
// in; elsewhere the guard never runs (the cookie is not even sent there).
func TestPathsOutsideAdminAreNotFound(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	token := svc.handler.(*browser).csrfToken()
	for _, path := range []string{"/", "/suppliers", "/admin/nothing-here", "/administration", "/admin/suppliers/1"} {
		rec := get(t, svc.handler, path)
		wantStatus(t, rec, http.StatusNotFound)
		wantBody(t, rec, "Page not found")
		if guarded := strings.HasPrefix(path, adminPath+"/"); guarded {
			wantBody(t, rec, "Signed in as", `value="`+token+`"`)
		} else {
			wantNoBody(t, rec, "Signed in as", "csrf_token")
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		wantStatus(t, get(t, svc.handler, path), http.StatusOK)
	}
}

func TestListShowsSuppliersWithEditLinksAndAddButton(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())

	rec := get(t, svc.handler, "/admin/suppliers")
	wantStatus(t, rec, http.StatusOK)
	wantBody(t, rec,
		"<h1>Suppliers</h1>",
		"Blue Ridge Roasters", "12 Mill Road", "Asheville", "orders@blueridge.example.com",
		// The actions say Edit and Delete; screen readers hear whose.
		fmt.Sprintf(`<a href="/admin/supplier-update/%d">Edit<span class="visually-hidden"> Blue Ridge Roasters</span></a>`, s.ID),
		fmt.Sprintf(`<a href="/admin/supplier-remove/%d">Delete<span class="visually-hidden"> Blue Ridge Roasters</span></a>`, s.ID),
		`<a class="button" href="/admin/supplier-add">Add supplier</a>`,
		"Showing 1–1 of 1 supplier.")
}

func TestListOfEmptyDirectorySaysSo(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	rec := get(t, svc.handler, "/admin/suppliers")
	wantStatus(t, rec, http.StatusOK)
	wantBody(t, rec, "No suppliers.", "Add supplier")
	wantNoBody(t, rec, "<table>")
}

func TestListSearchesByNameOrCity(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	a := validInput()
	a.Name, a.City = "Kona Growers", "Kailua-Kona"
	b := validInput()
	b.Name, b.City = "Nordic Roast", "Hamburg"
	c := validInput()
	c.Name, c.City = "Harbor Beans", "Medellín"
	for _, in := range []suppliers.Input{a, b, c} {
		createSupplier(t, svc, in)
	}

	rec := get(t, svc.handler, "/admin/suppliers?q=kona")
	wantStatus(t, rec, http.StatusOK)
	wantBody(t, rec, "Kona Growers", `value="kona"`, "matching “kona”", "Clear search")
	wantNoBody(t, rec, "Nordic Roast", "Harbor Beans")

	rec = get(t, svc.handler, "/admin/suppliers?q="+url.QueryEscape("medellín"))
	wantBody(t, rec, "Harbor Beans")
	wantNoBody(t, rec, "Kona Growers")

	// LIKE's wildcards are searched for literally, not as patterns.
	rec = get(t, svc.handler, "/admin/suppliers?q=%25")
	wantStatus(t, rec, http.StatusOK)
	wantBody(t, rec, "No suppliers match")
}

func TestListPagesThroughManySuppliers(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	if err := suppliers.Seed(context.Background(), svc.db, 45, 7); err != nil {
		t.Fatalf("seed: %v", err)
	}
	svc.clock.Advance(web.DefaultPageCacheTTL) // past the cached pages

	first := get(t, svc.handler, "/admin/suppliers")
	wantStatus(t, first, http.StatusOK)
	wantBody(t, first, "Showing 1–20 of 45 suppliers.", "Page 1 of 3", `href="?page=2"`)
	wantNoBody(t, first, `rel="prev"`)

	last := get(t, svc.handler, "/admin/suppliers?page=3")
	wantStatus(t, last, http.StatusOK)
	wantBody(t, last, "Showing 41–45 of 45 suppliers.", "Page 3 of 3", `rel="prev"`)
	wantNoBody(t, last, `rel="next"`)
	if got := strings.Count(last.Body.String(), ">Edit<"); got != 5 {
		t.Errorf("page 3 has %d edit links, want 5", got)
	}

	past := get(t, svc.handler, "/admin/suppliers?page=9")
	wantStatus(t, past, http.StatusOK)
	wantBody(t, past, "past the end of the list")

	for _, bad := range []string{"0", "-1", "two", "1.5"} {
		rec := get(t, svc.handler, "/admin/suppliers?page="+bad)
		wantStatus(t, rec, http.StatusBadRequest)
		wantBody(t, rec, "page must be a whole number")
	}
}

func TestListShowsNoticeAfterChanges(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	for notice, words := range map[string]string{
		"created": "Supplier added.",
		"updated": "Changes saved.",
		"deleted": "Supplier deleted.",
	} {
		rec := get(t, svc.handler, "/admin/suppliers?notice="+notice)
		wantStatus(t, rec, http.StatusOK)
		wantBody(t, rec, `<p class="notice ok" role="status">`+words+`</p>`)
	}
	for _, unknown := range []string{"", "hacked", "<script>alert(1)</script>", "Created"} {
		rec := get(t, svc.handler, "/admin/suppliers?notice="+url.QueryEscape(unknown))
		wantStatus(t, rec, http.StatusOK)
		wantNoBody(t, rec, `class="notice`, "hacked", "alert(1)")
	}
}

func TestCreateStoresSupplierExactlyAsTypedAndEscapesItOnce(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	typed := suppliers.Input{
		Name:    "  O'Brien & Sons <b>  ",
		Address: "1 Rua das Flores, 2º andar",
		City:    "São Paulo",
		State:   "SP",
		Email:   "o'brien@example.com",
		Phone:   "+55 (11) 5555-0100",
	}

	rec := postForm(t, svc.handler, "/admin/supplier-add", formOf(typed))
	wantNoticeRedirect(t, rec, "created")

	list, err := svc.store.List(context.Background(), suppliers.Query{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("%d suppliers stored, want 1", len(list.Items))
	}
	stored := list.Items[0]
	want, _ := suppliers.Validate(typed)
	if stored.Input() != want {
		t.Errorf("stored %+v, want %+v (trimmed, otherwise as typed)", stored.Input(), want)
	}
	if stored.Name != "O'Brien & Sons <b>" {
		t.Errorf("stored name %q", stored.Name)
	}

	page := get(t, svc.handler, "/admin/suppliers?notice=created")
	wantBody(t, page, "Supplier added.", "<td data-label=\"Name\">O&#39;Brien &amp; Sons &lt;b&gt;</td>", "São Paulo")
	// Escaped once: never raw, never twice.
	wantNoBody(t, page, "Sons <b>", "&amp;amp;", "&amp;#39;", "&amp;lt;")

	edit := get(t, svc.handler, updatePathOf(stored.ID))
	wantBody(t, edit, `value="O&#39;Brien &amp; Sons &lt;b&gt;"`)
	wantNoBody(t, edit, "Sons <b>", "&amp;amp;")
}

func TestAddFormRefusesInvalidInputAndKeepsIt(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	typed := validInput()
	typed.Name = "Kept Name"
	typed.Email = "not an email"
	typed.Phone = ""

	rec := postForm(t, svc.handler, "/admin/supplier-add", formOf(typed))
	wantStatus(t, rec, http.StatusBadRequest)
	wantBody(t, rec,
		"<title>Error: Add supplier",
		"There is a problem",
		`<a href="#supplier-email">Enter an email address like orders@example.com.</a>`,
		`<a href="#supplier-phone">Phone is required.</a>`,
		`aria-invalid="true" aria-describedby="supplier-email-error"`,
		`<p class="error" id="supplier-email-error">Enter an email address like orders@example.com.</p>`,
		`value="Kept Name"`, `value="not an email"`, `value="12 Mill Road"`)
	if n := countRows(t, svc.db); n != 0 {
		t.Errorf("%d rows after a refused add, want 0", n)
	}
}

func TestUpdateSavesChanges(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())

	form := get(t, svc.handler, updatePathOf(s.ID))
	wantStatus(t, form, http.StatusOK)
	wantBody(t, form, `<input type="hidden" name="version" value="1">`, `value="Blue Ridge Roasters"`,
		fmt.Sprintf(`<a href="/admin/supplier-remove/%d">Delete this supplier…</a>`, s.ID))

	changed := validInput()
	changed.City = "Raleigh"
	rec := postForm(t, svc.handler, updatePathOf(s.ID), editForm(changed, s.Version))
	wantNoticeRedirect(t, rec, "updated")

	after := getSupplier(t, svc, s.ID)
	if after.City != "Raleigh" || after.Version != s.Version+1 {
		t.Errorf("after update: city %q version %d, want Raleigh and %d", after.City, after.Version, s.Version+1)
	}
}

func TestUpdateRefusesInvalidInputWithoutSaving(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())
	typed := validInput()
	typed.State = "   "

	rec := postForm(t, svc.handler, updatePathOf(s.ID), editForm(typed, s.Version))
	wantStatus(t, rec, http.StatusBadRequest)
	wantBody(t, rec, `<p class="error" id="supplier-state-error">State is required.</p>`,
		`<input type="hidden" name="version" value="1">`)
	if after := getSupplier(t, svc, s.ID); after != s {
		t.Errorf("supplier changed by a refused edit: %+v, was %+v", after, s)
	}
}

func TestConcurrentEditsDoNotOverwriteEachOther(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())

	// Two employees open the same supplier at version 1.
	first := validInput()
	first.Phone = "+1 828 555 0111"
	second := validInput()
	second.Name = "Second Editor's Name"

	wantNoticeRedirect(t, postForm(t, svc.handler, updatePathOf(s.ID), editForm(first, s.Version)), "updated")

	rec := postForm(t, svc.handler, updatePathOf(s.ID), editForm(second, s.Version))
	wantStatus(t, rec, http.StatusConflict)
	wantBody(t, rec,
		"This supplier was changed by someone else",
		`<dl class="current">`,
		"<dt>Phone</dt><dd>&#43;1 828 555 0111</dd>",
		"<dt>Name</dt><dd>Blue Ridge Roasters</dd>",
		// The second editor's typing is kept, on top of the new version.
		`value="Second Editor&#39;s Name"`,
		`<input type="hidden" name="version" value="2">`)

	if after := getSupplier(t, svc, s.ID); after.Phone != first.Phone || after.Name != first.Name || after.Version != 2 {
		t.Errorf("database holds %+v, want the first edit at version 2", after)
	}

	// Having seen the current values, the second editor saves on purpose.
	wantNoticeRedirect(t, postForm(t, svc.handler, updatePathOf(s.ID), editForm(second, 2)), "updated")
	if after := getSupplier(t, svc, s.ID); after.Name != second.Name || after.Version != 3 {
		t.Errorf("after deliberate resubmit: %+v", after)
	}
}

func TestDeleteAfterConfirmation(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())
	other := validInput()
	other.Name = "Stays Put"
	createSupplier(t, svc, other)

	confirm := get(t, svc.handler, removePathOf(s.ID))
	wantStatus(t, confirm, http.StatusOK)
	wantBody(t, confirm,
		"<h1>Delete Blue Ridge Roasters?</h1>",
		"This cannot be undone.",
		"<dt>City</dt><dd>Asheville</dd>",
		fmt.Sprintf(`<form method="post" action="/admin/supplier-remove/%d">`, s.ID),
		`<input type="hidden" name="version" value="1">`,
		`<button type="submit" class="danger">Delete supplier</button>`,
		fmt.Sprintf(`<a href="/admin/supplier-update/%d">Cancel</a>`, s.ID))
	if n := countRows(t, svc.db); n != 2 {
		t.Fatalf("opening the confirmation changed the row count to %d", n)
	}

	rec := postForm(t, svc.handler, removePathOf(s.ID), url.Values{"version": {"1"}})
	wantNoticeRedirect(t, rec, "deleted")
	if _, err := svc.store.Get(context.Background(), s.ID); !errors.Is(err, suppliers.ErrNotFound) {
		t.Errorf("after delete, get: %v, want not found", err)
	}
	if n := countRows(t, svc.db); n != 1 {
		t.Errorf("%d rows after deleting one of two", n)
	}
	wantStatus(t, get(t, svc.handler, removePathOf(s.ID)), http.StatusNotFound)
	wantStatus(t, postForm(t, svc.handler, removePathOf(s.ID), url.Values{"version": {"1"}}), http.StatusNotFound)
}

func TestDeleteOfChangedSupplierAsksAgain(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())
	changed := validInput()
	changed.Name = "Renamed Meanwhile"
	if _, err := svc.store.Update(context.Background(), svc.actor(), s.ID, s.Version, changed); err != nil {
		t.Fatalf("update: %v", err)
	}

	rec := postForm(t, svc.handler, removePathOf(s.ID), url.Values{"version": {"1"}})
	wantStatus(t, rec, http.StatusConflict)
	wantBody(t, rec, "changed by someone else", "has not been deleted",
		"<h1>Delete Renamed Meanwhile?</h1>", "<dt>Name</dt><dd>Renamed Meanwhile</dd>",
		`<input type="hidden" name="version" value="2">`)
	if n := countRows(t, svc.db); n != 1 {
		t.Fatalf("stale delete removed the row")
	}

	wantNoticeRedirect(t, postForm(t, svc.handler, removePathOf(s.ID), url.Values{"version": {"2"}}), "deleted")
	if n := countRows(t, svc.db); n != 0 {
		t.Errorf("%d rows after the confirmed delete", n)
	}
}

func TestUnknownSupplierIsNotFound(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	const id = 424242
	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, updatePathOf(id), nil),
		httptest.NewRequest(http.MethodGet, removePathOf(id), nil),
		newFormRequest(updatePathOf(id), editForm(validInput(), 1)),
		newFormRequest(removePathOf(id), url.Values{"version": {"1"}}),
	} {
		rec := serve(svc.handler, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 404", req.Method, req.URL.Path, rec.Code)
			continue
		}
		wantBody(t, rec, "Supplier not found")
	}
	if n := countRows(t, svc.db); n != 0 {
		t.Errorf("%d rows after requests for a missing supplier", n)
	}
}

func TestMalformedIDsAreRefusedNeverServerErrors(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	createSupplier(t, svc, validInput())
	ids := []string{"abc", "0", "-1", "1.5", "99999999999", "1;DROP TABLE suppliers", "01", "1 ", "%00", "1e3", "٣"}
	for _, id := range ids {
		for _, prefix := range []string{updatePath, removePath} {
			target := prefix + url.PathEscape(id)
			for _, req := range []*http.Request{
				httptest.NewRequest(http.MethodGet, target, nil),
				newFormRequest(target, editForm(validInput(), 1)),
			} {
				rec := serve(svc.handler, req)
				if rec.Code != http.StatusBadRequest && rec.Code != http.StatusNotFound {
					t.Errorf("%s %s: status %d, want 400 or 404", req.Method, target, rec.Code)
				}
			}
		}
	}
	if n := countRows(t, svc.db); n != 1 {
		t.Errorf("%d rows after malformed requests, want the 1 we made", n)
	}
	rec := get(t, svc.handler, updatePath+"abc")
	wantStatus(t, rec, http.StatusBadRequest)
	wantBody(t, rec, "Not a supplier id")
}

func TestMissingOrMalformedVersionIsRefused(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())
	changed := validInput()
	changed.Name = "Should Not Be Saved"
	for _, version := range []string{"", "0", "-1", "abc", "1.0", "+1", " 1", "01", "4294967296", "99999999999999999999"} {
		form := formOf(changed)
		if version != "" {
			form.Set("version", version)
		}
		for _, path := range []string{updatePathOf(s.ID), removePathOf(s.ID)} {
			rec := postForm(t, svc.handler, path, form)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("POST %s with version %q: status %d, want 400", path, version, rec.Code)
				continue
			}
			wantBody(t, rec, "Missing or malformed version")
		}
	}
	if after := getSupplier(t, svc, s.ID); after != s {
		t.Errorf("supplier changed to %+v by refused requests", after)
	}
}

func TestFormPostsFromOtherSitesAreRefused(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{addPath, formOf(validInput())},
		{updatePathOf(s.ID), editForm(validInput(), s.Version)},
		{removePathOf(s.ID), url.Values{"version": {"1"}}},
	} {
		req := newFormRequest(tc.path, tc.form)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		rec := serve(svc.handler, req)
		wantStatus(t, rec, http.StatusForbidden)
		wantBody(t, rec, "Form sent from another site")
	}
	if after := getSupplier(t, svc, s.ID); after != s || countRows(t, svc.db) != 1 {
		t.Errorf("a cross-site post changed the data")
	}

	// The same form from these pages goes through.
	req := newFormRequest(addPath, formOf(validInput()))
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	wantNoticeRedirect(t, serve(svc.handler, req), "created")
}

// The list pages are cached (PAGE_CACHE_TTL), but never hide an employee's
// own change, whichever replica the load balancer sends them to next: the
// list the change redirects to (its notice) is read afresh, and the
// replica that made the change drops its cached lists. The session cookie
// has no part in it. Other employees see the change on the replica that
// made it at once, elsewhere once the cached pages expire.
func TestListShowsChangesDespiteItsCache(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())
	a := svc.handler.(*browser)
	replica := mustReplica(t, svc)
	onReplica := a.via(replica) // the same employee, sent to the other replica
	colleague := newBrowser(replica)
	colleague.signIn(t, testEmail, testPassword)
	for _, b := range []http.Handler{a, onReplica, colleague} {
		wantBody(t, get(t, b, listPath), "Blue Ridge Roasters") // now cached on both replicas
	}

	in := validInput()
	in.Name = "Blue Ridge Roasters & Co."
	changed := postForm(t, a, updatePathOf(s.ID), editForm(in, s.Version))
	wantNoticeRedirect(t, changed, "updated")
	if cookie := changed.Header().Get("Set-Cookie"); cookie != "" {
		t.Errorf("the change rewrote the session cookie: %s", cookie)
	}
	afterChange := changed.Header().Get("Location")
	wantBody(t, get(t, a, listPath), escaped("Blue Ridge Roasters & Co."))
	// The browser follows the redirect; the load balancer sends it to the
	// other replica, whose cached list predates the change.
	wantBody(t, get(t, onReplica, afterChange), escaped("Blue Ridge Roasters & Co."))
	// A second change redirects to the same address, which still reads
	// afresh: a list with a notice is never served from the cache.
	in.City = "Boone"
	again := postForm(t, a, updatePathOf(s.ID), editForm(in, s.Version+1))
	wantNoticeRedirect(t, again, "updated")
	if loc := again.Header().Get("Location"); loc != afterChange {
		t.Fatalf("the second change redirects to %q, want %q as the first", loc, afterChange)
	}
	wantBody(t, get(t, onReplica, afterChange), "Boone")

	svc.clock.Advance(web.DefaultPageCacheTTL)
	wantBody(t, get(t, onReplica, listPath+"?q=blue"), escaped("Blue Ridge Roasters & Co."))
	wantBody(t, get(t, colleague, listPath), escaped("Blue Ridge Roasters & Co."))
}

// mustReplica is another employee service over svc's database, session
// keys and clock, with its own page cache.
func mustReplica(t *testing.T, svc testService) http.Handler {
	t.Helper()
	replica, err := New(Deps{Log: quietLog(), Web: web.Config{PageCacheTTL: web.DefaultPageCacheTTL, Clock: svc.clock.Now},
		DB: svc.db, Options: svc.opts})
	if err != nil {
		t.Fatal(err)
	}
	return replica.Handler()
}

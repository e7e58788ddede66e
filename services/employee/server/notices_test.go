package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"testing"
)

// noticeRe finds the list's notice banner.
var noticeRe = regexp.MustCompile(`<p class="notice ok" role="status">([^<]*)</p>`)

// followNotice follows a change's redirect to the list and returns the
// text of its notice banner ("" when it shows none).
func followNotice(t *testing.T, svc testService, rec *httptest.ResponseRecorder) string {
	t.Helper()
	loc := rec.Header().Get("Location")
	u, err := url.Parse(loc)
	if err != nil || u.Path != listPath {
		t.Fatalf("redirected to %q, want the list", loc)
	}
	page := get(t, svc.handler, loc)
	wantStatus(t, page, http.StatusOK)
	m := noticeRe.FindStringSubmatch(page.Body.String())
	if m == nil {
		return ""
	}
	return m[1]
}

// TestNoticesNameTheSupplier: after adding, saving or deleting, the list
// says what happened to which supplier, its name escaped once.
func TestNoticesNameTheSupplier(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	in := validInput()
	in.Name = "Andean <b>Roast</b> & Co"
	const shown = "Andean &lt;b&gt;Roast&lt;/b&gt; &amp; Co"

	rec := postForm(t, svc.handler, addPath, formOf(in))
	wantStatus(t, rec, http.StatusSeeOther)
	if got, want := followNotice(t, svc, rec), "Supplier “"+shown+"” added."; got != want {
		t.Errorf("after adding, the notice says %q, want %q", got, want)
	}
	s := newestSupplier(t, svc)

	changed := s.Input()
	changed.City = "Cusco"
	rec = postForm(t, svc.handler, updatePathOf(s.ID), editForm(changed, s.Version))
	if got, want := followNotice(t, svc, rec), "Supplier “"+shown+"” updated."; got != want {
		t.Errorf("after saving, the notice says %q, want %q", got, want)
	}

	rec = postForm(t, svc.handler, removePathOf(s.ID), url.Values{"version": {"2"}})
	if got, want := followNotice(t, svc, rec), "Supplier “"+shown+"” deleted."; got != want {
		t.Errorf("after deleting, the notice says %q, want %q", got, want)
	}
}

// TestNoticeLinksCannotPutWordsOnThePage: the notice names only what the
// signed-in employee did, looked up by id; nothing else in a link shows.
func TestNoticeLinksCannotPutWordsOnThePage(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	other := createSupplier(t, svc, validInput()) // added behind this page's back
	id := strconv.FormatInt(other.ID, 10)
	for _, query := range []string{
		"notice=deleted&id=" + id, // not deleted at all
		"notice=updated&id=" + id, // never updated
		"notice=created&id=999999",
		"notice=created&id=" + id + "&name=" + url.QueryEscape("Call +1 555 0100 now"),
	} {
		page := get(t, svc.handler, listPath+"?"+query)
		wantStatus(t, page, http.StatusOK)
		wantNoBody(t, page, "Call +1", "“Blue Ridge Roasters” deleted", "“Blue Ridge Roasters” updated")
	}
}

// TestSavingUnchangedFormChangesNothing: pressing Save without changing a
// value writes nothing, says so, and leaves a colleague's open form valid.
func TestSavingUnchangedFormChangesNothing(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())

	rec := postForm(t, svc.handler, updatePathOf(s.ID), editForm(s.Input(), s.Version))
	wantStatus(t, rec, http.StatusSeeOther)
	if got := followNotice(t, svc, rec); got != "No changes to save." {
		t.Errorf("after saving an unchanged form, the notice says %q, want \"No changes to save.\"", got)
	}
	if after := getSupplier(t, svc, s.ID); after != s {
		t.Errorf("an unchanged save left %+v, want %+v (same version)", after, s)
	}
	history, err := svc.store.History(t.Context(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 1 {
		t.Errorf("an unchanged save left %d history rows, want 1 (the create)", len(history))
	}

	// A colleague had the same version open, and saves a change.
	theirs := s.Input()
	theirs.City = "Boone"
	rec = postForm(t, svc.handler, updatePathOf(s.ID), editForm(theirs, s.Version))
	if rec.Code != http.StatusSeeOther {
		t.Errorf("the colleague's save answered %d, want 303 (no conflict)", rec.Code)
	}
}

// wantNoticeRedirect checks rec redirects to the list with the notice kind
// (created, updated, deleted, unchanged) about some supplier.
func wantNoticeRedirect(t testing.TB, rec *httptest.ResponseRecorder, kind string) {
	t.Helper()
	wantStatus(t, rec, http.StatusSeeOther)
	loc := rec.Header().Get("Location")
	u, err := url.Parse(loc)
	if err != nil || u.Path != listPath || u.Query().Get("notice") != kind {
		t.Fatalf("redirected to %q, want the list with notice=%s", loc, kind)
	}
}

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// The catalogue stories only read, and do not call t.Parallel: Go runs them
// before the parallel stories that add and delete suppliers, so the totals
// and pages they compare stay still.

// rowsPerPage is how many suppliers a list page shows.
const rowsPerPage = 20

// catalogueHeaders are the public table's columns.
var catalogueHeaders = []string{"Name", "Address", "City", "State", "Email", "Phone"}

// Story 1: a visitor opens the home page and browses the whole directory.
func TestBrowseAllSuppliers(t *testing.T) {
	p := openTab(t)
	p.visit("/")
	if h := p.heading(); h != "Find a coffee supplier" {
		t.Fatalf("home page heading is %q", h)
	}
	p.clickLink("Browse all suppliers")

	tb := p.supplierTable()
	if !slices.Equal(tb.Headers, catalogueHeaders) {
		t.Errorf("column headers are %q, want %q", tb.Headers, catalogueHeaders)
	}
	first, last, total := p.shown()
	wantRows := min(total, rowsPerPage)
	if len(tb.Cells) != wantRows {
		t.Errorf("the table shows %d rows, want %d", len(tb.Cells), wantRows)
	}
	if first != 1 || last != wantRows {
		t.Errorf("summary says rows %d–%d, want 1–%d", first, last, wantRows)
	}
	if target.adminDB != nil && total != seededSuppliers {
		t.Errorf("summary says %d suppliers, the stack seeded %d", total, seededSuppliers)
	}
	// The catalogue is public: no sign-in, no session, no cookie.
	if c := p.cookies("/suppliers"); len(c) != 0 || p.signedInAs() != "" || p.onLoginPage() {
		t.Errorf("the public catalogue set %d cookies or asked to sign in", len(c))
	}
	checkDB(t, "the first page matches the database", func(ctx context.Context, store *suppliers.Store) {
		list, err := store.List(ctx, suppliers.Query{Page: 1, PerPage: rowsPerPage})
		if err != nil {
			t.Fatal(err)
		}
		if list.Total != total {
			t.Errorf("summary says %d suppliers, the database holds %d", total, list.Total)
		}
		for i, row := range tb.rows() {
			if i < len(list.Items) && row["Name"] != list.Items[i].Name {
				t.Errorf("row %d shows %q, the database's row %d is %q", i+1, row["Name"], i+1, list.Items[i].Name)
			}
		}
	})
}

// Story 2: a visitor searches the directory for a city, then clears the
// search.
func TestSearchByCity(t *testing.T) {
	p := openTab(t)
	p.visit("/suppliers")
	_, _, total := p.shown()
	city := pickCity(t, p.supplierTable().rows())
	// Typed in lower case: the search ignores case.
	typed := strings.ToLower(city)

	p.search(typed)
	rows := p.supplierTable().rows()
	if len(rows) == 0 {
		t.Fatalf("searching for %q (a city in the list) shows no rows; summary: %q", typed, p.textOf("p.summary"))
	}
	for i, row := range rows {
		if !containsFold(row["Name"], typed) && !containsFold(row["City"], typed) {
			t.Errorf("row %d (%q in %q) matches neither by name nor by city %q", i+1, row["Name"], row["City"], typed)
		}
	}
	if s := p.textOf("p.summary"); !strings.Contains(s, "matching “"+typed+"”") {
		t.Errorf("summary %q does not say what was searched for", s)
	}
	if v := p.fieldValue("Search by name or city"); v != typed {
		t.Errorf("the search box shows %q after searching, want %q", v, typed)
	}
	_, _, found := p.shown()
	checkDB(t, "the search finds what the database matches", func(ctx context.Context, store *suppliers.Store) {
		list, err := store.List(ctx, suppliers.Query{Search: typed, Page: 1, PerPage: 1})
		if err != nil {
			t.Fatal(err)
		}
		if list.Total != found {
			t.Errorf("the page found %d suppliers for %q, the database matches %d", found, typed, list.Total)
		}
	})

	p.clickLink("Clear search")
	if _, _, after := p.shown(); after != total {
		t.Errorf("after clearing the search the list has %d suppliers, want all %d", after, total)
	}
	if n := len(p.supplierTable().Cells); n != min(total, rowsPerPage) {
		t.Errorf("after clearing the search the table shows %d rows", n)
	}
	if v := p.fieldValue("Search by name or city"); v != "" {
		t.Errorf("after clearing, the search box still holds %q", v)
	}
}

// pickCity returns a city shown in rows, preferring plain ASCII so typing
// it in lower case is unambiguous.
func pickCity(t *testing.T, rows []map[string]string) string {
	t.Helper()
	if len(rows) == 0 {
		t.Fatal("the list shows no suppliers to search for")
	}
	for _, row := range rows {
		if c := row["City"]; c != "" && !strings.ContainsFunc(c, func(r rune) bool { return r > unicode.MaxASCII }) {
			return c
		}
	}
	return rows[0]["City"]
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// Story 3: a visitor pages forward through the list and back.
func TestPageThroughSuppliers(t *testing.T) {
	p := openTab(t)
	p.visit("/suppliers")
	_, _, total := p.shown()
	if total <= rowsPerPage {
		t.Skipf("only %d suppliers: one page, nothing to page through", total)
	}
	pages := (total + rowsPerPage - 1) / rowsPerPage
	page1 := p.supplierTable().Cells
	if pager := p.textOf("nav.pager"); !strings.Contains(pager, pageOf(1, pages)) {
		t.Errorf("pager says %q, want %q", pager, pageOf(1, pages))
	}

	p.clickLink("Next page →")
	if pager := p.textOf("nav.pager"); !strings.Contains(pager, pageOf(2, pages)) {
		t.Errorf("after Next the pager says %q, want %q", pager, pageOf(2, pages))
	}
	first, last, _ := p.shown()
	if first != rowsPerPage+1 || last != min(total, 2*rowsPerPage) {
		t.Errorf("page 2 summary shows rows %d–%d, want %d–%d", first, last, rowsPerPage+1, min(total, 2*rowsPerPage))
	}
	page2 := p.supplierTable().Cells
	if len(page2) != last-first+1 {
		t.Errorf("page 2 shows %d rows, its summary says %d", len(page2), last-first+1)
	}
	for _, row := range page2 {
		if slices.ContainsFunc(page1, func(r []string) bool { return slices.Equal(r, row) }) {
			t.Errorf("page 2 repeats a row of page 1: %q", row)
		}
	}

	p.clickLink("← Previous page")
	if pager := p.textOf("nav.pager"); !strings.Contains(pager, pageOf(1, pages)) {
		t.Errorf("after Previous the pager says %q, want %q", pager, pageOf(1, pages))
	}
	if back := p.supplierTable().Cells; !slices.EqualFunc(back, page1, slices.Equal) {
		t.Errorf("Previous page shows other rows than page 1 did:\n got %q\nwant %q", back, page1)
	}
}

func pageOf(n, total int) string {
	return fmt.Sprintf("Page %d of %d", n, total)
}

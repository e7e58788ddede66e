package suppliers_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// catalogueRows is the scale the catalogue must stay fast at.
const catalogueRows = 10_000

// TestCatalogueAtTenThousandSuppliers checks the catalogue's queries give
// the right pages at full scale: the first page, the last partial page, and
// a search, each ordered by name. How fast they are is for the benchmark
// below and the harness, never a timing assertion.
func TestCatalogueAtTenThousandSuppliers(t *testing.T) {
	t.Parallel()
	_, db, st := migrated(t)
	if err := suppliers.Seed(t.Context(), db, catalogueRows, 42); err != nil {
		t.Fatalf("seed: %v", err)
	}

	first, err := st.List(t.Context(), suppliers.Query{Page: 1, PerPage: suppliers.DefaultPerPage})
	if err != nil {
		t.Fatal(err)
	}
	if first.Total != catalogueRows || len(first.Items) != suppliers.DefaultPerPage || first.TotalPages() != 500 {
		t.Fatalf("first page: total %d, %d items, %d pages", first.Total, len(first.Items), first.TotalPages())
	}
	if !slices.IsSortedFunc(first.Items, byName) {
		t.Errorf("first page not ordered by name: %q", names(first.Items))
	}

	last, err := st.List(t.Context(), suppliers.Query{Page: 102, PerPage: 99})
	if err != nil {
		t.Fatal(err)
	}
	if want := catalogueRows - 101*99; len(last.Items) != want || last.HasNext() {
		t.Fatalf("last page of 99: %d items (want %d), has next %v", len(last.Items), want, last.HasNext())
	}

	found, err := st.List(t.Context(), suppliers.Query{Search: "KONA", Page: 1, PerPage: suppliers.MaxPerPage})
	if err != nil {
		t.Fatal(err)
	}
	if found.Total == 0 || found.Total == catalogueRows {
		t.Fatalf("a search for a city should match some but not all rows, matched %d", found.Total)
	}
	for _, s := range found.Items {
		if !strings.Contains(strings.ToLower(s.Name+" "+s.City), "kona") {
			t.Errorf("search KONA returned %q in %q", s.Name, s.City)
		}
	}
	if !slices.IsSortedFunc(found.Items, byName) {
		t.Errorf("search results not ordered by name")
	}
}

func byName(a, b suppliers.Supplier) int {
	if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
		return c
	}
	return int(a.ID - b.ID)
}

// BenchmarkCatalogue measures the catalogue's queries at 10,000 rows over
// the MySQL protocol: go test -run '^$' -bench Catalogue ./pkg/suppliers
func BenchmarkCatalogue(b *testing.B) {
	_, db, st := migrated(b)
	if err := suppliers.Seed(b.Context(), db, catalogueRows, 42); err != nil {
		b.Fatalf("seed: %v", err)
	}
	for _, q := range []struct {
		name  string
		query suppliers.Query
	}{
		{"first-page", suppliers.Query{Page: 1, PerPage: suppliers.DefaultPerPage}},
		{"middle-page", suppliers.Query{Page: 250, PerPage: suppliers.DefaultPerPage}},
		{"search", suppliers.Query{Search: "kona", Page: 1, PerPage: suppliers.DefaultPerPage}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := st.List(b.Context(), q.query); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

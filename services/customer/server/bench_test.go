package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
)

// BenchmarkListPage is the catalogue's supplier list, 20 rows: a visitor's
// page from the page cache, and read and rendered afresh. Compare runs with benchstat (see docs/performance.md); the
// harness (make bench) measures the whole service.
//
//	go test -run '^$' -bench ListPage ./services/customer/server
func BenchmarkListPage(b *testing.B) {
	c := newCatalogue(b)
	for i := range 50 {
		c.add(b, "Supplier "+string(rune('A'+i%26))+string(rune('a'+i/26)), "Seattle")
	}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			c.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/suppliers", nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
			// Past the cached page's time: a database read and a render.
			c.clock.Advance(web.DefaultPageCacheTTL)
			rec := httptest.NewRecorder()
			c.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/suppliers", nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}

package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

// BenchmarkListPage is a signed-in employee's supplier list, 20 rows: the
// page cache's hit (the layout rendered around cached content) and, with
// the notice of a change, a fresh read and render. Compare runs with
// benchstat (see docs/performance.md); the harness (make bench) measures the whole
// service.
//
//	go test -run '^$' -bench ListPage ./services/employee/server
func BenchmarkListPage(b *testing.B) {
	svc := newTestService(b)
	if err := suppliers.Seed(context.Background(), svc.db, 50, 7); err != nil {
		b.Fatalf("seed: %v", err)
	}
	svc.clock.Advance(web.DefaultPageCacheTTL)
	for _, bc := range []struct{ name, path string }{
		{"cached", listPath},
		{"fresh", listPath + "?notice=updated"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			// The service itself with the session's cookie, as a browser
			// sends it: none of the test browser's bookkeeping.
			cookie := (&http.Cookie{Name: auth.CookieName, Value: svc.handler.(*browser).sessionCookie()}).String()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, bc.path, nil)
				req.Header.Set("Cookie", cookie)
				rec := httptest.NewRecorder()
				svc.raw.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

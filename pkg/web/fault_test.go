package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The rehearsal's faulty releases (docs/rehearsal.md): a build without the
// switch serves every page; "smoke" fails every page while the health
// checks pass (so only the test listener's checks catch it); "canary"
// serves its first pages, then fails every other one, as a fault only
// production traffic shows.
func TestRehearsalFaults(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	statuses := func(t *testing.T, fault, path string, n int) []int {
		t.Helper()
		h, err := faultHandler(fault, ok)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for range n {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			got = append(got, rec.Code)
		}
		return got
	}
	count := func(codes []int, code int) (n int) {
		for _, c := range codes {
			if c == code {
				n++
			}
		}
		return n
	}
	if got := statuses(t, "", "/", 100); count(got, http.StatusOK) != 100 {
		t.Errorf("no fault: %v, want every page 200", got)
	}
	if got := statuses(t, "smoke", "/", 3); count(got, http.StatusInternalServerError) != 3 {
		t.Errorf("fault smoke: pages answered %v, want 500", got)
	}
	for _, fault := range []string{"smoke", "canary"} {
		for _, path := range []string{"/healthz", "/readyz"} {
			if got := statuses(t, fault, path, 100); count(got, http.StatusOK) != 100 {
				t.Errorf("fault %s: %s answered %v, want 200 (the release must look healthy)", fault, path, got)
			}
		}
	}
	got := statuses(t, "canary", "/", 100)
	if first := got[:canaryFaultAfter]; count(first, http.StatusOK) != canaryFaultAfter {
		t.Errorf("fault canary: the first %d pages answered %v, want 200 (the smoke checks pass)", canaryFaultAfter, first)
	}
	if n := count(got, http.StatusInternalServerError); n < 40 {
		t.Errorf("fault canary: %d of 100 pages failed, want every other one after the first %d", n, canaryFaultAfter)
	}
	if _, err := faultHandler("smokee", ok); err == nil {
		t.Error("an unknown fault name was accepted; a typo must stop the service at start")
	}
}

package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// withoutLineBreakHints removes what table cells add to keep words whole
// (<wbr> and <span class="nw">), leaving the escaped text to compare.
func withoutLineBreakHints(body string) string {
	return strings.NewReplacer("<wbr>", "", `<span class="nw">`, "", "</span>", "").Replace(body)
}

// TestAPIWritesAmpersandsAsTyped: the JSON API writes "O'Brien & Sons" as
// it is, not as \u0026. It may: its answers are application/json with
// nosniff, never read as HTML.
func TestAPIWritesAmpersandsAsTyped(t *testing.T) {
	t.Parallel()
	c := newCatalogue(t)
	s := c.add(t, "O'Brien & Sons <Roasters>", "Seattle")
	for _, target := range []string{fmt.Sprintf("/api/suppliers/%d", s.ID), "/api/suppliers"} {
		r := get(t, c.handler, target)
		r.want(t, http.StatusOK, "application/json")
		r.contains(t, `"O'Brien & Sons <Roasters>"`)
		r.lacks(t, `\u0026`, `\u003c`)
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", target, got)
		}
	}
}

package suppliers

import (
	"errors"
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		search, page, per string
		want              Query
		wantParam         string // "" means no error
	}{
		{"defaults", "", "", "", Query{Page: 1, PerPage: DefaultPerPage}, ""},
		{"trims search", "  Seattle ", "", "", Query{Search: "Seattle", Page: 1, PerPage: DefaultPerPage}, ""},
		{"page and size", "kona", "3", "50", Query{Search: "kona", Page: 3, PerPage: 50}, ""},
		{"largest page size", "", "", "100", Query{Page: 1, PerPage: 100}, ""},
		{"255 characters", strings.Repeat("é", 255), "", "", Query{Search: strings.Repeat("é", 255), Page: 1, PerPage: DefaultPerPage}, ""},
		{"256 characters", strings.Repeat("é", 256), "", "", Query{}, "q"},
		{"invalid UTF-8", "caf\xe9", "", "", Query{}, "q"},
		{"page zero", "", "0", "", Query{}, "page"},
		{"negative page", "", "-1", "", Query{}, "page"},
		{"page not a number", "", "abc", "", Query{}, "page"},
		{"page fraction", "", "1.5", "", Query{}, "page"},
		{"page too large", "", "1000001", "", Query{}, "page"},
		{"page overflow", "", "99999999999999999999", "", Query{}, "page"},
		{"page size zero", "", "", "0", Query{}, "per_page"},
		{"page size 101", "", "", "101", Query{}, "per_page"},
		{"page size word", "", "", "all", Query{}, "per_page"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseQuery(tc.search, tc.page, tc.per)
			if tc.wantParam == "" {
				if err != nil || got != tc.want {
					t.Fatalf("ParseQuery = %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Param != tc.wantParam {
				t.Fatalf("ParseQuery error = %v; want a QueryError for %s", err, tc.wantParam)
			}
			if !errors.Is(err, ErrInvalidQuery) {
				t.Errorf("error %v should match ErrInvalidQuery", err)
			}
			if !strings.HasPrefix(err.Error(), tc.wantParam+": ") {
				t.Errorf("message %q should start with the parameter name", err.Error())
			}
		})
	}
}

func TestListPager(t *testing.T) {
	t.Parallel()
	items := func(n int) []Supplier { return make([]Supplier, n) }
	for _, tc := range []struct {
		name        string
		list        List
		pages       int
		prev, next  bool
		first, last int
	}{
		{"empty directory", List{Items: items(0), Page: 1, PerPage: 20, Total: 0}, 1, false, false, 0, 0},
		{"one row", List{Items: items(1), Page: 1, PerPage: 20, Total: 1}, 1, false, false, 1, 1},
		{"exactly one page", List{Items: items(20), Page: 1, PerPage: 20, Total: 20}, 1, false, false, 1, 20},
		{"first of three", List{Items: items(20), Page: 1, PerPage: 20, Total: 45}, 3, false, true, 1, 20},
		{"middle of three", List{Items: items(20), Page: 2, PerPage: 20, Total: 45}, 3, true, true, 21, 40},
		{"last, partly full", List{Items: items(5), Page: 3, PerPage: 20, Total: 45}, 3, true, false, 41, 45},
		{"past the end", List{Items: items(0), Page: 9, PerPage: 20, Total: 45}, 3, true, false, 0, 0},
		{"zero page size", List{Items: items(0), Page: 1, PerPage: 0, Total: 5}, 1, false, false, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := tc.list
			if got := l.TotalPages(); got != tc.pages {
				t.Errorf("TotalPages = %d, want %d", got, tc.pages)
			}
			if got := l.HasPrev(); got != tc.prev {
				t.Errorf("HasPrev = %v, want %v", got, tc.prev)
			}
			if got := l.HasNext(); got != tc.next {
				t.Errorf("HasNext = %v, want %v", got, tc.next)
			}
			if got := l.First(); got != tc.first {
				t.Errorf("First = %d, want %d", got, tc.first)
			}
			if got := l.Last(); got != tc.last {
				t.Errorf("Last = %d, want %d", got, tc.last)
			}
		})
	}
}

func TestEscapeLike(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":            "",
		"Seattle":     "Seattle",
		"100%":        `100\%`,
		"a_b":         `a\_b`,
		`back\slash`:  `back\\slash`,
		`\%_`:         `\\\%\_`,
		"O'Brien & %": `O'Brien & \%`,
		"Café_%":      `Café\_\%`,
	} {
		if got := escapeLike(in); got != want {
			t.Errorf("escapeLike(%q) = %q, want %q", in, got, want)
		}
	}
}

package suppliers

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Page sizes: lists show DefaultPerPage rows; the JSON API may ask for up to
// MaxPerPage so a client cannot make one request read the whole table.
const (
	DefaultPerPage = 20
	MaxPerPage     = 100
	// MaxSearchChars bounds the search text; longer searches cannot match a
	// 255-character column anyway.
	MaxSearchChars = 255
)

// Query selects one page of suppliers, optionally filtered by a search text
// matched against name and city.
type Query struct {
	Search  string
	Page    int // 1-based
	PerPage int
}

// ErrInvalidQuery is wrapped by ParseQuery's errors.
var ErrInvalidQuery = errors.New("invalid list query")

// QueryError says which query parameter was wrong and why.
type QueryError struct {
	Param   string
	Message string
}

func (e *QueryError) Error() string { return e.Param + ": " + e.Message }

// Unwrap lets callers test for ErrInvalidQuery.
func (e *QueryError) Unwrap() error { return ErrInvalidQuery }

// ParseQuery reads the q, page and per_page parameters of a list URL.
// Missing values take defaults; present but malformed ones are errors.
func ParseQuery(search, page, perPage string) (Query, error) {
	q := Query{Search: strings.TrimSpace(search), Page: 1, PerPage: DefaultPerPage}
	if !utf8.ValidString(q.Search) || utf8.RuneCountInString(q.Search) > MaxSearchChars {
		return q, &QueryError{Param: "q", Message: "search text must be valid text of at most 255 characters"}
	}
	if page != "" {
		n, err := strconv.Atoi(page)
		if err != nil || n < 1 || n > 1_000_000 {
			return q, &QueryError{Param: "page", Message: "page must be a whole number from 1"}
		}
		q.Page = n
	}
	if perPage != "" {
		n, err := strconv.Atoi(perPage)
		if err != nil || n < 1 || n > MaxPerPage {
			return q, &QueryError{Param: "per_page", Message: "per_page must be a whole number from 1 to 100"}
		}
		q.PerPage = n
	}
	return q, nil
}

func (q Query) offset() int { return (q.Page - 1) * q.PerPage }

// List is one page of suppliers plus what a pager needs.
type List struct {
	Items   []Supplier `json:"items"`
	Search  string     `json:"search"`
	Page    int        `json:"page"`
	PerPage int        `json:"per_page"`
	Total   int        `json:"total"`
}

// TotalPages is the number of pages the whole result fills (at least 1, so
// an empty directory still has a page to show).
func (l List) TotalPages() int {
	if l.Total == 0 || l.PerPage == 0 {
		return 1
	}
	return (l.Total + l.PerPage - 1) / l.PerPage
}

// HasPrev reports whether a previous page exists.
func (l List) HasPrev() bool { return l.Page > 1 }

// HasNext reports whether a next page exists.
func (l List) HasNext() bool { return l.Page < l.TotalPages() }

// First and Last are the 1-based positions of the page's rows in the result.
func (l List) First() int {
	if len(l.Items) == 0 {
		return 0
	}
	return (l.Page-1)*l.PerPage + 1
}

// Last is the position of the page's last row.
func (l List) Last() int {
	if len(l.Items) == 0 {
		return 0
	}
	return l.First() + len(l.Items) - 1
}

// escapeLike makes s match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

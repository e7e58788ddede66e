package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// ui holds what both services' pages share: the layout with its partials,
// the error page and the style sheet. Only ui/static is ever served.
//
//go:embed ui/*.html ui/static/*
var ui embed.FS

// Link is one navigation entry.
type Link struct {
	Label string
	URL   string
	// SignedIn hides the entry from visitors who are not signed in: they
	// could not use the page it leads to.
	SignedIn bool
}

// Site describes the service whose pages are rendered.
type Site struct {
	Service string // customer or employee: log and metric labels
	Section string // shown beside the brand: Catalogue, Administration
	Home    string // where the brand links
	// VisitorHome is where the brand links for a visitor who is not
	// signed in, when Home needs signing in; empty means Home.
	VisitorHome string
	// BasePath prefixes this service's static files: "" for the customer,
	// "/admin" for the employee, so the load balancer's path rule sends
	// each service its own style sheet.
	BasePath string
	Nav      []Link
	// CacheControl for pages: "no-cache" lets browsers revalidate with the
	// ETag; "no-store" keeps administration pages out of shared caches.
	CacheControl string
}

// View is what every page template receives.
type View struct {
	Site      Site
	Title     string
	Path      string // the request path, to mark the current nav entry
	RequestID string
	// Account is who is signed in, shown in the header with a sign-out
	// button; nil on public pages and for visitors.
	Account *Account
	// CSRFToken goes into every state-changing form as the hidden input
	// csrf_token; empty where a service has no sessions.
	CSRFToken string
	Data      any
	// Content, when set, is the page's content already rendered (from the
	// page cache); the layout shows it instead of rendering "content".
	Content template.HTML
	// Nav is the main navigation for Path, rendered once at start.
	Nav template.HTML
}

// BrandURL is where the brand in the header links for this page's reader.
func (v View) BrandURL() string {
	if v.Account == nil && v.Site.VisitorHome != "" {
		return v.Site.VisitorHome
	}
	return v.Site.Home
}

// Account is the signed-in user as the page header shows them.
type Account struct {
	Email      string
	SignOutURL string // where the header's sign-out form posts
}

const (
	accountKey   = "web.account"
	csrfTokenKey = "web.csrf_token"
)

// SetAccount tells the pages rendered for this request who is signed in.
func SetAccount(c *gin.Context, a Account) { c.Set(accountKey, a) }

// SetCSRFToken gives the pages rendered for this request the token their
// forms must send back.
func SetCSRFToken(c *gin.Context, token string) { c.Set(csrfTokenKey, token) }

// templates holds one parsed template set per page: the shared layout
// cloned and completed by the page's "title" and "content" blocks.
type templates map[string]*template.Template

var funcs = template.FuncMap{
	"pageURL":    pageURL,
	"pageWindow": pageWindow,
	"mailto":     mailtoURL,
	"words":      wholeWords,
	"email":      emailBreaks,
	"add":        func(a, b int) int { return a + b },
}

// pagerWindow is how many page numbers the pager shows at most.
const pagerWindow = 5

// pageWindow is the page numbers the pager links to: up to five around the
// list's page, fewer near the ends. A page past the end centres on the last.
func pageWindow(list suppliers.List) []int {
	total := list.TotalPages()
	current := min(max(list.Page, 1), total)
	lo := max(1, current-pagerWindow/2)
	hi := min(total, lo+pagerWindow-1)
	lo = max(1, hi-pagerWindow+1)
	out := make([]int, 0, hi-lo+1)
	for n := lo; n <= hi; n++ {
		out = append(out, n)
	}
	return out
}

// maxWholeWord is the longest word kept on one line. A longer one may
// break where it must, so it never pushes a narrow screen sideways.
const maxWholeWord = 30

// wholeWords escapes s for a table cell and keeps each of its words on one
// line: browsers break after a hyphen or slash ("Kailua-/Kona"), so a word
// holding one goes into a span that does not wrap (class nw in the style
// sheet). Spaces stay where lines may break.
func wholeWords(s string) template.HTML {
	var b strings.Builder
	for i, word := range strings.Split(s, " ") {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(keepTogether(word, breaksInside(word)))
	}
	return template.HTML(b.String())
}

// emailBreaks escapes an email address for a table cell, letting lines
// break only after its @ and dots (<wbr>): "orders@" "harbor." "example."
// "com", never inside a name.
func emailBreaks(address string) template.HTML {
	var b strings.Builder
	start := 0
	for i := 0; i < len(address); i++ {
		if c := address[i]; c == '@' || c == '.' {
			b.WriteString(keepTogether(address[start:i+1], breaksInside(address[start:i+1])))
			b.WriteString("<wbr>")
			start = i + 1
		}
	}
	b.WriteString(keepTogether(address[start:], breaksInside(address[start:])))
	return template.HTML(b.String())
}

// keepTogether escapes part and, when asked and it is short enough to
// fit a phone's line, wraps it in a span that does not wrap.
func keepTogether(part string, nowrap bool) string {
	escaped := template.HTMLEscapeString(part)
	if !nowrap || part == "" || utf8.RuneCountInString(part) > maxWholeWord {
		return escaped
	}
	return `<span class="nw">` + escaped + `</span>`
}

// breaksInside reports whether a browser could break word before its end.
func breaksInside(word string) bool {
	_, last := utf8.DecodeLastRuneInString(word)
	return strings.ContainsFunc(word[:len(word)-last], breaksAfter)
}

// breaksAfter reports whether a browser may start a new line after r
// inside a word (Unicode line breaking's hyphens, dashes, slashes and
// exclamations); apostrophes, dots between letters and @ hold words
// together already.
func breaksAfter(r rune) bool {
	return strings.ContainsRune("-‐‑–—/\\?!|", r)
}

// mailtoURL links an email address so that nothing in it can become a
// header of the visitor's message: a mailto URL's ? starts headers (cc,
// bcc, subject, body), & separates them and # ends the address, and
// html/template leaves them as they are after "mailto:". Every byte but
// letters, digits, -._~ and the last @ is percent-encoded, so even a
// crafted row stored before validation refused it links one address.
func mailtoURL(address string) template.URL {
	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return template.URL("mailto:" + escapeMailto(address))
	}
	return template.URL("mailto:" + escapeMailto(address[:at]) + "@" + escapeMailto(address[at+1:]))
}

// escapeMailto percent-encodes every byte of s but RFC 3986's unreserved
// characters.
func escapeMailto(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// pageURL is the query string for page n of the same list and search.
func pageURL(list suppliers.List, n int) string {
	v := url.Values{}
	if list.Search != "" {
		v.Set("q", list.Search)
	}
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	if len(v) == 0 {
		return "?"
	}
	return "?" + v.Encode()
}

// parseTemplates parses the shared layout once, then each page of pages
// (files named *.html at its root) plus the shared error page on a clone.
func parseTemplates(pages fs.FS) (templates, error) {
	base, err := template.New("layout").Funcs(funcs).ParseFS(ui, "ui/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	out := templates{}
	add := func(fsys fs.FS, file string) error {
		t, err := base.Clone()
		if err != nil {
			return fmt.Errorf("clone layout for %s: %w", file, err)
		}
		if _, err := t.ParseFS(fsys, file); err != nil {
			return fmt.Errorf("parse page %s: %w", file, err)
		}
		out[strings.TrimSuffix(path.Base(file), ".html")] = t
		return nil
	}
	if err := add(ui, "ui/error.html"); err != nil {
		return nil, err
	}
	files, err := fs.Glob(pages, "*.html")
	if err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	for _, f := range files {
		if err := add(pages, f); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// HTML renders page into a buffer first, so a template error becomes a
// clean error page instead of half a page after a 200.
func (a *App) HTML(c *gin.Context, status int, page, title string, data any) error {
	return a.render(c, status, page, View{Title: title, Data: data})
}

// render completes view with the request's site, path, id, account and
// form token, and writes page.
func (a *App) render(c *gin.Context, status int, page string, view View) error {
	t, ok := a.pages[page]
	if !ok {
		return fmt.Errorf("render: no page named %q", page)
	}
	view.Site, view.Path, view.RequestID = a.site, c.Request.URL.Path, RequestID(c)
	view.CSRFToken = c.GetString(csrfTokenKey)
	if account, ok := c.Get(accountKey); ok {
		if a, ok := account.(Account); ok {
			view.Account = &a
		}
	}
	view.Nav = a.navFor(view.Path, view.Account != nil)
	buf := buffers.Get().(*bytes.Buffer)
	defer putBuffer(buf)
	if err := t.ExecuteTemplate(buf, "layout", view); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	write(c, status, "text/html; charset=utf-8", a.site.CacheControl, buf.Bytes())
	return nil
}

// buffers recycles the buffers pages are rendered into: a page is about
// 10 KB, and growing a fresh buffer to that size for every request was a
// tenth of a signed-in page's cost. write has sent the bytes by the time a
// buffer goes back.
var buffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 16<<10)) }}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 256<<10 {
		return // an unusually large page: let it go rather than pin it
	}
	b.Reset()
	buffers.Put(b)
}

// JSON writes v with an ETag, like pages. Text goes out as typed ("&", not
// "\u0026"): json.Marshal's HTML escaping guards JSON pasted into a page,
// but these answers are application/json with nosniff, never read as HTML.
func JSON(c *gin.Context, status int, v any) error {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // Encode ends the line
		return fmt.Errorf("encode json: %w", err)
	}
	write(c, status, "application/json; charset=utf-8", "no-cache", body.Bytes())
	return nil
}

// write sends body, answering 304 Not Modified when a successful GET's
// content matches the client's If-None-Match: the body is made anyway
// (rendered, or from the page cache within its bound), but unchanged bytes
// never cross the wire.
func write(c *gin.Context, status int, contentType, cacheControl string, body []byte) {
	etag := ""
	if status == http.StatusOK && (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) {
		etag = etagOf(body)
	}
	writeTagged(c, status, contentType, cacheControl, body, etag)
}

// writeTagged is write with body's ETag already known (empty for none).
func writeTagged(c *gin.Context, status int, contentType, cacheControl string, body []byte, etag string) {
	h := c.Writer.Header()
	if cacheControl != "" {
		h.Set("Cache-Control", cacheControl)
	}
	if etag != "" && status == http.StatusOK && (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) {
		h.Set("ETag", etag)
		if etagMatches(c.GetHeader("If-None-Match"), etag) {
			c.Status(http.StatusNotModified)
			c.Writer.WriteHeaderNow()
			return
		}
	}
	// With its length known, net/http sends the answer in one piece rather
	// than as chunks, one system call per buffer.
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Data(status, contentType, body)
}

// castagnoli is CRC-32C, which the CPU computes in hardware: an ETag over
// a 10 KB page costs a microsecond, not the dozen FNV took.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// etagOf names body's content: its CRC-32C and its length. The same bytes
// get the same tag on every replica; a change that kept both the length and
// the checksum (one chance in four billion) would only cost one stale view.
func etagOf(body []byte) string {
	return `"` + strconv.FormatUint(uint64(crc32.Checksum(body, castagnoli)), 36) + "-" +
		strconv.FormatUint(uint64(len(body)), 36) + `"`
}

// etagMatches implements If-None-Match's weak comparison over a list.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == "*" || candidate == etag {
			return true
		}
	}
	return false
}

// staticFiles loads the style sheet and friends once, with their ETags.
func (a *App) serveStatic(engine *gin.Engine) error {
	sub, err := fs.Sub(ui, "ui/static")
	if err != nil {
		return fmt.Errorf("static files: %w", err)
	}
	files := map[string][]byte{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files["/"+p], err = fs.ReadFile(sub, p)
		return err
	})
	if err != nil {
		return fmt.Errorf("static files: %w", err)
	}
	engine.GET(a.site.BasePath+"/static/*file", func(c *gin.Context) {
		body, ok := files[c.Param("file")]
		if !ok {
			a.fail(c, Errorf(http.StatusNotFound, "There is no such file."))
			return
		}
		contentType := "application/octet-stream"
		if strings.HasSuffix(c.Param("file"), ".css") {
			contentType = "text/css; charset=utf-8"
		}
		// Short-lived: a deployment's new style sheet reaches browsers
		// within five minutes, and the ETag makes revalidation cheap.
		write(c, http.StatusOK, contentType, "public, max-age=300", body)
	})
	// The icon: at the site's root, where browsers look for it (the load
	// balancer sends that to the customer service), and under the base
	// path, where the layout links it, so each service serves its own.
	icon, err := favicon()
	if err != nil {
		return err
	}
	serveIcon := func(c *gin.Context) {
		write(c, http.StatusOK, "image/x-icon", "public, max-age=86400", icon)
	}
	engine.GET("/favicon.ico", serveIcon)
	if a.site.BasePath != "" {
		engine.GET(a.site.BasePath+"/favicon.ico", serveIcon)
	}
	return nil
}

// renderNav renders the navigation once for each of its entries' pages and
// once for any other page, for signed-in employees and for visitors: it
// depends on nothing else, and rendering it per request was a quarter of a
// signed-in page's cost.
func renderNav(t *template.Template, site Site) (map[navKey]template.HTML, error) {
	nav := map[navKey]template.HTML{}
	for _, path := range append([]string{""}, urlsOf(site.Nav)...) {
		for _, signedIn := range []bool{false, true} {
			view := View{Site: site, Path: path}
			if signedIn {
				view.Account = &Account{}
			}
			var buf bytes.Buffer
			if err := t.ExecuteTemplate(&buf, "nav", view); err != nil {
				return nil, fmt.Errorf("render navigation: %w", err)
			}
			// Escaped by html/template for the body context the layout
			// puts it in.
			nav[navKey{path, signedIn}] = template.HTML(buf.String())
		}
	}
	return nav, nil
}

// navKey names one rendering of the navigation: the page it marks as
// current, and whether its reader is signed in.
type navKey struct {
	path     string
	signedIn bool
}

func urlsOf(links []Link) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.URL
	}
	return out
}

// navFor is the navigation for a page at path, for a reader signed in or
// not.
func (a *App) navFor(path string, signedIn bool) template.HTML {
	if nav, ok := a.nav[navKey{path, signedIn}]; ok {
		return nav
	}
	return a.nav[navKey{"", signedIn}]
}

package server

import (
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/net/html"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
)

// renderCase is one page rendered with one view model.
type renderCase struct {
	name   string
	page   string
	title  string
	data   any
	expect []string
}

// renderToken stands for a session's CSRF token in rendered pages.
const renderToken = "test-csrf-token-0123456789"

func renderCases() []renderCase {
	stored := suppliers.Supplier{ID: 7, Name: "O'Brien & Sons <b>", Address: "1 Quay", City: "Trieste",
		State: "Friuli-Venezia Giulia", Email: "orders@obrien.example.com", Phone: "+39 040 555 0100", Version: 3}
	items := suppliers.List{Items: []suppliers.Supplier{stored}, Search: "o'b", Page: 2, PerPage: 1, Total: 3}
	invalid := suppliers.FieldErrors{"name": "Name is required.", "email": "Enter an email address like orders@example.com."}
	conflict := editSupplierForm(7, 4, stored.Input(), nil)
	conflict.Current = detailsOf(stored)
	confirm, changed := newRemovePage(stored, false), newRemovePage(stored, true)
	at := time.Date(2026, 3, 14, 9, 5, 0, 0, time.UTC)
	before, after := stored.Input(), stored.Input()
	after.City, after.Phone = "Trst <b>", "+39 040 555 0199"
	withHistory := editSupplierForm(7, 3, stored.Input(), nil)
	withHistory.ShowHistory = true
	withHistory.History = historyOf([]suppliers.Change{
		{ID: 3, SupplierID: 7, Action: suppliers.ActionUpdate, Actor: suppliers.Actor{ID: 2, Email: "bo@coffee.example"}, At: at.Add(time.Hour), Before: &after, After: &after},
		{ID: 2, SupplierID: 7, Action: suppliers.ActionUpdate, Actor: suppliers.Actor{ID: 1, Email: "ana@coffee.example"}, At: at.Add(time.Minute), Before: &before, After: &after},
		{ID: 1, SupplierID: 7, Action: suppliers.ActionCreate, Actor: suppliers.Actor{ID: 1, Email: "ana@coffee.example"}, At: at, After: &before},
	})
	noHistory := editSupplierForm(7, 3, stored.Input(), nil)
	noHistory.ShowHistory = true
	return []renderCase{
		{"sign-in", "login", "Sign in", loginPage{Next: listPath},
			[]string{`<form class="login" method="post" action="/admin/login">`, `<label for="login-email">Email</label>`,
				`autocomplete="username"`, `autocomplete="current-password"`, `type="password"`,
				`<button type="submit">Sign in</button>`, `name="next" value="/admin/suppliers"`}},
		{"sign-in refused", "login", "Error: Sign in", loginPage{Email: "o'brien@coffee.example", Next: "/admin/supplier-update/7?x=1&y=2", Error: msgIncorrect},
			[]string{"There is a problem", msgIncorrect, `value="o&#39;brien@coffee.example"`, `aria-describedby="login-error"`,
				`name="next" value="/admin/supplier-update/7?x=1&amp;y=2"`}},
		{"sign-in after expiry", "login", "Sign in", loginPage{Next: listPath, Warning: msgExpired},
			[]string{`<p class="notice warn" role="alert">Your session expired. Please sign in again.</p>`}},
		{"signed out", "login", "Sign in", loginPage{Next: listPath, Notice: msgSignedOut},
			[]string{`<p class="notice ok" role="status">You have signed out.</p>`}},
		{"edit form with history", "supplier-form", "Edit supplier", withHistory,
			[]string{`<h2 id="history-title">History</h2>`, `<th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th>`,
				`<time datetime="2026-03-14T09:06:00Z">14 Mar 2026, 09:06 UTC</time>`, "ana@coffee.example", "bo@coffee.example",
				`City: <span class="before">Trieste</span> → <span class="after">Trst &lt;b&gt;</span>`,
				`Phone: <span class="before">&#43;39 040 555 0100</span> → <span class="after">&#43;39 040 555 0199</span>`,
				"Saved without changes", "Added", "<li>Name: O&#39;Brien &amp; Sons &lt;b&gt;</li>"}},
		{"edit form without history", "supplier-form", "Edit supplier", noHistory,
			[]string{"History", "No changes have been recorded for this supplier yet."}},
		{"empty list", "suppliers", "Suppliers", listPage{List: suppliers.List{Items: []suppliers.Supplier{}, Page: 1, PerPage: 20}},
			[]string{"No suppliers."}},
		{"searched list with notice", "suppliers", "Suppliers", listPage{List: items, Notice: "Changes saved."},
			[]string{"Changes saved.", `Edit<span class="visually-hidden"> O&#39;Brien &amp; Sons &lt;b&gt;</span>`, "Page 2 of 3", `href="/admin/supplier-update/7"`}},
		{"list past its end", "suppliers", "Suppliers", listPage{List: suppliers.List{Items: []suppliers.Supplier{}, Page: 5, PerPage: 20, Total: 3}},
			[]string{"past the end of the list"}},
		{"add form", "supplier-form", "Add supplier", newSupplierForm(suppliers.Input{}, nil),
			[]string{`action="/admin/supplier-add"`, `autocomplete="organization"`, `type="email"`, `type="tel"`, `maxlength="254"`}},
		{"add form with errors", "supplier-form", "Error: Add supplier", newSupplierForm(suppliers.Input{Email: "nope"}, invalid),
			[]string{"There is a problem", `href="#supplier-name"`, `aria-describedby="supplier-email-error"`, `value="nope"`}},
		{"edit form", "supplier-form", "Edit supplier", editSupplierForm(7, 3, stored.Input(), nil),
			[]string{`name="version" value="3"`, "Delete this supplier…", `action="/admin/supplier-update/7"`}},
		{"edit conflict", "supplier-form", "Edit supplier", conflict,
			[]string{"changed by someone else", `<dl class="current">`, `name="version" value="4"`}},
		{"delete confirmation", "supplier-remove", confirm.Heading, confirm,
			[]string{"This cannot be undone.", `class="danger"`, `href="/admin/supplier-update/7"`}},
		{"delete after a change", "supplier-remove", changed.Heading, changed,
			[]string{"has not been deleted", `name="version" value="3"`}},
		{"error", "error", "Supplier not found", web.Classify(suppliers.ErrNotFound),
			[]string{"Supplier not found", `href="/admin/suppliers"`}},
	}
}

// TestEveryPageRenders renders each page template with realistic data and
// checks the markup a keyboard or screen-reader user depends on.
func TestEveryPageRenders(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.ReleaseMode) // as the service runs, and without gin's debug banner
	pages, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		t.Fatal(err)
	}
	app, err := web.NewApp(slog.New(slog.DiscardHandler), site, pages)
	if err != nil {
		t.Fatalf("parse templates: %v", err)
	}
	rendered := map[string]bool{}
	for _, tc := range renderCases() {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(rec)
			c.Request = httptest.NewRequest(http.MethodGet, listPath, nil)
			web.SetCSRFToken(c, renderToken)
			// The sign-in page is for visitors; every other page is
			// rendered for a signed-in employee.
			visitor := tc.page == "login"
			if !visitor {
				web.SetAccount(c, web.Account{Email: "ana@coffee.example", SignOutURL: logoutPath})
			}
			if err := app.HTML(c, http.StatusOK, tc.page, tc.title, tc.data); err != nil {
				t.Fatalf("render: %v", err)
			}
			if visitor {
				// Nothing offered that a visitor could not open, nothing
				// about the administrators' tools.
				wantNoBody(t, rec, "Sign out", "Signed in as", `href="/admin/suppliers"`, `href="/admin/supplier-add"`,
					"employee accounts")
				wantBody(t, rec, `<a class="brand" href="/">`, `<a href="/">Customer site</a>`)
			} else {
				wantBody(t, rec, "Signed in as <strong>ana@coffee.example</strong>",
					`<form method="post" action="/admin/logout">`, `<button type="submit" class="link">Sign out</button>`,
					`<a href="/admin/suppliers" aria-current="page">Suppliers</a>`, `<a class="brand" href="/admin/suppliers">`)
			}
			// Every form that posts carries the session's token.
			forms := strings.Count(rec.Body.String(), `<form method="post"`) + strings.Count(rec.Body.String(), `<form class="login" method="post"`)
			if got := strings.Count(rec.Body.String(), `<input type="hidden" name="csrf_token" value="`+renderToken+`">`); got != forms {
				t.Errorf("%d post forms but %d CSRF tokens", forms, got)
			}
			wantBody(t, rec, append(tc.expect, "<title>"+escaped(tc.title)+" · Coffee Suppliers</title>",
				`href="/admin/static/style.css"`, `<link rel="icon" href="/admin/favicon.ico" sizes="32x32">`)...)
			wantNoBody(t, rec, "ZgotmplZ", "<no value>", "&amp;amp;", "&amp;#")
			checkAccessibleMarkup(t, rec.Body.String())
		})
		rendered[tc.page] = true
	}
	files, err := fs.Glob(pages, "*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if page := strings.TrimSuffix(path.Base(f), ".html"); !rendered[page] {
			t.Errorf("template %s has no render case", f)
		}
	}
}

// checkAccessibleMarkup parses page and checks what no page may get wrong:
// one h1 and no skipped heading levels, a label for every visible input,
// references to ids that exist, real submit buttons, and no script or
// inline style (the CSP would block them).
func checkAccessibleMarkup(t *testing.T, page string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("parse html: %v", err)
	}
	ids := map[string]int{}
	labelled := map[string]bool{}
	var inputs, references []string
	var headings []int
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s> has an event handler attribute %s", n.Data, a.Key)
				}
			}
			if id, ok := attrs["id"]; ok {
				ids[id]++
			}
			if _, ok := attrs["style"]; ok {
				t.Errorf("<%s> has an inline style", n.Data)
			}
			for _, key := range []string{"aria-describedby", "aria-labelledby"} {
				if v, ok := attrs[key]; ok {
					references = append(references, strings.Fields(v)...)
				}
			}
			switch n.Data {
			case "script":
				t.Errorf("page has a <script>")
			case "h1", "h2", "h3", "h4", "h5", "h6":
				headings = append(headings, int(n.Data[1]-'0'))
			case "label":
				labelled[attrs["for"]] = true
			case "input":
				if attrs["type"] != "hidden" {
					inputs = append(inputs, attrs["id"])
				}
			case "button":
				if attrs["type"] != "submit" {
					t.Errorf("button without type=submit: %v", n.Attr)
				}
			case "a":
				if href := attrs["href"]; strings.HasPrefix(href, "#") && len(href) > 1 {
					references = append(references, href[1:])
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)

	if len(headings) == 0 || headings[0] != 1 {
		t.Errorf("first heading is not an h1: %v", headings)
	}
	h1s := 0
	for i, level := range headings {
		if level == 1 {
			h1s++
		}
		if i > 0 && level > headings[i-1]+1 {
			t.Errorf("heading levels skip from h%d to h%d", headings[i-1], level)
		}
	}
	if h1s != 1 {
		t.Errorf("page has %d h1 elements, want 1", h1s)
	}
	for _, id := range inputs {
		if id == "" || !labelled[id] {
			t.Errorf("input %q has no <label for>", id)
		}
	}
	for _, id := range references {
		if ids[id] == 0 {
			t.Errorf("reference to missing id %q", id)
		}
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
}

// TestPagesCarrySecurityHeaders checks every kind of answer a browser
// renders: lists, forms, confirmations and error pages.
func TestPagesCarrySecurityHeaders(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())
	jsonPost := httptest.NewRequest(http.MethodPost, addPath, strings.NewReader(`{}`))
	jsonPost.Header.Set("Content-Type", "application/json")
	invalid := formOf(validInput())
	invalid.Set("email", "nope")

	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, listPath, nil),
		httptest.NewRequest(http.MethodGet, addPath, nil),
		httptest.NewRequest(http.MethodGet, updatePathOf(s.ID), nil),
		httptest.NewRequest(http.MethodGet, removePathOf(s.ID), nil),
		httptest.NewRequest(http.MethodGet, "/admin/no-such-page", nil),
		httptest.NewRequest(http.MethodGet, updatePath+"abc", nil),
		newFormRequest(addPath, invalid),
		jsonPost,
	} {
		// A cross-origin caller must not be granted access either.
		req.Header.Set("Origin", "https://elsewhere.example")
		rec := serve(svc.handler, req)
		label := req.Method + " " + req.URL.Path
		h := rec.Header()
		for name, want := range map[string]string{
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "same-origin",
			"Content-Type":           "text/html; charset=utf-8",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", label, name, got, want)
			}
		}
		csp := h.Get("Content-Security-Policy")
		for _, directive := range []string{"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, directive) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", label, csp, directive)
			}
		}
		if strings.Contains(csp, "script-src") {
			t.Errorf("%s: Content-Security-Policy allows scripts: %q", label, csp)
		}
		if v, ok := h["Access-Control-Allow-Origin"]; ok {
			t.Errorf("%s: Access-Control-Allow-Origin %q is set", label, v)
		}
		if strings.Contains(strings.ToLower(rec.Body.String()), "<script") {
			t.Errorf("%s: page has a script", label)
		}
	}
}

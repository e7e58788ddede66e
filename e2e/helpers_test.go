package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webclient"
)

// storyTimeout bounds each story: every action in its tabs shares it.
const storyTimeout = 2 * time.Minute

// tab is one browser tab driven by one test. Its methods fail the test
// (t.Fatal) when the page does not offer what a user would look for.
type tab struct {
	t        *testing.T
	ctx      context.Context
	deadline context.Context // the story's bounded context, parent of its tabs
}

// openTab opens a fresh tab for the test, closed when the test ends. Each
// story gets a browser context of its own (like a private window): its own
// cookies, so one story signing in, out or being throttled never changes
// what another sees.
func openTab(t *testing.T) *tab {
	t.Helper()
	requireBrowser(t)
	deadline, cancel := context.WithTimeout(target.browser, storyTimeout)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(deadline, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelTab)
	return setUpTab(t, ctx, deadline)
}

// signedInTab opens a fresh tab and signs in through the sign-in form with
// the stories' account.
func signedInTab(t *testing.T) *tab {
	t.Helper()
	p := openTab(t)
	p.signIn()
	return p
}

// anotherTab opens a second tab in the same browser context, as someone
// with two windows open would: it shares the first tab's cookies (so its
// sign-in) and the story's deadline.
func (p *tab) anotherTab() *tab {
	p.t.Helper()
	ctx, cancel := chromedp.NewContext(p.ctx) // inherits the browser context
	p.t.Cleanup(cancel)
	return setUpTab(p.t, ctx, p.deadline)
}

func setUpTab(t *testing.T, ctx, deadline context.Context) *tab {
	t.Helper()
	p := &tab{t: t, ctx: ctx, deadline: deadline}
	// Let every tab behave as the focused window, so keyboard focus works
	// while other stories' tabs are open.
	p.do("open a tab", chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	}))
	return p
}

// do runs actions, failing the test with what was being done.
func (p *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// eval runs a JavaScript expression through DevTools (not subject to the
// page's Content-Security-Policy) and decodes its JSON result.
func eval[T any](p *tab, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", abbreviate(expr), err)
	}
	return v
}

// navigate runs an action that loads a new page, waits until it has
// loaded, and returns the main document's response.
func (p *tab) navigate(what string, action chromedp.Action[chromedp.Void]) *network.Response {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, action)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	if resp == nil {
		p.t.Fatalf("%s: no page was loaded", what)
	}
	return resp
}

// visit opens a path of the application, as typed into the address bar.
func (p *tab) visit(pathAndQuery string) *network.Response {
	p.t.Helper()
	return p.navigate("visit "+pathAndQuery, chromedp.Navigate(target.baseURL+pathAndQuery))
}

// clickLink follows the link whose text is text.
func (p *tab) clickLink(text string) *network.Response {
	p.t.Helper()
	return p.navigate("follow link "+strconv.Quote(text), chromedp.Click(p.mustFind("a", text), chromedp.NodeVisible))
}

// clickButton presses the button whose text is text and waits for the page
// the form leads to.
func (p *tab) clickButton(text string) *network.Response {
	p.t.Helper()
	return p.navigate("press button "+strconv.Quote(text), chromedp.Click(p.mustFind("button", text), chromedp.NodeVisible))
}

// mustFind selects the first element matching css whose text, with white
// space collapsed, is text. The page has loaded, so absence is a failure
// at once, listing what the page offers instead.
func (p *tab) mustFind(css, text string) chromedp.JSPath {
	p.t.Helper()
	find := fmt.Sprintf(`[...document.querySelectorAll(%s)].find(e => e.textContent.replace(/\s+/g, " ").trim() === %s)`, js(css), js(text))
	if !eval[bool](p, "!!"+find) {
		offered := eval[[]string](p, fmt.Sprintf(`[...document.querySelectorAll(%s)].map(e => e.textContent.replace(/\s+/g, " ").trim())`, js(css)))
		p.t.Fatalf("no <%s> %q on %s; there are: %q", css, text, p.location(), offered)
	}
	return chromedp.JSPath(find)
}

// fieldID returns the id of the form control labelled label (its
// <label for>), failing when there is no such label or control.
func (p *tab) fieldID(label string) string {
	p.t.Helper()
	id := eval[string](p, fmt.Sprintf(`(() => {
		const l = [...document.querySelectorAll("label")].find(l => l.textContent.replace(/\s+/g, " ").trim() === %s);
		return l && l.htmlFor && document.getElementById(l.htmlFor) ? l.htmlFor : "";
	})()`, js(label)))
	if id == "" {
		p.t.Fatalf("no field labelled %q on %s", label, p.location())
	}
	return id
}

// fillField replaces the value of the field labelled label by typing, as a
// user would: focus it, select what it holds, delete, type.
func (p *tab) fillField(label, value string) {
	p.t.Helper()
	p.typeInto(label, value, false)
}

// fillSecret types a password into the field labelled label; unlike
// fillField, a failure never shows what was typed.
func (p *tab) fillSecret(label, value string) {
	p.t.Helper()
	p.typeInto(label, value, true)
}

func (p *tab) typeInto(label, value string, secret bool) {
	p.t.Helper()
	id := chromedp.ID(p.fieldID(label))
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.Focus(id),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(kb.ModifierCtrl)),
		chromedp.KeyEvent(kb.Backspace),
	}
	if value != "" {
		actions = append(actions, chromedp.SendKeys(id, value))
	}
	p.do("fill in "+label, actions...)
	if got := p.fieldValue(label); got != value {
		if secret {
			p.t.Fatalf("typed a %d-character secret into %q, but the field holds %d characters", len(value), label, len(got))
		}
		p.t.Fatalf("typed %q into %q, but the field holds %q", value, label, got)
	}
}

// fieldValue returns what the field labelled label holds.
func (p *tab) fieldValue(label string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`document.getElementById(%s).value`, js(p.fieldID(label))))
}

// search types text into the list's search box and submits it.
func (p *tab) search(text string) *network.Response {
	p.t.Helper()
	p.fillField("Search by name or city", text)
	return p.clickButton("Search")
}

// openEditForm finds s in the administration list by its key and follows
// its Edit link, as an employee would.
func (p *tab) openEditForm(s supplier) {
	p.t.Helper()
	p.visit("/admin/suppliers")
	p.search(s.Key)
	p.clickLink("Edit " + s.Name)
}

// The sign-in page as an employee sees it.
const (
	loginPath       = "/admin/login"
	loginHeading    = "Sign in"
	msgIncorrect    = "Email or password is incorrect."
	msgExpired      = "Your session expired. Please sign in again."
	msgSignedOut    = "You have signed out."
	msgTooManyStart = "Too many failed sign-in attempts."
)

// submitLogin types email and password into the sign-in form on screen
// and presses "Sign in", returning the page it leads to.
func (p *tab) submitLogin(email, password string) *network.Response {
	p.t.Helper()
	p.fillField("Email", email)
	p.fillSecret("Password", password)
	return p.clickButton("Sign in")
}

// signIn signs in with the stories' account through the sign-in page and
// checks the administration then says who is signed in.
func (p *tab) signIn() {
	p.t.Helper()
	p.visit(loginPath)
	if h := p.heading(); h != loginHeading {
		p.t.Fatalf("%s shows %q, want the sign-in page", loginPath, h)
	}
	resp := p.submitLogin(target.adminEmail, target.adminPassword)
	if resp.Status != http.StatusOK || p.onLoginPage() {
		p.t.Fatalf("signing in as %s answered %d on %s: %q %q", target.adminEmail, resp.Status, p.location(),
			p.heading(), p.textOf(`[role="alert"]`))
	}
	if who := p.signedInAs(); !strings.EqualFold(who, target.adminEmail) {
		p.t.Fatalf("after signing in the header names %q, want %s", who, target.adminEmail)
	}
}

// onLoginPage says whether the tab shows the sign-in page.
func (p *tab) onLoginPage() bool {
	p.t.Helper()
	u, err := url.Parse(p.location())
	return err == nil && u.Path == loginPath && p.heading() == loginHeading
}

// signedInAs is the email the page header names as signed in, or "" when
// the header names nobody.
func (p *tab) signedInAs() string {
	p.t.Helper()
	if !strings.HasPrefix(p.textOf("header .account"), "Signed in as ") {
		return ""
	}
	return p.textOf("header .account strong")
}

// cookies are the cookies the tab's browser context would send with a
// request for pathAndQuery.
func (p *tab) cookies(pathAndQuery string) []*network.Cookie {
	p.t.Helper()
	cookies, err := chromedp.Run(p.ctx, chromedp.Action[[]*network.Cookie](func(ctx context.Context, tt *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, tt, network.GetCookies, network.GetCookiesParams{URLs: []string{target.baseURL + pathAndQuery}})
		if err != nil {
			return nil, err
		}
		return res.Cookies, nil
	}))
	if err != nil {
		p.t.Fatalf("read the browser's cookies: %v", err)
	}
	return cookies
}

// alert is the text of the page's alerts: error summaries and warnings.
func (p *tab) alert() string {
	p.t.Helper()
	return eval[string](p, `[...document.querySelectorAll('[role="alert"]')].map(e => e.innerText.trim()).join("\n")`)
}

// pressKey sends one key (kb.Tab, kb.Enter, ...) to the focused element.
func (p *tab) pressKey(key string) {
	p.t.Helper()
	p.do("press "+strconv.Quote(key), chromedp.KeyEvent(key))
}

// textOf returns the visible text of the first element matching css, or
// "" when there is none.
func (p *tab) textOf(css string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.innerText.trim() : ""; })()`, js(css)))
}

// count returns how many elements match css.
func (p *tab) count(css string) int {
	p.t.Helper()
	return eval[int](p, fmt.Sprintf(`document.querySelectorAll(%s).length`, js(css)))
}

// heading is the page's h1.
func (p *tab) heading() string {
	p.t.Helper()
	return p.textOf("h1")
}

// notice is the banner a list shows after a change.
func (p *tab) notice() string {
	p.t.Helper()
	return p.textOf(`.notice[role="status"]`)
}

// noticeFor is the list's notice after a change: what happened (added,
// updated, deleted) to which supplier.
func noticeFor(what, name string) string {
	return "Supplier “" + name + "” " + what + "."
}

// location is the current address, for messages.
func (p *tab) location() string {
	p.t.Helper()
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		return "(unknown page)"
	}
	return strings.TrimPrefix(loc, target.baseURL)
}

// summaryRe reads a list's summary line: "Showing 21–40 of 45 suppliers."
var summaryRe = regexp.MustCompile(`^Showing (\d+)–(\d+) of (\d+) suppliers?\b`)

// shown returns the positions of the first and last row shown and the
// total, as the list's summary says them.
func (p *tab) shown() (first, last, total int) {
	p.t.Helper()
	s := p.textOf("p.summary")
	m := summaryRe.FindStringSubmatch(s)
	if m == nil {
		p.t.Fatalf("summary on %s is %q, want \"Showing F–L of N suppliers…\"", p.location(), s)
	}
	first, _ = strconv.Atoi(m[1])
	last, _ = strconv.Atoi(m[2])
	total, _ = strconv.Atoi(m[3])
	return first, last, total
}

// table is the supplier table of a list page as a user reads it.
type table struct {
	Headers []string   `json:"headers"`
	Cells   [][]string `json:"cells"`
	// Markup counts elements inside the body's cells other than the
	// page's own: text typed as HTML must show as text, never become
	// elements.
	Markup int `json:"markup"`
}

// rows returns the table's rows keyed by column header.
func (tb table) rows() []map[string]string {
	out := make([]map[string]string, 0, len(tb.Cells))
	for _, cells := range tb.Cells {
		row := map[string]string{}
		for i, c := range cells {
			if i < len(tb.Headers) {
				row[tb.Headers[i]] = c
			}
		}
		out = append(out, row)
	}
	return out
}

// supplierTable reads the list's table; Headers is empty when the page
// shows none.
func (p *tab) supplierTable() table {
	p.t.Helper()
	tb := eval[*table](p, `(() => {
		const t = document.querySelector("main table");
		if (!t) return null;
		const text = e => e.innerText.trim();
		return {
			headers: [...t.querySelectorAll("thead th")].map(text),
			cells: [...t.querySelectorAll("tbody tr")].map(tr => [...tr.cells].map(text)),
			// The page's own: links, line-break hints, words kept whole,
			// names for screen readers.
			markup: t.querySelectorAll("tbody td *:not(a, wbr, span.nw, span.visually-hidden)").length,
		};
	})()`)
	if tb == nil {
		return table{}
	}
	return *tb
}

// details reads a <dl class="current"> (a supplier's stored values) as
// label → value.
func (p *tab) details() map[string]string {
	p.t.Helper()
	return eval[map[string]string](p, `(() => {
		const out = {};
		for (const dt of document.querySelectorAll("dl.current dt")) {
			out[dt.innerText.trim()] = dt.nextElementSibling ? dt.nextElementSibling.innerText.trim() : "";
		}
		return out;
	})()`)
}

// header returns a response header, whatever the case of its name.
func header(resp *network.Response, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a Go string always marshals
	}
	return string(b)
}

func abbreviate(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// supplier is what an employee types into the supplier form.
type supplier struct {
	// Key is unique to the story and part of the name, so a search for it
	// finds this supplier and nothing else.
	Key                                      string
	Name, Address, City, State, Email, Phone string
}

// field is one labelled value of the supplier form.
type field struct{ Label, Value string }

// fields lists the form's fields in order, by the labels users see.
func (s supplier) fields() []field {
	return []field{
		{"Name", s.Name}, {"Address", s.Address}, {"City", s.City},
		{"State", s.State}, {"Email", s.Email}, {"Phone", s.Phone},
	}
}

// uniqueKey names a story's data: the test's name and a random suffix, so
// stories running in parallel (or again, against a long-lived stack) never
// see each other's suppliers.
func uniqueKey(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strings.ReplaceAll(t.Name(), "/", "-") + "-" + hex.EncodeToString(b[:])
}

// plainSupplier is an ordinary valid supplier for stories about editing.
func plainSupplier(t *testing.T) supplier {
	key := uniqueKey(t)
	return supplier{
		Key:     key,
		Name:    "Harbor Roasters " + key,
		Address: "1 Pier Road",
		City:    "Seattle",
		State:   "WA",
		Email:   "orders@harbor.example.com",
		Phone:   "+1 206 555 0101",
	}
}

// addSupplier adds s through the add form, as an employee would, checks
// the list confirms it, and returns its id (see editID).
func (p *tab) addSupplier(s supplier) string {
	p.t.Helper()
	p.visit("/admin/supplier-add")
	for _, f := range s.fields() {
		p.fillField(f.Label, f.Value)
	}
	if resp := p.clickButton("Add supplier"); resp.Status != http.StatusOK {
		p.t.Fatalf("adding supplier %q answered %d %s", s.Name, resp.Status, p.heading())
	}
	if n := p.notice(); n != noticeFor("added", s.Name) {
		p.t.Fatalf("after adding %q the list says %q, want %q", s.Name, n, noticeFor("added", s.Name))
	}
	p.search(s.Key)
	return p.editID(s)
}

// editID reads the id of s from its edit link in the list on screen, and
// has s deleted when the test ends, should the story not have done it.
func (p *tab) editID(s supplier) string {
	p.t.Helper()
	href := eval[string](p, fmt.Sprintf(`(() => {
		const a = [...document.querySelectorAll("main table a")].find(a => a.textContent.trim() === %s);
		return a ? a.getAttribute("href") : "";
	})()`, js("Edit "+s.Name)))
	if href == "" {
		p.t.Fatalf("the list on %s has no edit link for %q", p.location(), s.Name)
	}
	id := path.Base(href)
	p.t.Cleanup(func() { removeLeftover(p.t, id) })
	return id
}

// removeLeftover deletes supplier id over plain HTTP if a story left it
// behind, so a long-lived stack (E2E_BASE_URL) does not collect test data.
// It signs in first, as anyone must.
func removeLeftover(t *testing.T, id string) {
	// Not t.Context(): a cleanup runs after it is done.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := webclient.New(10 * time.Second)
	if err := client.SignIn(ctx, target.baseURL, target.adminEmail, target.adminPassword); err != nil {
		t.Logf("clean up supplier %s: %v", id, err)
		return
	}
	u := target.baseURL + "/admin/supplier-remove/" + id
	resp, page, err := client.Get(ctx, u)
	if err != nil {
		t.Logf("clean up supplier %s: %v", id, err)
		return
	}
	if resp.StatusCode == http.StatusNotFound {
		return // the story deleted it
	}
	form := webclient.HiddenInputs(page)
	if resp.StatusCode != http.StatusOK || form.Get("version") == "" || form.Get(webclient.CSRFField) == "" {
		t.Logf("clean up supplier %s: confirmation page answered %d", id, resp.StatusCode)
		return
	}
	if resp, _, err = client.Post(ctx, u, form); err != nil {
		t.Logf("clean up supplier %s: %v", id, err)
		return
	}
	if resp.StatusCode != http.StatusSeeOther {
		t.Logf("clean up supplier %s: delete answered %d, want 303 to the list", id, resp.StatusCode)
	}
}

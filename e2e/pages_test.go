package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// These stories measure the pages as Chromium lays them out, on a laptop
// (1280 px) and on a phone (390 px). Apart from the last, they only read,
// and do not call t.Parallel (see catalogue_test.go).

// laptop and phone are the screens the pages are measured on, in CSS
// pixels.
var (
	laptop = screen{"laptop", 1280, 800, false}
	phone  = screen{"phone", 390, 844, true}
)

type screen struct {
	name          string
	width, height int64
	mobile        bool
}

// emulate makes the tab's window the size of s.
func (p *tab) emulate(s screen) {
	p.t.Helper()
	p.do("emulate a "+s.name, chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: s.width, Height: s.height, DeviceScaleFactor: 1, Mobile: s.mobile,
		})
		return err
	}))
}

// Story 12: in every table on a laptop, words stay whole: no word of 30
// characters or fewer is split across lines, an email address breaks only
// after its @ or a dot, and a phone number or state stays on one line.
func TestTablesKeepWordsWhole(t *testing.T) {
	p := signedInTab(t)
	p.emulate(laptop)
	var paths []string
	for _, list := range []string{"/suppliers", "/admin/suppliers"} {
		p.visit(list)
		_, _, total := p.shown()
		for page := 1; page <= (total+rowsPerPage-1)/rowsPerPage; page++ {
			paths = append(paths, fmt.Sprintf("%s?page=%d", list, page))
		}
	}
	checked := 0
	for _, path := range paths {
		p.visit(path)
		report := eval[breakReport](p, wordBreaksJS)
		checked += report.Cells
		// Whole words must not cost the laptop reader sideways scrolling.
		if w := eval[int](p, `document.documentElement.scrollWidth - innerWidth`); w > 0 {
			t.Errorf("%s is %d px wider than the %d px window", path, w, laptop.width)
		}
		for _, b := range report.Breaks {
			t.Errorf("%s: the %s %q breaks as %q", path, b.Column, b.Text, b.Lines)
		}
	}
	if checked == 0 {
		t.Fatal("found no table cells to check")
	}
	t.Logf("checked %d cells on %d pages", checked, len(paths))
}

// breakReport lists the table cells whose words break where they must not.
type breakReport struct {
	Cells  int `json:"cells"`
	Breaks []struct {
		Column string   `json:"column"`
		Text   string   `json:"text"`
		Lines  []string `json:"lines"` // the text as the lines show it
	} `json:"breaks"`
}

// wordBreaksJS reads every visible character of every table cell in main
// with the line it is drawn on (a new line starts where a character sits
// below the previous one's middle), then judges each cell's words.
const wordBreaksJS = `(() => {
	const report = {cells: 0, breaks: []};
	for (const td of document.querySelectorAll("main table td")) {
		report.cells++;
		const th = td.closest("table").querySelectorAll("thead th")[td.cellIndex];
		const column = td.dataset.label || (th ? th.innerText.trim() : "cell");
		const chars = []; // {ch, line}
		let line = 0, last = null;
		const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
		for (let n = walker.nextNode(); n; n = walker.nextNode()) {
			const box = n.parentElement.getBoundingClientRect();
			if (box.width <= 1 && box.height <= 1) continue; // for screen readers only
			let i = 0;
			for (const ch of n.data) {
				const at = i;
				i += ch.length;
				if (/\s/.test(ch)) { chars.push({ch: " ", line}); continue; }
				const r = document.createRange();
				r.setStart(n, at); r.setEnd(n, at + ch.length);
				const rect = r.getBoundingClientRect();
				if (rect.width === 0 && rect.height === 0) continue;
				if (last && rect.top > last.top + last.height / 2) line++;
				last = rect;
				chars.push({ch, line});
			}
		}
		const lines = [];
		for (const c of chars) lines[c.line] = (lines[c.line] || "") + c.ch;
		const shown = lines.filter(l => l !== undefined).map(l => l.trim());
		const text = chars.map(c => c.ch).join("").replace(/\s+/g, " ").trim();
		const flag = () => report.breaks.push({column, text, lines: shown});
		const visible = chars.filter(c => c.ch !== " ");
		if (column === "Phone" || column === "State") {
			if (visible.length && visible[0].line !== visible[visible.length - 1].line) flag();
			continue;
		}
		// Words: runs of characters between spaces.
		let word = [];
		const judge = () => {
			for (let k = 1; k < word.length; k++) {
				if (word[k].line === word[k - 1].line) continue;
				const after = word[k - 1].ch;
				if (column === "Email" ? after !== "@" && after !== "." : word.length <= 30) { flag(); return true; }
			}
			return false;
		};
		let flagged = false;
		for (const c of chars.concat([{ch: " "}])) {
			if (c.ch !== " ") { word.push(c); continue; }
			if (!flagged && word.length) flagged = judge();
			word = [];
		}
	}
	return report;
})()`

// Story 13: on a phone nothing scrolls sideways and the header leaves the
// screen to the page; on a phone and on a laptop every page keeps a clear
// gap between its content and the footer.
func TestPagesFitAndBreathe(t *testing.T) {
	for _, pg := range pagesToCheck(t) {
		t.Run(pg.name, func(t *testing.T) {
			p := openPageTab(t, pg)
			for _, s := range []screen{laptop, phone} {
				p.emulate(s)
				p.visit(pg.path)
				m := eval[pageMeasures](p, pageMeasuresJS)
				if s == phone {
					if m.ScrollWidth > m.InnerWidth {
						t.Errorf("on a %d px phone %s is %d px wide: it scrolls sideways", s.width, pg.path, m.ScrollWidth)
					}
					if m.Header > float64(m.InnerHeight)/5 {
						t.Errorf("on a %d×%d phone the header of %s is %.0f px tall, more than a fifth of the screen (%.0f px)",
							s.width, s.height, pg.path, m.Header, float64(m.InnerHeight)/5)
					}
				}
				if m.Gap < 16 {
					t.Errorf("on a %s the content of %s ends %.0f px above the footer, want a clear gap (at least 16 px)",
						s.name, pg.path, m.Gap)
				}
			}
		})
	}
}

// pageMeasures are the sizes a reader notices first.
type pageMeasures struct {
	ScrollWidth int     `json:"scrollWidth"`
	InnerWidth  int     `json:"innerWidth"`
	InnerHeight int     `json:"innerHeight"`
	Header      float64 `json:"header"` // the site header's height
	// Gap is the space between the lowest drawn thing in main and the
	// footer's top.
	Gap float64 `json:"gap"`
}

const pageMeasuresJS = `(() => {
	let bottom = document.querySelector("main").getBoundingClientRect().top;
	for (const e of document.querySelectorAll("main *")) {
		const r = e.getBoundingClientRect();
		if (r.width > 1 && r.height > 1) bottom = Math.max(bottom, r.bottom);
	}
	return {
		scrollWidth: document.documentElement.scrollWidth,
		innerWidth: innerWidth,
		innerHeight: innerHeight,
		header: document.querySelector("header.site-header").getBoundingClientRect().height,
		gap: document.querySelector("footer").getBoundingClientRect().top - bottom,
	};
})()`

// Story 14: the administration list's actions read "Edit" and "Delete";
// a screen reader hears which supplier each is for.
func TestListActionsAreShortAndNamed(t *testing.T) {
	p := signedInTab(t)
	p.visit("/admin/suppliers")
	rows := eval[[]struct {
		Name    string   `json:"name"`
		Visible []string `json:"visible"`
		Spoken  []string `json:"spoken"`
	}](p, `[...document.querySelectorAll("main table tbody tr")].map(tr => {
		const links = [...tr.querySelectorAll("a")].filter(a => !a.href.startsWith("mailto:"));
		return {
			name: tr.cells[0].innerText.trim(),
			// What is drawn: the text of boxes larger than a pixel.
			visible: links.map(a => [...a.childNodes].filter(n => n.nodeType === 3 ||
				n.getBoundingClientRect().width > 1).map(n => n.textContent).join("").trim()),
			spoken: links.map(a => (a.getAttribute("aria-label") || a.textContent).replace(/\s+/g, " ").trim()),
		};
	})`)
	if len(rows) == 0 {
		t.Fatal("the administration list shows no suppliers")
	}
	for _, r := range rows {
		if strings.Join(r.Visible, "|") != "Edit|Delete" {
			t.Errorf("the actions for %q read %q, want \"Edit\" and \"Delete\"", r.Name, r.Visible)
		}
		if strings.Join(r.Spoken, "|") != "Edit "+r.Name+"|Delete "+r.Name {
			t.Errorf("a screen reader hears the actions for %q as %q, want them to name the supplier", r.Name, r.Spoken)
		}
	}
}

// Story 15: both lists have page numbers: first, previous, the pages
// around this one, next, last, the current page marked.
func TestPageNumbers(t *testing.T) {
	p := signedInTab(t)
	for _, list := range []string{"/suppliers", "/admin/suppliers"} {
		p.visit(list)
		_, _, total := p.shown()
		pages := (total + rowsPerPage - 1) / rowsPerPage
		if pages < 3 {
			t.Fatalf("%s has %d pages: too few to check its page numbers", list, pages)
		}
		p.visit(list + "?page=2")
		links := eval[[]struct {
			Name    string `json:"name"`
			Rel     string `json:"rel"`
			Current string `json:"current"`
			Page    string `json:"page"`
		}](p, `[...document.querySelectorAll("nav.pager a")].map(a => {
			// The accessible name: aria-label, or the words without the
			// decorative (aria-hidden) arrows.
			const words = a.cloneNode(true);
			words.querySelectorAll("[aria-hidden=true]").forEach(e => e.remove());
			return {
				name: (a.getAttribute("aria-label") || words.textContent).replace(/\s+/g, " ").trim(),
				rel: a.rel,
				current: a.getAttribute("aria-current") || "",
				page: new URL(a.href).searchParams.get("page") || "1",
			};
		})`)
		got := map[string]string{} // spoken name → page it leads to
		var current []string
		for _, l := range links {
			got[l.Name] = l.Page
			if l.Current == "page" {
				current = append(current, l.Name)
			}
			if want := map[string]string{"Previous page": "prev", "Next page": "next"}[l.Name]; l.Rel != want {
				t.Errorf("%s: the pager's link %q has rel %q, want %q", list, l.Name, l.Rel, want)
			}
		}
		want := map[string]string{"First page": "1", "Previous page": "1", "Page 1": "1", "Page 2, current page": "2",
			"Page 3": "3", "Next page": "3", "Last page": fmt.Sprint(pages)}
		for name, page := range want {
			if got[name] != page {
				t.Errorf("%s page 2: the pager has no link %q to page %s; it has %v", list, name, page, got)
			}
		}
		if len(current) != 1 || current[0] != "Page 2, current page" {
			t.Errorf("%s page 2: the pager marks %q as the current page, want page 2", list, current)
		}
		if p.count(`nav.pager a[aria-label="Page 3"]`) != 1 {
			t.Fatalf("%s page 2: no link to page 3 to follow", list)
		}
		p.navigate("follow page 3", chromedp.Click(`nav.pager a[aria-label="Page 3"]`, chromedp.NodeVisible))
		if first, _, _ := p.shown(); first != 2*rowsPerPage+1 {
			t.Errorf("%s: page 3 of the pager shows rows from %d, want %d", list, first, 2*rowsPerPage+1)
		}
	}
}

// Story 16: the site has an icon, so browsers show it in the tab and stop
// asking for a missing /favicon.ico.
func TestFavicon(t *testing.T) {
	client := &http.Client{Timeout: 10 * time.Second}
	check := func(u string) {
		t.Helper()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "image/") {
			t.Errorf("GET %s answered %d %q, want 200 and an image", u, resp.StatusCode, ct)
		}
	}
	check(target.baseURL + "/favicon.ico")
	p := openTab(t)
	for _, path := range []string{"/", loginPath} {
		p.visit(path)
		icon := eval[string](p, `(() => { const l = document.querySelector('link[rel~="icon"]'); return l ? l.href : ""; })()`)
		if !strings.HasPrefix(icon, target.baseURL+"/") {
			t.Errorf("%s links the icon %q, want one of the site's files", path, icon)
			continue
		}
		check(icon)
	}
}

// Story 17: a visitor who is not signed in is offered only what they can
// use, and the sign-in page keeps the administrators' tools to itself.
func TestSignedOutVisitorSeesOnlyUsableLinks(t *testing.T) {
	p := openTab(t)
	p.visit(loginPath)
	links := eval[[]string](p, `[...document.querySelectorAll("a")].map(a => new URL(a.href).pathname)`)
	for _, l := range links {
		if strings.HasPrefix(l, "/admin/") && l != loginPath {
			t.Errorf("the sign-in page offers a visitor a link to %s, which needs signing in", l)
		}
	}
	if text := eval[string](p, `document.body.innerText`); strings.Contains(text, "employee accounts") {
		t.Error("the sign-in page tells the public about the employee accounts command")
	}
}

// Story 18: saving the edit form without changing anything changes
// nothing, and says so.
func TestSaveWithoutChanges(t *testing.T) {
	t.Parallel()
	p := signedInTab(t)
	s := plainSupplier(t)
	id := p.addSupplier(s)

	p.openEditForm(s)
	colleague := p.anotherTab()
	colleague.visit("/admin/supplier-update/" + id)

	if resp := p.clickButton("Save changes"); resp.Status != http.StatusOK {
		t.Fatalf("saving the unchanged form answered %d: %s", resp.Status, p.heading())
	}
	if n := p.notice(); n != "No changes to save." {
		t.Errorf("after saving the unchanged form the page says %q, want \"No changes to save.\"", n)
	}
	checkDB(t, "nothing was written", func(ctx context.Context, store *suppliers.Store) {
		if got := getSupplier(t, ctx, store, id); got.Version != 1 {
			t.Errorf("the unchanged save took version %d, want it to stay at 1", got.Version)
		}
	})
	p.openEditForm(s)
	if n := p.count(".history tbody tr"); n != 1 {
		t.Errorf("the history lists %d changes, want only the one that added the supplier", n)
	}

	// A colleague who had the supplier open saves without a conflict.
	colleague.fillField("City", "Tacoma")
	if resp := colleague.clickButton("Save changes"); resp.Status != http.StatusOK {
		t.Errorf("the colleague's save answered %d, want it saved", resp.Status)
	}
	if n := colleague.notice(); n != noticeFor("updated", s.Name) {
		t.Errorf("the colleague's save says %q", n)
	}

	// The history table keeps its words whole too (see story 12).
	colleague.emulate(laptop)
	colleague.visit("/admin/supplier-update/" + id)
	report := eval[breakReport](colleague, wordBreaksJS)
	if report.Cells == 0 {
		t.Error("the edit page shows no history table")
	}
	for _, b := range report.Breaks {
		t.Errorf("the history's %s %q breaks as %q", b.Column, b.Text, b.Lines)
	}
}

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// These stories only read, and do not call t.Parallel (see catalogue_test.go).

// page is one page every check visits.
type page struct {
	name   string
	path   string
	status int
	// admin pages are visited signed in; the others as a visitor.
	admin bool
}

// pagesToCheck lists one page of each kind: the catalogue's, the
// administration's (using the first supplier of the list for the edit form
// and the delete confirmation), the sign-in page and the not-found page.
func pagesToCheck(t *testing.T) []page {
	t.Helper()
	p := signedInTab(t)
	p.visit("/admin/suppliers")
	href := eval[string](p, `(() => { const a = document.querySelector('main table a[href^="/admin/supplier-update/"]'); return a ? a.getAttribute("href") : ""; })()`)
	if href == "" {
		t.Fatal("the administration list has no supplier to edit")
	}
	id := path.Base(href)
	return []page{
		{"home", "/", http.StatusOK, false},
		{"catalogue list", "/suppliers", http.StatusOK, false},
		{"admin list", "/admin/suppliers", http.StatusOK, true},
		{"add form", "/admin/supplier-add", http.StatusOK, true},
		{"edit form", "/admin/supplier-update/" + id, http.StatusOK, true},
		{"delete confirmation", "/admin/supplier-remove/" + id, http.StatusOK, true},
		{"sign-in page", loginPath, http.StatusOK, false},
		{"not found", "/no-such-page", http.StatusNotFound, false},
	}
}

// openPageTab opens a tab for checking pg: signed in for an
// administration page, as a visitor otherwise.
func openPageTab(t *testing.T, pg page) *tab {
	t.Helper()
	if pg.admin {
		return signedInTab(t)
	}
	return openTab(t)
}

// Story 9: every page works for people using assistive technology, a
// keyboard, or no JavaScript, and its text is readable.
func TestAccessibilityAndNoJavaScript(t *testing.T) {
	for _, pg := range pagesToCheck(t) {
		t.Run(pg.name, func(t *testing.T) {
			p := openPageTab(t, pg)
			resp := p.visit(pg.path)
			if int(resp.Status) != pg.status {
				t.Errorf("%s answered %d, want %d", pg.path, resp.Status, pg.status)
			}

			facts := eval[pageFacts](p, pageFactsJS)
			if facts.Lang == "" {
				t.Error("<html> has no lang")
			}
			if facts.H1s != 1 {
				t.Errorf("the page has %d h1 elements, want exactly 1", facts.H1s)
			}
			if len(facts.Unlabelled) > 0 {
				t.Errorf("form controls without a label: %q", facts.Unlabelled)
			}
			if facts.Scripts != 0 {
				t.Errorf("the page has %d <script> elements, want none", facts.Scripts)
			}
			if err := forbidsScripts(header(resp, "Content-Security-Policy")); err != nil {
				t.Error(err)
			}

			report := eval[contrastReport](p, contrastJS)
			for _, f := range report.Failures {
				t.Errorf("%s %q: %s on %s has contrast %.2f, want at least 4.5", f.Kind, f.Text, f.Color, f.Background, f.Ratio)
			}
			for _, kind := range []string{"text", "link"} {
				if report.Checked[kind] == 0 {
					t.Errorf("found no %s to check the contrast of", kind)
				}
			}
			t.Logf("lowest contrast: %v (elements checked: %v)", report.Min, report.Checked)

			// Keyboard: the first Tab reaches the skip link; following it,
			// the next Tab lands in the content, past the navigation.
			p.pressKey(kb.Tab)
			focused := eval[focusFacts](p, focusFactsJS)
			if focused.Text != "Skip to main content" || focused.Href != "#main" {
				t.Fatalf("the first Tab focuses %q (href %q), want the \"Skip to main content\" link", focused.Text, focused.Href)
			}
			if !focused.OnScreen {
				t.Error("the focused skip link is not visible on screen")
			}
			p.pressKey(kb.Enter)
			p.pressKey(kb.Tab)
			if after := eval[focusFacts](p, focusFactsJS); after.Hash != "#main" || !after.InMain {
				t.Errorf("after the skip link (address fragment %q) Tab focuses %q outside the main content", after.Hash, after.Text)
			}
		})
	}
}

// pageFacts are the structural checks of one page.
type pageFacts struct {
	Lang       string   `json:"lang"`
	H1s        int      `json:"h1s"`
	Scripts    int      `json:"scripts"`
	Unlabelled []string `json:"unlabelled"`
}

const pageFactsJS = `(() => {
	const named = e => {
		if ((e.getAttribute("aria-label") || "").trim()) return true;
		const l = e.id && document.querySelector('label[for="' + CSS.escape(e.id) + '"]');
		return !!(l && l.textContent.trim());
	};
	return {
		lang: document.documentElement.lang,
		h1s: document.querySelectorAll("h1").length,
		scripts: document.querySelectorAll("script").length,
		unlabelled: [...document.querySelectorAll("input, select, textarea")]
			.filter(e => e.type !== "hidden" && !named(e))
			.map(e => e.outerHTML),
	};
})()`

// forbidsScripts checks a Content-Security-Policy allows no script at all:
// default-src 'none' and no script-src directive that loosens it.
func forbidsScripts(csp string) error {
	if csp == "" {
		return fmt.Errorf("no Content-Security-Policy header")
	}
	directives := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		fields := strings.Fields(d)
		if len(fields) == 0 {
			continue
		}
		name := strings.ToLower(fields[0])
		if _, seen := directives[name]; !seen { // browsers ignore repeats
			directives[name] = fields[1:]
		}
	}
	none := func(v []string) bool { return len(v) == 1 && strings.EqualFold(v[0], "'none'") }
	if !none(directives["default-src"]) {
		return fmt.Errorf("Content-Security-Policy %q: default-src is %q, want 'none'", csp, directives["default-src"])
	}
	for _, name := range []string{"script-src", "script-src-elem", "script-src-attr"} {
		if v, ok := directives[name]; ok && !none(v) {
			return fmt.Errorf("Content-Security-Policy %q allows scripts: %s %s", csp, name, strings.Join(v, " "))
		}
	}
	return nil
}

// TestForbidsScripts checks the policy reading itself, without a browser.
func TestForbidsScripts(t *testing.T) {
	for csp, ok := range map[string]bool{
		"default-src 'none'; style-src 'self'":  true,
		"default-src 'none'; script-src 'none'": true,
		"DEFAULT-SRC 'NONE'":                    true,
		"":                                      false,
		"style-src 'self'":                      false,
		"default-src 'self'":                    false,
		"default-src 'none'; script-src 'self'": false,
		"default-src 'none'; script-src-elem 'unsafe-inline'":  false,
		"default-src 'none' 'self'":                            false,
		"default-src 'none'; default-src *; script-src 'none'": true, // browsers use the first
	} {
		if err := forbidsScripts(csp); (err == nil) != ok {
			t.Errorf("forbidsScripts(%q) = %v, want ok=%v", csp, err, ok)
		}
	}
}

// focusFacts describe the focused element and the address's fragment.
type focusFacts struct {
	Text     string `json:"text"`
	Href     string `json:"href"`
	Hash     string `json:"hash"`
	OnScreen bool   `json:"onScreen"`
	InMain   bool   `json:"inMain"` // inside <main>, not main itself
}

const focusFactsJS = `(() => {
	const e = document.activeElement;
	const r = e.getBoundingClientRect();
	return {
		text: e.textContent.replace(/\s+/g, " ").trim().slice(0, 80),
		href: e.getAttribute("href") || "",
		hash: location.hash,
		onScreen: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight,
		inMain: e.tagName !== "MAIN" && !!e.closest("main"),
	};
})()`

// contrastReport is what contrastJS finds: the text checked per kind
// (text, link, button), the lowest ratio of each, and what fell short.
type contrastReport struct {
	Checked  map[string]int     `json:"checked"`
	Min      map[string]float64 `json:"min"`
	Failures []struct {
		Kind       string  `json:"kind"`
		Text       string  `json:"text"`
		Color      string  `json:"color"`
		Background string  `json:"background"`
		Ratio      float64 `json:"ratio"`
	} `json:"failures"`
}

// contrastJS computes the WCAG 2 contrast ratio of every rendered element
// holding text of its own, against the background it is drawn on: the
// element's own background colour or, where that is transparent, its
// ancestors', composited over the white canvas.
const contrastJS = `(() => {
	const parse = s => {
		const m = /^rgba?\(([^)]+)\)$/.exec(s);
		if (!m) return null;
		const v = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
		return {r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1};
	};
	const over = (top, under) => ({
		r: top.r * top.a + under.r * (1 - top.a),
		g: top.g * top.a + under.g * (1 - top.a),
		b: top.b * top.a + under.b * (1 - top.a),
		a: 1,
	});
	const backdrop = el => {
		const layers = [];
		for (let e = el; e; e = e.parentElement) {
			const c = parse(getComputedStyle(e).backgroundColor);
			if (!c) return null;
			if (c.a > 0) {
				layers.push(c);
				if (c.a >= 1) break;
			}
		}
		return layers.reverse().reduce((under, top) => over(top, under), {r: 255, g: 255, b: 255, a: 1});
	};
	const luminance = c => {
		const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
		return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
	};
	const ratio = (x, y) => {
		const a = luminance(x), b = luminance(y);
		return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
	};
	const kind = el => el.closest("button, .button") ? "button" : el.closest("a") ? "link" : "text";
	const report = {checked: {}, min: {}, failures: []};
	for (const el of document.body.querySelectorAll("*")) {
		if (![...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) continue;
		const style = getComputedStyle(el);
		if (style.display === "none" || style.visibility === "hidden" || el.getClientRects().length === 0) continue;
		const k = kind(el);
		const text = el.textContent.replace(/\s+/g, " ").trim().slice(0, 40);
		const fg = parse(style.color), bg = backdrop(el);
		if (!fg || !bg) {
			report.failures.push({kind: k, text, color: style.color, background: "(unreadable colour)", ratio: 0});
			continue;
		}
		const r = ratio(over(fg, bg), bg);
		report.checked[k] = (report.checked[k] || 0) + 1;
		report.min[k] = Math.round(Math.min(report.min[k] || Infinity, r) * 100) / 100;
		if (r < 4.5) {
			const b = "rgb(" + [bg.r, bg.g, bg.b].map(Math.round).join(", ") + ")";
			report.failures.push({kind: k, text, color: style.color, background: b, ratio: r});
		}
	}
	return report;
})()`

// Story 10: on a phone-sized screen nothing needs scrolling sideways.
func TestResponsiveOnAPhone(t *testing.T) {
	pages := pagesToCheck(t)
	for _, pg := range pages {
		switch pg.name {
		case "catalogue list", "admin list", "edit form", "sign-in page":
		default:
			continue
		}
		t.Run(pg.name, func(t *testing.T) {
			p := openPageTab(t, pg)
			p.do("emulate a phone", chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
				_, err := cdp.Call(ctx, tt, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
					Width: phoneWidth, Height: phoneHeight, DeviceScaleFactor: 2, Mobile: true,
				})
				return err
			}))
			p.visit(pg.path)
			fit := eval[layoutFit](p, fmt.Sprintf(layoutFitJS, phoneWidth))
			// A mobile browser widens the layout viewport to fit content
			// that is too wide (and zooms out), so the page is only as wide
			// as the phone if the viewport kept the phone's width.
			if fit.ViewportWidth != phoneWidth {
				t.Errorf("%s does not fit a %d px phone: the browser widened the viewport to %d px; too wide: %q",
					pg.path, phoneWidth, fit.ViewportWidth, fit.TooWide)
			}
			if fit.ScrollWidth > fit.ViewportWidth {
				t.Errorf("%s scrolls sideways on a phone: %d px of content in a %d px viewport; too wide: %q",
					pg.path, fit.ScrollWidth, fit.ViewportWidth, fit.TooWide)
			}
		})
	}
}

// phoneWidth × phoneHeight is the emulated phone's screen in CSS pixels.
const phoneWidth, phoneHeight = 375, 740

// layoutFit compares the page's width with the viewport's.
type layoutFit struct {
	ScrollWidth   int      `json:"scrollWidth"`
	ViewportWidth int      `json:"viewportWidth"`
	TooWide       []string `json:"tooWide"` // the innermost elements past the phone's right edge
}

// layoutFitJS measures the page; %d is the phone's width.
const layoutFitJS = `(() => {
	const past = [...document.body.querySelectorAll("*")]
		.filter(e => e.getBoundingClientRect().right > %d + 0.5);
	return {
		scrollWidth: document.documentElement.scrollWidth,
		viewportWidth: innerWidth,
		tooWide: past.filter(e => !past.some(d => d !== e && e.contains(d)))
			.slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")),
	};
})()`

// Story 11: a wrong address gets a friendly page in the site's layout with
// a way back, from either service.
func TestFriendlyNotFound(t *testing.T) {
	for _, tc := range []struct {
		path, home string
	}{
		{"/no-such-page", "/"},
		{"/admin/supplier-update/999999", "/admin/suppliers"},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			p := openTab(t)
			if strings.HasPrefix(tc.path, "/admin/") {
				p.signIn()
			}
			resp := p.visit(tc.path)
			if resp.Status != http.StatusNotFound {
				t.Errorf("%s answered %d, want 404", tc.path, resp.Status)
			}
			if h := p.heading(); !strings.Contains(strings.ToLower(h), "not found") {
				t.Errorf("the page's heading is %q, want it to say not found", h)
			}
			if lead := p.textOf("main .lead"); lead == "" {
				t.Error("the page explains nothing beneath its heading")
			}
			// The site's layout: brand, main navigation, footer.
			if brand := p.textOf("header .brand"); !strings.Contains(brand, "Coffee Suppliers") {
				t.Errorf("no site header with the brand; header says %q", brand)
			}
			if p.count(`nav[aria-label="Main"] a`) == 0 || p.count("footer") != 1 {
				t.Error("the page lacks the site's navigation or footer")
			}
			if resp := p.clickLink("Go to the start page"); resp.Status != http.StatusOK {
				t.Errorf("the link home answered %d", resp.Status)
			}
			if got := p.location(); got != tc.home {
				t.Errorf("the link home leads to %q, want %q", got, tc.home)
			}
		})
	}
}

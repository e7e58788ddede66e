package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// The administration stories change data, each only its own uniquely named
// supplier, so they run in parallel with each other (and after the
// read-only stories, which do not call t.Parallel). Each signs in first
// through the sign-in form, in a browser context of its own.

// Story 4: an employee adds a supplier whose details are full of characters
// that HTML, SQL and encodings trip over; everyone sees them as typed.
func TestAddSupplierWithTrickyText(t *testing.T) {
	t.Parallel()
	p := openTab(t)
	key := uniqueKey(t)
	s := supplier{
		Key:     key,
		Name:    "O'Brien & Sons <b>Roasters</b> ☕ " + key,
		Address: `12 "Quai" d'Orsay & <i>Rue</i> Ñandú`,
		City:    "Mérida &amp; São Paulo 🫘",
		State:   "Yucatán <script>alert(1)</script>",
		Email:   "o'brien_sons+roast@example.com", // & ? % # are refused: a mailto link gives them meaning
		Phone:   "+1 (206) 555-0100",
	}

	p.visit("/")
	p.clickLink("Administration")
	if !p.onLoginPage() {
		t.Fatalf("Administration leads an anonymous visitor to %s %q, want the sign-in page", p.location(), p.heading())
	}
	p.submitLogin(target.adminEmail, target.adminPassword)
	if h := p.heading(); h != "Suppliers" {
		t.Fatalf("signing in from Administration leads to %q, want the suppliers list", h)
	}
	p.clickLink("Add supplier")
	if h := p.heading(); h != "Add supplier" {
		t.Fatalf("Add supplier leads to %q", h)
	}
	for _, f := range s.fields() {
		p.fillField(f.Label, f.Value)
	}
	if resp := p.clickButton("Add supplier"); resp.Status != http.StatusOK {
		t.Fatalf("adding the supplier answered %d: %s", resp.Status, p.heading())
	}
	if n := p.notice(); n != noticeFor("added", s.Name) {
		t.Errorf("after adding, the list says %q, want %q", n, noticeFor("added", s.Name))
	}

	p.search(key)
	expectOnlyRow(t, p, s, "administration list")
	id := p.editID(s)

	p.clickLink("Customer site")
	p.search(key)
	expectOnlyRow(t, p, s, "catalogue")

	checkDB(t, "stored exactly as typed", func(ctx context.Context, store *suppliers.Store) {
		got := getSupplier(t, ctx, store, id)
		want := suppliers.Input{Name: s.Name, Address: s.Address, City: s.City, State: s.State, Email: s.Email, Phone: s.Phone}
		if got.Input() != want {
			t.Errorf("the database holds %+v, want exactly %+v", got.Input(), want)
		}
	})
}

// expectOnlyRow checks the list shows s as its one row, every value exactly
// as typed: no entities, no markup turned into elements.
func expectOnlyRow(t *testing.T, p *tab, s supplier, where string) {
	t.Helper()
	tb := p.supplierTable()
	rows := tb.rows()
	if len(rows) != 1 {
		t.Fatalf("%s: searching for %q shows %d rows, want 1 (summary %q)", where, s.Key, len(rows), p.textOf("p.summary"))
	}
	for _, f := range s.fields() {
		if got := rows[0][f.Label]; got != f.Value {
			t.Errorf("%s shows %s %q, want %q as typed", where, f.Label, got, f.Value)
		}
	}
	if tb.Markup != 0 {
		t.Errorf("%s: the typed text became %d HTML elements in the table", where, tb.Markup)
	}
}

// Story 5: an employee corrects a supplier's city.
func TestEditSupplier(t *testing.T) {
	t.Parallel()
	p := signedInTab(t)
	s := plainSupplier(t)
	id := p.addSupplier(s)

	p.openEditForm(s)
	if h := p.heading(); h != "Edit supplier" {
		t.Fatalf("the edit link leads to %q", h)
	}
	for _, f := range s.fields() {
		if got := p.fieldValue(f.Label); got != f.Value {
			t.Errorf("the edit form's %s holds %q, want the stored %q", f.Label, got, f.Value)
		}
	}

	p.fillField("City", "Kailua-Kona")
	if resp := p.clickButton("Save changes"); resp.Status != http.StatusOK {
		t.Fatalf("saving answered %d: %s", resp.Status, p.heading())
	}
	if n := p.notice(); n != noticeFor("updated", s.Name) {
		t.Errorf("after saving, the list says %q, want %q", n, noticeFor("updated", s.Name))
	}
	p.search(s.Key)
	edited := s
	edited.City = "Kailua-Kona"
	expectOnlyRow(t, p, edited, "administration list")

	checkDB(t, "the new city is stored", func(ctx context.Context, store *suppliers.Store) {
		got := getSupplier(t, ctx, store, id)
		if got.City != "Kailua-Kona" || got.Version != 2 {
			t.Errorf("the database holds city %q at version %d, want Kailua-Kona at version 2", got.City, got.Version)
		}
	})
}

// Story 6: two employees edit the same supplier. The second save is
// refused, shows what the first one stored and keeps what was typed; saving
// again is then a deliberate overwrite.
func TestConflictingEdits(t *testing.T) {
	t.Parallel()
	a := signedInTab(t)
	s := plainSupplier(t)
	id := a.addSupplier(s)
	b := a.anotherTab()
	edit := "/admin/supplier-update/" + id
	a.visit(edit)
	b.visit(edit)

	b.fillField("City", "Portland")
	b.fillField("State", "OR")
	if resp := b.clickButton("Save changes"); resp.Status != http.StatusOK || b.notice() != noticeFor("updated", s.Name) {
		t.Fatalf("tab B's save answered %d with notice %q", resp.Status, b.notice())
	}

	a.fillField("City", "Denver")
	resp := a.clickButton("Save changes")
	if resp.Status != http.StatusConflict {
		t.Errorf("tab A's stale save answered %d, want %d", resp.Status, http.StatusConflict)
	}
	if msg := a.textOf(`[role="alert"] h2`); msg != "This supplier was changed by someone else" {
		t.Errorf("tab A's page says %q, want that someone else changed the supplier", msg)
	}
	current := a.details()
	if current["City"] != "Portland" || current["State"] != "OR" || current["Name"] != s.Name {
		t.Errorf("tab A's page shows the current values %q, want tab B's city Portland, state OR", current)
	}
	if got := a.fieldValue("City"); got != "Denver" {
		t.Errorf("tab A's form lost what was typed: City holds %q, want Denver", got)
	}
	if got := a.fieldValue("State"); got != "WA" {
		t.Errorf("tab A's form State holds %q, want WA as tab A last saw it", got)
	}

	b.visit("/admin/suppliers")
	b.search(s.Key)
	afterB := s
	afterB.City, afterB.State = "Portland", "OR"
	expectOnlyRow(t, b, afterB, "list after the refused save")
	checkDB(t, "the refused save changed nothing", func(ctx context.Context, store *suppliers.Store) {
		if got := getSupplier(t, ctx, store, id); got.City != "Portland" || got.State != "OR" {
			t.Errorf("after the refused save the database holds %q, %q; want tab B's Portland, OR", got.City, got.State)
		}
	})

	// Having seen tab B's values, tab A saves its own on purpose.
	if resp := a.clickButton("Save changes"); resp.Status != http.StatusOK {
		t.Fatalf("saving again deliberately answered %d: %s", resp.Status, a.textOf(`[role="alert"]`))
	}
	if n := a.notice(); n != noticeFor("updated", s.Name) {
		t.Errorf("after saving again the list says %q", n)
	}
	a.search(s.Key)
	afterA := s
	afterA.City = "Denver"
	expectOnlyRow(t, a, afterA, "list after the deliberate save")
	checkDB(t, "the deliberate save is stored", func(ctx context.Context, store *suppliers.Store) {
		if got := getSupplier(t, ctx, store, id); got.City != "Denver" || got.State != "WA" || got.Version != 3 {
			t.Errorf("the database holds %q, %q at version %d; want Denver, WA at version 3", got.City, got.State, got.Version)
		}
	})
}

// Story 7: an employee deletes a supplier after confirming; it is gone
// from both sites.
func TestDeleteSupplier(t *testing.T) {
	t.Parallel()
	p := signedInTab(t)
	s := plainSupplier(t)
	id := p.addSupplier(s)

	p.openEditForm(s)
	p.clickLink("Delete this supplier…")
	if h, want := p.heading(), "Delete "+s.Name+"?"; h != want {
		t.Errorf("the confirmation page asks %q, want %q", h, want)
	}
	shown := p.details()
	for _, f := range s.fields() {
		if shown[f.Label] != f.Value {
			t.Errorf("the confirmation shows %s %q, want %q", f.Label, shown[f.Label], f.Value)
		}
	}

	if resp := p.clickButton("Delete supplier"); resp.Status != http.StatusOK {
		t.Fatalf("deleting answered %d: %s", resp.Status, p.heading())
	}
	if n := p.notice(); n != noticeFor("deleted", s.Name) {
		t.Errorf("after deleting, the list says %q, want %q", n, noticeFor("deleted", s.Name))
	}
	expectNotFound(t, p, s.Key, "administration list")
	p.visit("/suppliers")
	expectNotFound(t, p, s.Key, "catalogue")
	checkDB(t, "the row is gone", func(ctx context.Context, store *suppliers.Store) {
		if _, err := store.Get(ctx, mustID(t, id)); !errors.Is(err, suppliers.ErrNotFound) {
			t.Errorf("after deleting, Get(%s) = %v, want ErrNotFound", id, err)
		}
	})
}

// expectNotFound searches the current list for key and expects nothing.
func expectNotFound(t *testing.T, p *tab, key, where string) {
	t.Helper()
	p.search(key)
	if s, want := p.textOf("p.summary"), "No suppliers match “"+key+"”."; s != want {
		t.Errorf("%s: searching for %q says %q, want %q", where, key, s, want)
	}
	if n := len(p.supplierTable().Cells); n != 0 {
		t.Errorf("%s: searching for %q still shows %d rows", where, key, n)
	}
}

// Story 8: an employee submits the add form with mistakes; the page says
// what is wrong next to each field, keeps everything typed, saves nothing.
func TestValidationErrors(t *testing.T) {
	t.Parallel()
	p := signedInTab(t)
	key := uniqueKey(t)
	typed := supplier{
		Key:     key,
		Name:    "",
		Address: "5 Mill Lane",
		City:    "Nowhere " + key,
		State:   "Kigali",
		Email:   "not-an-email",
		Phone:   "12",
	}
	p.visit("/admin/supplier-add")
	// Browsers check required and type=email themselves and would not send
	// this form; the story is about the server's answer, which every
	// client gets, so the browser's own check is switched off.
	p.do("switch off the browser's form validation", chromedp.SetAttributeValue(chromedp.CSS("main form[method=post]"), "novalidate", ""))
	for _, f := range typed.fields() {
		p.fillField(f.Label, f.Value)
	}
	resp := p.clickButton("Add supplier")
	if resp.Status != http.StatusBadRequest {
		t.Errorf("submitting mistakes answered %d, want %d", resp.Status, http.StatusBadRequest)
	}
	if title := eval[string](p, "document.title"); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("page title %q does not start with \"Error: \"", title)
	}

	wantErrors := map[string]string{
		"Name":  "Name is required.",
		"Email": "Enter an email address like orders@example.com.",
		"Phone": "Enter a phone number with 7 to 15 digits, like +1 206 555 0100.",
	}
	for _, f := range typed.fields() {
		got := p.fieldMessage(f.Label)
		want, bad := wantErrors[f.Label]
		switch {
		case !bad && (got.Invalid != "" || len(got.Messages) != 0):
			t.Errorf("%s was fine but is marked invalid=%q with %q", f.Label, got.Invalid, got.Messages)
		case bad && got.Invalid != "true":
			t.Errorf("%s: aria-invalid=%q, want \"true\"", f.Label, got.Invalid)
		case bad && (len(got.Messages) != 1 || got.Messages[0] != want):
			t.Errorf("%s: aria-describedby names messages %q, want [%q]", f.Label, got.Messages, want)
		case bad && !got.NextToField:
			t.Errorf("%s: the message is not shown next to the field", f.Label)
		}
		if v := p.fieldValue(f.Label); v != f.Value {
			t.Errorf("%s holds %q after the refusal, want what was typed, %q", f.Label, v, f.Value)
		}
	}
	if n := p.count(`.error-summary[role="alert"] a[href^="#supplier-"]`); n != len(wantErrors) {
		t.Errorf("the error summary links to %d fields, want %d", n, len(wantErrors))
	}

	p.visit("/admin/suppliers")
	expectNotFound(t, p, key, "administration list")
	checkDB(t, "nothing was saved", func(ctx context.Context, store *suppliers.Store) {
		list, err := store.List(ctx, suppliers.Query{Search: key, Page: 1, PerPage: 1})
		if err != nil {
			t.Fatal(err)
		}
		if list.Total != 0 {
			t.Errorf("the refused form stored %d suppliers", list.Total)
		}
	})
}

// fieldMessage is what assistive technology announces for a field: whether
// it is marked invalid and the texts its aria-describedby names.
type fieldMessage struct {
	Invalid  string   `json:"invalid"`
	Messages []string `json:"messages"`
	// NextToField: each message is a visible sibling of the input.
	NextToField bool `json:"nextToField"`
}

func (p *tab) fieldMessage(label string) fieldMessage {
	p.t.Helper()
	return eval[fieldMessage](p, fmt.Sprintf(`(() => {
		const input = document.getElementById(%s);
		const ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
		const els = ids.map(id => document.getElementById(id));
		return {
			invalid: input.getAttribute("aria-invalid") || "",
			messages: els.map(e => e ? e.innerText.trim() : "(missing element)"),
			nextToField: els.length > 0 && els.every(e => e && e.parentElement === input.parentElement && e.getClientRects().length > 0),
		};
	})()`, js(p.fieldID(label))))
}

func getSupplier(t *testing.T, ctx context.Context, store *suppliers.Store, id string) suppliers.Supplier {
	t.Helper()
	s, err := store.Get(ctx, mustID(t, id))
	if err != nil {
		t.Fatalf("get supplier %s: %v", id, err)
	}
	return s
}

func mustID(t *testing.T, id string) int64 {
	t.Helper()
	n, err := suppliers.ParseID(id)
	if err != nil {
		t.Fatalf("edit link names supplier %q: %v", id, err)
	}
	return n
}

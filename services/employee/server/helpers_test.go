package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"html/template"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webclient"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webtest"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

// testService is the employee service over a fresh, migrated database of its
// own, so tests can run in parallel without seeing each other's rows.
type testService struct {
	// handler is a signed-in employee's browser: it sends the session
	// cookie and, as the pages' forms do, the session's CSRF token.
	handler http.Handler
	// raw is the service itself, as a visitor without cookies reaches it.
	raw      http.Handler
	db       *sql.DB
	store    *suppliers.Store
	clock    *webtest.Clock
	employee suppliers.Employee // the employee handler is signed in as
	// delays are the sign-in slow-downs the service asked for.
	delays *delayLog
	opts   Options // what the service was built with
}

// testEmail and testPassword are the account every test service has.
const (
	testEmail    = "ana.lopez@coffee-suppliers.example"
	testPassword = "correct horse battery staple"
)

// testPasswordHash is hashed once: argon2id is slow on purpose.
var testPasswordHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

func newTestService(t testing.TB) testService {
	t.Helper()
	return newTestServiceWith(t, nil, nil)
}

// newTestServiceWith builds the service with options changed by configure
// (nil: the defaults), logging to log (nil: warnings and errors to the
// test's output), and signs testEmail in.
func newTestServiceWith(t testing.TB, log *slog.Logger, configure func(*Options)) testService {
	t.Helper()
	db := newEmptyDatabase(t)
	store := suppliers.NewStore(db, 0)
	account, err := store.CreateEmployee(context.Background(), testEmail, testPasswordHash())
	if err != nil {
		t.Fatalf("create employee: %v", err)
	}
	if log == nil {
		// Warnings and errors (every 5xx) reach the test's output, so a
		// failure shows what the service logged.
		log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	clock := newFakeClock()
	delays := &delayLog{}
	opts := Options{
		SessionKeys: [][]byte{[]byte(rand.Text() + rand.Text())},
		Now:         clock.Now,
		Sleep:       delays.sleep,
	}
	if configure != nil {
		configure(&opts)
	}
	// The page cache is on, as in production, on the same clock.
	svc, err := New(Deps{Log: log, Web: web.Config{PageCacheTTL: web.DefaultPageCacheTTL, Clock: clock.Now}, DB: db, Options: opts})
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	b := newBrowser(svc.Handler())
	b.signIn(t, testEmail, testPassword)
	return testService{handler: b, raw: svc.Handler(), db: db, store: store, clock: clock, employee: account, delays: delays, opts: opts}
}

// newEmptyDatabase is a fresh, migrated database without accounts,
// reached as production's employee service reaches it: with rights on rows
// only, never on the schema. Account names are server-wide, hence random.
func newEmptyDatabase(t testing.TB) *sql.DB {
	t.Helper()
	database := suppliertest.NewDatabase(t)
	if _, err := suppliers.Migrate(context.Background(), database.Open(t)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	employee := database.CreateUser(t, "employee_"+strings.ToLower(rand.Text()[:12]), rand.Text(), suppliers.EmployeeGrants(database.Name)...)
	return employee.Open(t)
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func webConfig() web.Config { return web.Config{} }

func newFakeClock() *webtest.Clock { return webtest.NewClock(time.Now().UTC().Truncate(time.Second)) }

// delayLog records the sign-in slow-downs instead of waiting them out.
type delayLog struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (d *delayLog) sleep(ctx context.Context, delay time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.delays = append(d.delays, delay)
	return ctx.Err()
}

func (d *delayLog) all() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.delays...)
}

// browser is one visitor's browser in front of the service: it keeps the
// cookies the service sets, remembers the CSRF token of the last page it
// received, and (when autoCSRF is set) adds that token to every form it
// posts without one, as the pages' forms do.
type browser struct {
	next     http.Handler
	autoCSRF bool

	mu      sync.Mutex
	cookies map[string]*http.Cookie
	token   string
	// seen is every cookie value and CSRF token the browser received.
	seen []string
}

func newBrowser(next http.Handler) *browser {
	return &browser{next: next, autoCSRF: true, cookies: map[string]*http.Cookie{}}
}

// via is a copy of the browser, with its cookies and token as they are now,
// whose requests reach next: the same person sent to another replica.
func (b *browser) via(next http.Handler) *browser {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &browser{next: next, autoCSRF: b.autoCSRF, cookies: maps.Clone(b.cookies), token: b.token}
}

func (b *browser) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	token := b.token
	b.mu.Unlock()
	if b.autoCSRF && token != "" {
		addCSRFToken(r, token)
	}
	tee := &teeWriter{ResponseWriter: w}
	b.next.ServeHTTP(tee, r)

	b.mu.Lock()
	defer b.mu.Unlock()
	for _, line := range w.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			continue
		}
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = &http.Cookie{Name: c.Name, Value: c.Value}
			b.seen = append(b.seen, c.Value)
		}
	}
	if inputs := webclient.HiddenInputs(tee.body.Bytes()); inputs.Has(auth.CSRFField) {
		b.token = inputs.Get(auth.CSRFField)
		b.seen = append(b.seen, b.token)
	}
}

// csrfToken is the token of the last page the browser received.
func (b *browser) csrfToken() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.token
}

// secrets is every cookie value and CSRF token the browser received.
func (b *browser) secrets() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.seen...)
}

// sessionCookie is the session cookie's value, or "".
func (b *browser) sessionCookie() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.cookies[auth.CookieName]; ok {
		return c.Value
	}
	return ""
}

// signIn fills in and submits the sign-in form, then opens the list so the
// browser holds the signed-in session's CSRF token.
func (b *browser) signIn(t testing.TB, email, password string) {
	t.Helper()
	wantStatus(t, get(t, b, loginPath), http.StatusOK)
	rec := postForm(t, b, loginPath, url.Values{"email": {email}, "password": {password}})
	wantRedirect(t, rec, listPath)
	wantStatus(t, get(t, b, listPath), http.StatusOK)
}

// addCSRFToken adds csrf_token to a URL-encoded form post that has none.
// Bodies of unknown or oversize length are left alone, so tests of the
// size limit see the service's own answer.
func addCSRFToken(r *http.Request, token string) {
	if r.Method != http.MethodPost || r.ContentLength < 0 || r.ContentLength > web.MaxBodyBytes ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	values, err := url.ParseQuery(string(body))
	if err == nil && !values.Has(auth.CSRFField) {
		values.Set(auth.CSRFField, token)
		body = []byte(values.Encode())
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
}

// teeWriter keeps a copy of the body it writes.
type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

func get(t testing.TB, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func postForm(t testing.TB, h http.Handler, path string, values url.Values) *httptest.ResponseRecorder {
	t.Helper()
	return serve(h, newFormRequest(path, values))
}

// newFormRequest is a browser's submission of an HTML form.
func newFormRequest(path string, values url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func wantStatus(t testing.TB, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status %d, want %d; body:\n%s", rec.Code, want, rec.Body.String())
	}
}

func wantRedirect(t testing.TB, rec *httptest.ResponseRecorder, location string) {
	t.Helper()
	wantStatus(t, rec, http.StatusSeeOther)
	if got := rec.Header().Get("Location"); got != location {
		t.Fatalf("redirected to %q, want %q", got, location)
	}
}

func wantBody(t testing.TB, rec *httptest.ResponseRecorder, fragments ...string) {
	t.Helper()
	body := rec.Body.String()
	for _, f := range fragments {
		if !strings.Contains(body, f) {
			t.Errorf("page lacks %q; body:\n%s", f, body)
		}
	}
}

func wantNoBody(t testing.TB, rec *httptest.ResponseRecorder, fragments ...string) {
	t.Helper()
	body := rec.Body.String()
	for _, f := range fragments {
		if strings.Contains(body, f) {
			t.Errorf("page contains %q but should not; body:\n%s", f, body)
		}
	}
}

// escaped is s as html/template prints it, in text and quoted attributes.
func escaped(s string) string {
	var b bytes.Buffer
	template.Must(template.New("").Parse("{{.}}")).Execute(&b, s) //nolint:errcheck // a string always renders
	return b.String()
}

func countRows(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM suppliers").Scan(&n); err != nil {
		t.Fatalf("count suppliers: %v", err)
	}
	return n
}

// validInput is a supplier every rule accepts.
func validInput() suppliers.Input {
	return suppliers.Input{Name: "Blue Ridge Roasters", Address: "12 Mill Road", City: "Asheville",
		State: "NC", Email: "orders@blueridge.example.com", Phone: "+1 828 555 0142"}
}

// formOf is in as the add and edit forms submit it.
func formOf(in suppliers.Input) url.Values {
	v := url.Values{}
	for _, f := range suppliers.Fields {
		v.Set(f.Name, f.Value(in))
	}
	return v
}

// editForm is the edit form's submission of in, based on version.
func editForm(in suppliers.Input, version int64) url.Values {
	v := formOf(in)
	v.Set("version", strconv.FormatInt(version, 10))
	return v
}

func createSupplier(t *testing.T, svc testService, in suppliers.Input) suppliers.Supplier {
	t.Helper()
	s, err := svc.store.Create(context.Background(), svc.actor(), in)
	if err != nil {
		t.Fatalf("create supplier %q: %v", in.Name, err)
	}
	// Made behind the service's back, as by another replica: the lists
	// show it once their cached pages have expired.
	svc.clock.Advance(web.DefaultPageCacheTTL)
	return s
}

func getSupplier(t *testing.T, svc testService, id int64) suppliers.Supplier {
	t.Helper()
	s, err := svc.store.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get supplier %d: %v", id, err)
	}
	return s
}

func updatePathOf(id int64) string { return updatePath + strconv.FormatInt(id, 10) }
func removePathOf(id int64) string { return removePath + strconv.FormatInt(id, 10) }

// newestSupplier is the supplier added last.
func newestSupplier(t *testing.T, svc testService) suppliers.Supplier {
	t.Helper()
	var id int64
	if err := svc.db.QueryRowContext(context.Background(), "SELECT MAX(id) FROM suppliers").Scan(&id); err != nil {
		t.Fatalf("newest supplier: %v", err)
	}
	return getSupplier(t, svc, id)
}

// actor is the signed-in employee as the audit trail records them.
func (svc testService) actor() suppliers.Actor {
	return suppliers.Actor{ID: svc.employee.ID, Email: svc.employee.Email}
}

package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
)

// testService is the employee service over a fresh, migrated database of its
// own, so tests can run in parallel without seeing each other's rows.
type testService struct {
	handler http.Handler
	db      *sql.DB
	store   *suppliers.Store
}

func newTestService(t *testing.T) testService {
	t.Helper()
	database := suppliertest.NewDatabase(t)
	if _, err := suppliers.Migrate(context.Background(), database.Open(t)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	// The service connects as production does: with rights on rows only,
	// never on the schema. Account names are server-wide, hence random.
	employee := database.CreateUser(t, "employee_"+strings.ToLower(rand.Text()[:12]), rand.Text(),
		"SELECT, INSERT, UPDATE, DELETE ON %s.*")
	db := employee.Open(t)
	// Warnings and errors (every 5xx) reach the test's output, so a
	// failure shows what the service logged.
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := New(log, web.Config{}, db)
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	return testService{handler: svc.Handler(), db: db, store: suppliers.NewStore(db, 0)}
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func postForm(t *testing.T, h http.Handler, path string, values url.Values) *httptest.ResponseRecorder {
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

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status %d, want %d; body:\n%s", rec.Code, want, rec.Body.String())
	}
}

func wantRedirect(t *testing.T, rec *httptest.ResponseRecorder, location string) {
	t.Helper()
	wantStatus(t, rec, http.StatusSeeOther)
	if got := rec.Header().Get("Location"); got != location {
		t.Fatalf("redirected to %q, want %q", got, location)
	}
}

func wantBody(t *testing.T, rec *httptest.ResponseRecorder, fragments ...string) {
	t.Helper()
	body := rec.Body.String()
	for _, f := range fragments {
		if !strings.Contains(body, f) {
			t.Errorf("page lacks %q; body:\n%s", f, body)
		}
	}
}

func wantNoBody(t *testing.T, rec *httptest.ResponseRecorder, fragments ...string) {
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
	s, err := svc.store.Create(context.Background(), in)
	if err != nil {
		t.Fatalf("create supplier %q: %v", in.Name, err)
	}
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

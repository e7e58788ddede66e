package webclient

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHiddenInputs(t *testing.T) {
	t.Parallel()
	page := []byte(`<form method="post" action="/admin/logout"><input type="hidden" name="csrf_token" value="tok-1"></form>
<form method="post"><input type="hidden" name="csrf_token" value="tok-2">
<input type="hidden" name="next" value="/admin/suppliers?q=a&amp;page=2">
<input type="hidden" name="version" value="">
<input type="text" name="name" value="not hidden"></form>`)
	got := HiddenInputs(page)
	for name, want := range map[string]string{"csrf_token": "tok-1", "next": "/admin/suppliers?q=a&page=2", "version": ""} {
		if !got.Has(name) || got.Get(name) != want {
			t.Errorf("%s = %q (present %v), want %q", name, got.Get(name), got.Has(name), want)
		}
	}
	if got.Has("name") {
		t.Errorf("a visible input counted as hidden: %v", got)
	}
	if none := HiddenInputs([]byte("<p>no form</p>")); len(none) != 0 {
		t.Errorf("hidden inputs of a page without a form: %v", none)
	}
}

// fakeService is a sign-in page and a form page that, like the employee
// service, want the session cookie and the form's CSRF token back.
func fakeService(t *testing.T) *httptest.Server {
	t.Helper()
	const token = "the-token"
	form := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "anon", Path: "/admin"})
			w.Write([]byte(`<input type="hidden" name="csrf_token" value="` + token + `"><input type="hidden" name="version" value="7">`)) //nolint:errcheck // a test page
			return false
		}
		if c, err := r.Cookie("session"); err != nil || r.PostFormValue(CSRFField) != token {
			t.Errorf("post of %v with cookie %v, want the page's token and cookie", r.PostForm, c)
			http.Error(w, "forged", http.StatusForbidden)
			return false
		}
		return true
	}
	mux := http.NewServeMux()
	mux.HandleFunc(LoginPath, func(w http.ResponseWriter, r *http.Request) {
		if !form(w, r) {
			return
		}
		if r.PostFormValue("password") != "right" {
			http.Error(w, "wrong password", http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "signed-in", Path: "/admin"})
		http.Redirect(w, r, ListPath, http.StatusSeeOther)
	})
	mux.HandleFunc("/admin/edit", func(w http.ResponseWriter, r *http.Request) {
		if form(w, r) {
			w.Write([]byte("version " + r.PostFormValue("version") + ", name " + r.PostFormValue("name"))) //nolint:errcheck // a test page
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestSignInAndPostForm(t *testing.T) {
	t.Parallel()
	srv := fakeService(t)
	c := New(10 * time.Second)
	if err := c.SignIn(t.Context(), srv.URL, "ana@example.com", "wrong"); err == nil || !strings.Contains(err.Error(), "status 401") {
		t.Errorf("signing in with a wrong password: %v, want an error naming the 401", err)
	}
	if err := c.SignIn(t.Context(), srv.URL, "ana@example.com", "right"); err != nil {
		t.Fatal(err)
	}
	if got, err := c.CookieHeader(srv.URL + ListPath); err != nil || got != "session=signed-in" {
		t.Errorf("CookieHeader = %q, %v; want the signed-in session", got, err)
	}
	resp, body, err := c.PostForm(t.Context(), srv.URL+"/admin/edit", map[string][]string{"name": {"Kona"}})
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "version 7, name Kona" {
		t.Errorf("PostForm = %v, %q, %v; want the page's version with the typed name", resp, body, err)
	}
	if tok, err := c.FormToken(t.Context(), srv.URL+"/admin/edit"); err != nil || tok != "the-token" {
		t.Errorf("FormToken = %q, %v", tok, err)
	}
	if _, err := c.FormToken(t.Context(), srv.URL+"/no/form"); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("FormToken of a missing page: %v, want an error naming the 404", err)
	}
}

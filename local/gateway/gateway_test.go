package gateway

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRouteAppliesTheALBRules(t *testing.T) {
	t.Parallel()
	cases := map[string]Target{
		"/":                        Customer,
		"/suppliers":               Customer,
		"/api/suppliers/7":         Customer,
		"/static/style.css":        Customer,
		"/admin":                   Employee,
		"/admin/":                  Employee,
		"/admin/suppliers":         Employee,
		"/admin/supplier-update/7": Employee,
		"/admin/static/style.css":  Employee,
		"/administration":          Customer, // /admin/* needs the slash
		"/Admin/suppliers":         Customer, // ALB path patterns are case-sensitive
		"/x/admin/suppliers":       Customer,
		"/healthz":                 Customer,
	}
	for path, want := range cases {
		if got := Route(path); got != want {
			t.Errorf("Route(%q) = %s, want %s", path, got, want)
		}
	}
}

func TestMatchALBWildcards(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, path string
		want          bool
	}{
		{"/admin/*", "/admin/a/b/c", true}, // * spans slashes, unlike path.Match
		{"/admin/*", "/admin", false},
		{"/a?c", "/abc", true},
		{"/a?c", "/ac", false},
		{"*", "", true},
		{"/img/*.png", "/img/x/y.png", true},
		{"/img/*.png", "/img/x/y.gif", false},
	}
	for _, c := range cases {
		if got := matchALB(c.pattern, c.path); got != c.want {
			t.Errorf("matchALB(%q, %q) = %v, want %v", c.pattern, c.path, got, c.want)
		}
	}
}

// upstream answers with its own name and what it was asked for.
func upstream(t *testing.T, name string) *url.URL {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name+" "+r.URL.RequestURI()+" xff="+r.Header.Get("X-Forwarded-For")+" host="+r.Host)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u
}

func TestGatewayProxiesToTheRuleTarget(t *testing.T) {
	t.Parallel()
	gw, err := New(map[Target]*url.URL{Customer: upstream(t, "customer"), Employee: upstream(t, "employee")}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(gw)
	t.Cleanup(front.Close)
	for path, want := range map[string]string{
		"/suppliers?q=kona":         "customer /suppliers?q=kona",
		"/admin":                    "employee /admin",
		"/admin/supplier-add":       "employee /admin/supplier-add",
		"/administration/something": "customer /administration/something",
	} {
		resp, err := http.Get(front.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.HasPrefix(string(body), want+" ") {
			t.Errorf("GET %s reached %q, want %q", path, body, want)
		}
		if !strings.Contains(string(body), "xff=127.0.0.1") || !strings.Contains(string(body), "host="+strings.TrimPrefix(front.URL, "http://")) {
			t.Errorf("GET %s: upstream should see X-Forwarded-For and the original Host, got %q", path, body)
		}
	}
}

func TestGatewayAnswers502WhenATargetIsDown(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL, _ := url.Parse(down.URL)
	down.Close()
	gw, err := New(map[Target]*url.URL{Customer: upstream(t, "customer"), Employee: downURL}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/admin/suppliers", nil))
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "not answering") {
		t.Fatalf("want a 502 page, got %d %q", rec.Code, rec.Body.String())
	}
	// The warning names the path, cut short whatever its length.
	var logs strings.Builder
	gw, err = New(map[Target]*url.URL{Customer: upstream(t, "customer"), Employee: downURL}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	gw.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/admin/"+strings.Repeat("x", 5000), nil))
	if !strings.Contains(logs.String(), "/admin/xxx") || len(logs.String()) > 1024 {
		t.Errorf("the gateway's warning should name the path, cut to a few hundred bytes; got %d bytes: %.300s", len(logs.String()), logs.String())
	}
}

func TestNewRefusesAMissingTarget(t *testing.T) {
	t.Parallel()
	if _, err := New(map[Target]*url.URL{Customer: upstream(t, "customer")}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a gateway without an employee target should be refused")
	}
}

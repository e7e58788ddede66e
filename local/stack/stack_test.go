package stack

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webclient"
)

func startStack(t *testing.T, n int) *Stack {
	t.Helper()
	s, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", Suppliers: n})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close stack: %v", err)
		}
	})
	return s
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// signIn signs in through the gateway with the stack's account and returns
// a client holding the session cookie, which follows redirects from then on
// as a browser does.
func signIn(t *testing.T, s *Stack, email, password string) *http.Client {
	t.Helper()
	c := webclient.New(30 * time.Second)
	if err := c.SignIn(t.Context(), s.URL, email, password); err != nil {
		t.Fatal(err)
	}
	c.HTTP.CheckRedirect = nil
	return c.HTTP
}

func getWith(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestStackServesBothServicesThroughTheGateway(t *testing.T) {
	s := startStack(t, 25)
	employee := signIn(t, s, s.AdminEmail, s.AdminPassword)
	for path, want := range map[string]string{
		"/":                       "Find a coffee supplier",
		"/suppliers":              "Showing 1–20 of 25 suppliers",
		"/admin/suppliers":        "Showing 1–20 of 25 suppliers",
		"/admin/supplier-add":     `name="name"`,
		"/api/suppliers?page=2":   `"total":25`,
		"/admin/static/style.css": "--ink",
	} {
		status, body := getWith(t, employee, s.URL+path)
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d, want 200 containing %q; body starts %.200q", path, status, want, body)
		}
	}
	// The catalogue has no admin pages of its own: /admin must have
	// reached the employee service, whose pages link the add form.
	if _, body := getWith(t, employee, s.URL+"/admin"); !strings.Contains(body, "/admin/supplier-add") {
		t.Errorf("/admin should show the employee's list")
	}
	for _, m := range []string{s.CustomerMetricsURL, s.EmployeeMetricsURL} {
		if status, body := get(t, m); status != http.StatusOK || !strings.Contains(body, "http_requests_total") {
			t.Errorf("metrics at %s = %d", m, status)
		}
	}
}

// TestStackMakesADemoAccount: without an account in Options, the stack
// creates the demo account with a fresh password; visitors are sent to
// sign in.
func TestStackMakesADemoAccount(t *testing.T) {
	s := startStack(t, 3)
	if s.AdminEmail != DemoEmail || len(s.AdminPassword) < 12 {
		t.Fatalf("demo account %q with a %d-character password", s.AdminEmail, len(s.AdminPassword))
	}
	if _, body := get(t, s.URL+"/admin/suppliers"); !strings.Contains(body, "<h1>Sign in</h1>") {
		t.Errorf("a visitor is not sent to sign in: %.300s", body)
	}
	client := signIn(t, s, s.AdminEmail, s.AdminPassword)
	if _, body := getWith(t, client, s.URL+"/admin/suppliers"); !strings.Contains(body, "Signed in as <strong>"+DemoEmail) {
		t.Errorf("signed in, the list does not say who: %.300s", body)
	}
	// The catalogue needs no session.
	if status, _ := get(t, s.URL+"/suppliers"); status != http.StatusOK {
		t.Errorf("catalogue: %d", status)
	}
}

// TestStackUsesTheGivenAccountAndClock: an account and a clock in Options
// reach the employee service; moving the clock past the idle timeout ends
// the session.
func TestStackUsesTheGivenAccountAndClock(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	const email, password = "ops@coffee-suppliers.example", "an operator's own password"
	s, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", Suppliers: 1, AdminEmail: email, AdminPassword: password,
		SessionIdleTimeout: 10 * time.Minute, Now: clock})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if s.AdminEmail != email || s.AdminPassword != password {
		t.Fatalf("stack account %q, want the given one", s.AdminEmail)
	}
	client := signIn(t, s, email, password)
	if status, body := getWith(t, client, s.URL+"/admin/suppliers"); status != http.StatusOK || !strings.Contains(body, "Signed in as") {
		t.Fatalf("signed in: %d", status)
	}
	mu.Lock()
	now = now.Add(11 * time.Minute)
	mu.Unlock()
	if _, body := getWith(t, client, s.URL+"/admin/suppliers"); !strings.Contains(body, "Your session expired. Please sign in again.") {
		t.Errorf("after 11 idle minutes the session still works: %.300s", body)
	}
}

func TestStackRefusesHalfAnAccount(t *testing.T) {
	_, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", AdminEmail: "ops@coffee-suppliers.example"})
	if err == nil || !strings.Contains(err.Error(), "ADMIN_PASSWORD") {
		t.Fatalf("want an error naming ADMIN_PASSWORD, got %v", err)
	}
}

func TestStackGivesEachServiceLeastPrivilege(t *testing.T) {
	s := startStack(t, 1)
	ctx := context.Background()
	open := func(cfg suppliers.DBConfig) *suppliers.Store {
		db, err := suppliers.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return suppliers.NewStore(db, 0)
	}
	in := suppliers.Input{Name: "Kona Estate", Address: "1 Mauka Road", City: "Holualoa", State: "HI",
		Email: "beans@kona.example.com", Phone: "+1 808 555 0101"}

	customer := open(s.CustomerDB)
	if _, err := customer.List(ctx, suppliers.Query{}); err != nil {
		t.Fatalf("the customer account must read suppliers: %v", err)
	}
	if _, err := customer.Create(ctx, testActor, in); err == nil || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("the customer account must not write, got %v", err)
	}

	employee := open(s.EmployeeDB)
	if _, err := employee.Create(ctx, testActor, in); err != nil {
		t.Fatalf("the employee account must write rows: %v", err)
	}
	db, err := suppliers.Open(s.EmployeeDB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "ALTER TABLE suppliers ADD COLUMN note TEXT"); err == nil || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("the employee account must not change the schema, got %v", err)
	}
}

func TestStackRefusesABusyPort(t *testing.T) {
	first := startStack(t, 0)
	addr := strings.TrimPrefix(first.URL, "http://")
	_, err := Start(context.Background(), Options{Addr: addr})
	if err == nil || !strings.Contains(err.Error(), "PORT") {
		t.Fatalf("a second stack on %s should fail naming PORT, got %v", addr, err)
	}
}

// testActor is the employee these tests act as.
var testActor = suppliers.Actor{ID: 1, Email: "tester@coffee-suppliers.example"}

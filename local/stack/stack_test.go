package stack

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
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

func TestStackServesBothServicesThroughTheGateway(t *testing.T) {
	s := startStack(t, 25)
	for path, want := range map[string]string{
		"/":                       "Find a coffee supplier",
		"/suppliers":              "Showing 1–20 of 25 suppliers",
		"/admin/suppliers":        "Showing 1–20 of 25 suppliers",
		"/admin/supplier-add":     `name="name"`,
		"/api/suppliers?page=2":   `"total":25`,
		"/admin/static/style.css": "--ink",
	} {
		status, body := get(t, s.URL+path)
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d, want 200 containing %q; body starts %.200q", path, status, want, body)
		}
	}
	// The catalogue has no admin pages of its own: /admin must have
	// reached the employee service, whose pages link the add form.
	if _, body := get(t, s.URL+"/admin"); !strings.Contains(body, "/admin/supplier-add") {
		t.Errorf("/admin should show the employee's list")
	}
	for _, m := range []string{s.CustomerMetricsURL, s.EmployeeMetricsURL} {
		if status, body := get(t, m); status != http.StatusOK || !strings.Contains(body, "http_requests_total") {
			t.Errorf("metrics at %s = %d", m, status)
		}
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

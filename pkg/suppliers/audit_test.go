package suppliers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

func TestEveryChangeIsAuditedWithWhoAndValues(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	ctx := t.Context()
	ana := suppliers.Actor{ID: 7, Email: "ana@coffee-suppliers.example"}
	bo := suppliers.Actor{ID: 8, Email: "bo@coffee-suppliers.example"}

	created, err := st.Create(ctx, ana, input("O'Brien & Sons", "Seattle"))
	if err != nil {
		t.Fatal(err)
	}
	changed := created.Input()
	changed.City = "Kailua-Kona"
	updated, err := st.Update(ctx, bo, created.ID, created.Version, changed)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, ana, updated.ID, updated.Version); err != nil {
		t.Fatal(err)
	}

	history, err := st.History(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 3 {
		t.Fatalf("want 3 audit entries (delete, update, create), got %d", len(history))
	}
	del, upd, cre := history[0], history[1], history[2]
	check := func(c suppliers.Change, action string, who suppliers.Actor, before, after *suppliers.Input) {
		t.Helper()
		if c.Action != action || c.Actor != who || c.SupplierID != created.ID {
			t.Errorf("%s entry: action %q by %+v for %d", action, c.Action, c.Actor, c.SupplierID)
		}
		if (c.Before == nil) != (before == nil) || (before != nil && *c.Before != *before) {
			t.Errorf("%s entry before = %+v, want %+v", action, c.Before, before)
		}
		if (c.After == nil) != (after == nil) || (after != nil && *c.After != *after) {
			t.Errorf("%s entry after = %+v, want %+v", action, c.After, after)
		}
		if c.At.IsZero() || time.Since(c.At) > time.Hour || time.Until(c.At) > time.Hour {
			t.Errorf("%s entry has an implausible time %v", action, c.At)
		}
	}
	first := created.Input()
	check(cre, suppliers.ActionCreate, ana, nil, &first)
	check(upd, suppliers.ActionUpdate, bo, &first, &changed)
	check(del, suppliers.ActionDelete, ana, &changed, nil)
	if !(del.ID > upd.ID && upd.ID > cre.ID) {
		t.Errorf("history should be newest first: ids %d, %d, %d", del.ID, upd.ID, cre.ID)
	}
}

func TestRefusedChangesLeaveNoAuditRow(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	ctx := t.Context()
	s := mustCreate(t, st, input("Highland Roasters", "Denver"))
	if _, err := st.Update(ctx, testActor, s.ID, s.Version+1, input("Stale Edit", "Denver")); !errors.Is(err, suppliers.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	if err := st.Delete(ctx, testActor, s.ID, s.Version+1); !errors.Is(err, suppliers.ErrConflict) {
		t.Fatalf("stale delete: %v", err)
	}
	bad := input("", "Denver")
	if _, err := st.Update(ctx, testActor, s.ID, s.Version, bad); err == nil {
		t.Fatal("invalid update accepted")
	}
	history, err := st.History(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 1 || history[0].Action != suppliers.ActionCreate {
		t.Fatalf("refused changes must not be audited; history = %+v", history)
	}
}

// TestAFailedAuditWriteUndoesTheChange makes the audit insert fail inside
// the transaction (an actor email longer than its column) and checks that
// neither the change nor any audit row remains: both or neither.
func TestAFailedAuditWriteUndoesTheChange(t *testing.T) {
	t.Parallel()
	_, db, st := migrated(t)
	ctx := t.Context()
	s := mustCreate(t, st, input("Atomic Beans", "Boston"))
	unrecordable := suppliers.Actor{ID: 9, Email: strings.Repeat("x", 300) + "@example.com"}

	if _, err := st.Create(ctx, unrecordable, input("Ghost Supplier", "Nowhere")); err == nil {
		t.Fatal("create succeeded although its audit row could not be written")
	}
	changed := s.Input()
	changed.City = "Changed City"
	if _, err := st.Update(ctx, unrecordable, s.ID, s.Version, changed); err == nil {
		t.Fatal("update succeeded although its audit row could not be written")
	}
	if err := st.Delete(ctx, unrecordable, s.ID, s.Version); err == nil {
		t.Fatal("delete succeeded although its audit row could not be written")
	}

	var suppliersLeft, auditRows int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM suppliers").Scan(&suppliersLeft); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM supplier_audit").Scan(&auditRows); err != nil {
		t.Fatal(err)
	}
	if suppliersLeft != 1 || auditRows != 1 {
		t.Fatalf("after three failed audited writes: %d suppliers, %d audit rows; want only the first supplier and its creation", suppliersLeft, auditRows)
	}
	if now, err := st.Get(ctx, s.ID); err != nil || now != s {
		t.Fatalf("the supplier changed although its audit failed: %+v, %v", now, err)
	}
}

func TestEmployeeAccounts(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	ctx := t.Context()
	if n, err := st.CountEmployees(ctx); err != nil || n != 0 {
		t.Fatalf("a new database has %d accounts, %v", n, err)
	}
	e, err := st.CreateEmployee(ctx, "  Ana@Coffee-Suppliers.Example ", "$argon2id$hash-1")
	if err != nil {
		t.Fatal(err)
	}
	if e.Email != "ana@coffee-suppliers.example" {
		t.Errorf("emails are stored trimmed and lower-cased, got %q", e.Email)
	}
	if _, err := st.CreateEmployee(ctx, "ANA@coffee-suppliers.example", "$argon2id$hash-2"); !errors.Is(err, suppliers.ErrEmployeeExists) {
		t.Errorf("a second account for the same email: %v, want ErrEmployeeExists", err)
	}
	if _, err := st.CreateEmployee(ctx, "not an email", "$argon2id$hash"); err == nil {
		t.Error("an account without a valid email was created")
	}
	got, err := st.EmployeeByEmail(ctx, "ana@COFFEE-suppliers.example")
	if err != nil || got != e {
		t.Fatalf("lookup = %+v, %v; want %+v", got, err, e)
	}
	if err := st.SetEmployeePassword(ctx, "ana@coffee-suppliers.example", "$argon2id$hash-3"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.EmployeeByEmail(ctx, e.Email); got.PasswordHash != "$argon2id$hash-3" {
		t.Errorf("password hash after reset = %q", got.PasswordHash)
	}
	if err := st.SetEmployeePassword(ctx, "ana@coffee-suppliers.example", "$argon2id$hash-3"); err != nil {
		t.Errorf("setting the same hash again: %v", err)
	}
	if err := st.SetEmployeePassword(ctx, "nobody@coffee-suppliers.example", "$argon2id$x"); !errors.Is(err, suppliers.ErrNotFound) {
		t.Errorf("reset for an unknown email: %v, want ErrNotFound", err)
	}
	if _, err := st.EmployeeByEmail(ctx, "nobody@coffee-suppliers.example"); !errors.Is(err, suppliers.ErrNotFound) {
		t.Errorf("unknown email: %v, want ErrNotFound", err)
	}
	if n, _ := st.CountEmployees(ctx); n != 1 {
		t.Errorf("CountEmployees = %d, want 1", n)
	}
}

func TestLoginFailuresCountWithinAWindow(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	ctx := t.Context()
	const window = 15 * time.Minute
	start := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	key := "email:ana@coffee-suppliers.example"

	if n, last, err := st.LoginFailures(ctx, key, start, window); err != nil || n != 0 || !last.IsZero() {
		t.Fatalf("no failures yet: %d, %v, %v", n, last, err)
	}
	for i := 1; i <= 3; i++ {
		a, err := st.CountLoginAttempt(ctx, key, start.Add(time.Duration(i)*time.Minute), window, 0)
		if n := a.Failures + 1; err != nil || n != i || !a.Counted {
			t.Fatalf("failure %d counted as %d, %v", i, n, err)
		}
	}
	n, last, err := st.LoginFailures(ctx, key, start.Add(4*time.Minute), window)
	if err != nil || n != 3 || !last.Equal(start.Add(3*time.Minute)) {
		t.Fatalf("LoginFailures = %d at %v, %v; want 3 at %v", n, last, err, start.Add(3*time.Minute))
	}
	if n, _, _ := st.LoginFailures(ctx, "ip:192.0.2.1", start, window); n != 0 {
		t.Errorf("keys are independent, another key has %d", n)
	}
	// A quiet window forgets: reading after it sees none, and the next
	// failure starts again at one.
	later := start.Add(3*time.Minute + window + time.Second)
	if n, _, _ := st.LoginFailures(ctx, key, later, window); n != 0 {
		t.Errorf("failures older than the window still count: %d", n)
	}
	if a, err := st.CountLoginAttempt(ctx, key, later, window, 0); err != nil || a.Failures+1 != 1 {
		t.Errorf("first failure after a quiet window counted as %d, %v", a.Failures+1, err)
	}
	if err := st.ClearLoginFailures(ctx, key); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := st.LoginFailures(ctx, key, later, window); n != 0 {
		t.Errorf("after clearing: %d failures", n)
	}
}

// TestConcurrentLoginFailuresAreAllCounted: replicas recording failures for
// one key at once must not lose any, or throttling could be outrun.
func TestConcurrentLoginFailuresAreAllCounted(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	const attempts = 12
	errs := make(chan error, attempts)
	for range attempts {
		go func() {
			_, err := st.CountLoginAttempt(context.Background(), "ip:198.51.100.7", now, time.Minute, 0)
			errs <- err
		}()
	}
	for range attempts {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n, _, err := st.LoginFailures(t.Context(), "ip:198.51.100.7", now, time.Minute); err != nil || n != attempts {
		t.Fatalf("%d concurrent failures counted as %d, %v", attempts, n, err)
	}
}

package suppliers_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// TestEmployeeEmailsMatchExactly: the column's collation takes accents,
// and trailing spaces of any kind, for nothing; an account is found only by
// its own email (ASCII case and surrounding ASCII spaces aside).
func TestEmployeeEmailsMatchExactly(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	ctx := t.Context()
	e, err := st.CreateEmployee(ctx, "admin@example.com", "$argon2id$hash-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, lookAlike := range []string{"ädmin@example.com", "admin@exämple.com", "admin@example.com\u00a0",
		"admin@example.com\u3000", "\u212Admin@example.com", "admın@example.com"} {
		if got, err := st.EmployeeByEmail(ctx, lookAlike); !errors.Is(err, suppliers.ErrNotFound) {
			t.Errorf("EmployeeByEmail(%q) = %+v, %v; want ErrNotFound", lookAlike, got, err)
		}
		if err := st.SetEmployeePassword(ctx, lookAlike, "$argon2id$stolen"); !errors.Is(err, suppliers.ErrNotFound) {
			t.Errorf("SetEmployeePassword(%q) = %v; want ErrNotFound", lookAlike, err)
		}
	}
	for _, same := range []string{"admin@example.com", " ADMIN@Example.COM\t"} {
		if got, err := st.EmployeeByEmail(ctx, same); err != nil || got.ID != e.ID || got.PasswordHash != "$argon2id$hash-1" {
			t.Errorf("EmployeeByEmail(%q) = %+v, %v; want the account, unchanged", same, got, err)
		}
	}
}

// TestSessionGenerations: ending sessions and resetting the password raise
// the generation; upgrading a hash on sign-in does not, and never undoes
// a reset.
func TestSessionGenerations(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	ctx := t.Context()
	e, err := st.CreateEmployee(ctx, "ana@coffee-suppliers.example", "$argon2id$old")
	if err != nil {
		t.Fatal(err)
	}
	generation := func() int64 {
		t.Helper()
		got, err := st.EmployeeByEmail(ctx, e.Email)
		if err != nil {
			t.Fatal(err)
		}
		return got.SessionGeneration
	}
	if g := generation(); g != 0 || e.SessionGeneration != 0 {
		t.Fatalf("a new account's generation is %d (%d), want 0", g, e.SessionGeneration)
	}
	if g, err := st.EndSessions(ctx, e.ID); err != nil || g != 1 || generation() != 1 {
		t.Errorf("EndSessions = %d, %v; stored %d; want 1", g, err, generation())
	}
	if err := st.SetEmployeePassword(ctx, e.Email, "$argon2id$reset"); err != nil || generation() != 2 {
		t.Errorf("after a reset (%v) the generation is %d, want 2", err, generation())
	}
	// A sign-in that began with the old hash finishes after the reset: its
	// upgrade must not bring the old password back.
	if err := st.UpgradePasswordHash(ctx, e.ID, "$argon2id$old", "$argon2id$old-upgraded"); err != nil {
		t.Fatal(err)
	}
	if err := st.UpgradePasswordHash(ctx, e.ID, "$argon2id$reset", "$argon2id$reset-upgraded"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.EmployeeByEmail(ctx, e.Email); got.PasswordHash != "$argon2id$reset-upgraded" || got.SessionGeneration != 2 {
		t.Errorf("after the upgrades: %+v, want the reset's hash upgraded at generation 2", got)
	}
	if _, err := st.EndSessions(ctx, e.ID+100); !errors.Is(err, suppliers.ErrNotFound) {
		t.Errorf("ending a missing account's sessions: %v, want ErrNotFound", err)
	}
}

// TestSessionsEnd: a session stays valid until it is ended, its
// employee's generation moves on, or the account is gone; ended sessions
// are remembered until they would have expired anyway.
func TestSessionsEnd(t *testing.T) {
	t.Parallel()
	_, admin, st := migrated(t)
	ctx := t.Context()
	e, err := st.CreateEmployee(ctx, "ana@coffee-suppliers.example", "$argon2id$hash")
	if err != nil {
		t.Fatal(err)
	}
	valid := func(generation int64, id string) bool {
		t.Helper()
		ok, err := st.SessionValid(ctx, e.ID, generation, id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !valid(0, "session-a") || !valid(0, "session-b") {
		t.Fatal("new sessions are not valid")
	}
	if err := st.EndSession(ctx, "session-a", time.Now().Add(12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.EndSession(ctx, "session-a", time.Now().Add(12*time.Hour)); err != nil {
		t.Errorf("ending a session twice: %v", err)
	}
	if valid(0, "session-a") || !valid(0, "session-b") {
		t.Error("signing out one session did not end exactly that one")
	}
	if _, err := st.EndSessions(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if valid(0, "session-b") || !valid(1, "session-c") {
		t.Error("after ending every session, an old one is valid or a new one is not")
	}
	if ok, err := st.SessionValid(ctx, e.ID+100, 0, "session-d"); ok || err != nil {
		t.Errorf("a session of a missing account: %v, %v; want invalid", ok, err)
	}
	// Expired entries are purged by the next sign-out.
	if err := st.EndSession(ctx, "session-old", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.EndSession(ctx, "session-e", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM ended_sessions WHERE session_id = 'session-old'").Scan(&n); err != nil || n != 0 {
		t.Errorf("an ended session past its expiry is still kept (%d, %v)", n, err)
	}
}

// TestLoginAttemptsStopAtTheLimit: attempts are counted before checking,
// up to the limit; past it they are refused and not counted, so the window
// runs from the last checked failure. Simultaneous attempts never pass the
// limit together.
func TestLoginAttemptsStopAtTheLimit(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	ctx := t.Context()
	const window = 15 * time.Minute
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	const key = "employee:7|ip:192.0.2.1"
	for i := range 3 {
		a, err := st.CountLoginAttempt(ctx, key, now.Add(time.Duration(i)*time.Minute), window, 3)
		if err != nil || !a.Counted || a.Failures != i {
			t.Fatalf("attempt %d: %+v, %v; want counted after %d", i+1, a, err, i)
		}
	}
	a, err := st.CountLoginAttempt(ctx, key, now.Add(5*time.Minute), window, 3)
	if err != nil || a.Counted || a.Failures != 3 || !a.Last.Equal(now.Add(2*time.Minute)) {
		t.Errorf("past the limit: %+v, %v; want refused, 3 failures, the last at %v", a, err, now.Add(2*time.Minute))
	}
	if err := st.ForgetLoginAttempt(ctx, key); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := st.LoginFailures(ctx, key, now.Add(5*time.Minute), window); n != 2 {
		t.Errorf("after taking one back: %d failures, want 2", n)
	}

	// An account's unlock clears its own keys, from every address, and
	// nobody else's.
	for _, k := range []string{"employee:7", "employee:7|ip:198.51.100.9", "employee:70|ip:192.0.2.1", "employee:70"} {
		if _, err := st.CountLoginAttempt(ctx, k, now, window, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.ClearLoginFailures(ctx, "employee:7"); err != nil {
		t.Fatal(err)
	}
	if err := st.ClearLoginFailuresWithPrefix(ctx, "employee:7|"); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]int{"employee:7": 0, key: 0, "employee:7|ip:198.51.100.9": 0, "employee:70|ip:192.0.2.1": 1, "employee:70": 1} {
		if n, _, _ := st.LoginFailures(ctx, k, now, window); n != want {
			t.Errorf("after the unlock %s has %d failures, want %d", k, n, want)
		}
	}

	// Twenty at once against a limit of ten: ten counted.
	var wg sync.WaitGroup
	var mu sync.Mutex
	counted := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := st.CountLoginAttempt(context.Background(), "ip:203.0.113.5", now, window, 10)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if a.Counted {
				counted++
			}
		}()
	}
	wg.Wait()
	if counted != 10 {
		t.Errorf("%d of 20 simultaneous attempts counted against a limit of 10", counted)
	}
}

// TestAFormTokenMakesOneChange: a change made with a form token, repeated
// with the same token (one after the other or at once), is made once.
func TestAFormTokenMakesOneChange(t *testing.T) {
	t.Parallel()
	_, admin, st := migrated(t)
	ctx := t.Context()
	if _, err := admin.ExecContext(ctx, "INSERT INTO form_tokens (form_token, employee_id, used_at) VALUES ('two days old', 1, ?)",
		time.Now().UTC().Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	created, err := st.CreateOnce(ctx, testActor, "token-add", input("Once Only", "Seattle"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateOnce(ctx, testActor, "token-add", input("Once Only", "Seattle")); !errors.Is(err, suppliers.ErrAlreadySubmitted) {
		t.Errorf("the same add again: %v, want ErrAlreadySubmitted", err)
	}
	// A refused change does not use its token.
	if _, err := st.UpdateOnce(ctx, testActor, "token-edit", created.ID, created.Version+5, input("Stale", "Seattle")); !errors.Is(err, suppliers.ErrConflict) {
		t.Fatalf("stale edit: %v, want a conflict", err)
	}
	updated, err := st.UpdateOnce(ctx, testActor, "token-edit", created.ID, created.Version, input("Once Edited", "Seattle"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateOnce(ctx, testActor, "token-edit", created.ID, created.Version, input("Once Edited", "Seattle")); !errors.Is(err, suppliers.ErrAlreadySubmitted) {
		t.Errorf("the same edit again: %v, want ErrAlreadySubmitted", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- st.DeleteOnce(context.Background(), testActor, "token-delete", updated.ID, updated.Version)
		}()
	}
	wg.Wait()
	close(errs)
	var ok, again int
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, suppliers.ErrAlreadySubmitted):
			again++
		default:
			t.Errorf("simultaneous delete: %v", err)
		}
	}
	if ok != 1 || again != 1 {
		t.Errorf("two simultaneous posts of one delete form: %d deleted, %d already submitted; want 1 and 1", ok, again)
	}
	var tokens int
	if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM form_tokens").Scan(&tokens); err != nil || tokens != 3 {
		t.Errorf("%d form tokens kept (%v), want the three used today: older ones are purged", tokens, err)
	}
	var audits int
	if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM supplier_audit WHERE supplier_id = ?", created.ID).Scan(&audits); err != nil || audits != 3 {
		t.Errorf("%d audit rows (%v), want one add, one edit, one delete", audits, err)
	}
}

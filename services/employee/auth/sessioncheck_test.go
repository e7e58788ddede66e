package auth

import (
	"context"
	"testing"
	"time"
)

// TestSessionChecksAreCachedBriefly: a replica asks the database about a
// session at most once per SessionCheckTTL, and a session it ended itself
// is refused at once.
func TestSessionChecksAreCachedBriefly(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m := newManager(t, clock)
	loads := 0
	valid := true
	checks := NewSessionChecks(clock.Now, func(context.Context, Session) (bool, error) {
		loads++
		return valid, nil
	})
	s := m.NewSignedIn(7, "ana@coffee.example", 0)
	other := m.NewSignedIn(7, "ana@coffee.example", 0)
	if SessionID(s) == SessionID(other) || len(SessionID(s)) != 64 {
		t.Fatalf("session ids %q and %q: want two different 64-character hashes", SessionID(s), SessionID(other))
	}
	ask := func() bool {
		t.Helper()
		ok, err := checks.Valid(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for range 3 {
		if !ask() {
			t.Fatal("a valid session is refused")
		}
	}
	if loads != 1 {
		t.Errorf("%d reads for three requests within the cache window, want 1", loads)
	}
	valid = false // ended on another replica
	clock.Advance(SessionCheckTTL - time.Second)
	if !ask() {
		t.Error("refused before the cache window ended: the cache was not used")
	}
	clock.Advance(time.Second)
	if ask() || loads != 2 {
		t.Errorf("after the cache window: still valid, or %d reads, want 2", loads)
	}

	valid = true
	checks.Ended(other)
	if ok, _ := checks.Valid(context.Background(), other); ok {
		t.Error("a session this replica ended is still valid here")
	}
}

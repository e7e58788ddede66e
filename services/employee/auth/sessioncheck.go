package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// SessionCheckTTL is how long a replica trusts what it last read about a
// session: whether it was signed out, or its employee signed out
// everywhere or had their password reset. A cookie copied before its
// session ended still opens pages on another replica for at most this
// long; on the replica that signed it out, not at all.
const SessionCheckTTL = 5 * time.Second

// sessionCheckSize bounds the cache: a replica serving more sessions than
// this within SessionCheckTTL starts afresh, at the cost of one query per
// session.
const sessionCheckSize = 10_000

// SessionID names a session in the database: a hash of its CSRF token,
// which is random and unique to it, so the table of ended sessions holds
// nothing that opens anything.
func SessionID(s Session) string {
	sum := sha256.Sum256([]byte("coffee-suppliers session id\x00" + s.CSRFToken))
	return hex.EncodeToString(sum[:])
}

// SessionChecks remembers for SessionCheckTTL whether each signed-in
// session may go on, so that checking costs no query on most requests
// while replicas stay stateless: the database holds which sessions ended,
// the cache only spares reading it.
type SessionChecks struct {
	now  func() time.Time
	load func(ctx context.Context, s Session) (bool, error)

	mu      sync.Mutex
	entries map[string]sessionCheck
}

type sessionCheck struct {
	valid  bool
	readAt time.Time
}

// NewSessionChecks reads whether a session is valid with load, judging the
// age of what it read by now.
func NewSessionChecks(now func() time.Time, load func(ctx context.Context, s Session) (bool, error)) *SessionChecks {
	return &SessionChecks{now: now, load: load, entries: map[string]sessionCheck{}}
}

// Valid reports whether the signed-in session s may go on, as read from the
// database at most SessionCheckTTL ago.
func (c *SessionChecks) Valid(ctx context.Context, s Session) (bool, error) {
	id := SessionID(s)
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && now.Sub(e.readAt) < SessionCheckTTL && !now.Before(e.readAt) {
		return e.valid, nil
	}
	valid, err := c.load(ctx, s)
	if err != nil {
		return false, err
	}
	c.set(id, valid, now)
	return valid, nil
}

// Ended records that this replica has just ended s, so it is refused here
// at once.
func (c *SessionChecks) Ended(s Session) { c.set(SessionID(s), false, c.now()) }

func (c *SessionChecks) set(id string, valid bool, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= sessionCheckSize {
		clear(c.entries)
	}
	c.entries[id] = sessionCheck{valid: valid, readAt: now}
}

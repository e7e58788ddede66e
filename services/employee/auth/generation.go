package auth

import (
	"context"
	"sync"
	"time"
)

// GenerationCacheTTL is how long a replica trusts the session generation it
// last read for an employee. A cookie copied before its employee signed out
// (or was signed out everywhere, or had their password reset) still opens
// pages on another replica for at most this long; on the replica that
// signed them out, not at all.
const GenerationCacheTTL = 5 * time.Second

// generationCacheSize bounds the cache: a replica serving more employees
// than this within GenerationCacheTTL starts afresh, at the cost of one
// query per employee.
const generationCacheSize = 10_000

// GenerationCache remembers each employee's session generation for
// GenerationCacheTTL, so that checking a session costs no query on most
// requests while every replica stays stateless: the database holds the
// generation, the cache only spares reading it.
type GenerationCache struct {
	now  func() time.Time
	load func(ctx context.Context, employeeID int64) (int64, error)

	mu      sync.Mutex
	entries map[int64]generationEntry
}

type generationEntry struct {
	generation int64
	readAt     time.Time
}

// NewGenerationCache reads generations with load, judging their age by now.
func NewGenerationCache(now func() time.Time, load func(ctx context.Context, employeeID int64) (int64, error)) *GenerationCache {
	return &GenerationCache{now: now, load: load, entries: map[int64]generationEntry{}}
}

// Current returns the employee's session generation, read from the
// database at most GenerationCacheTTL ago.
func (c *GenerationCache) Current(ctx context.Context, employeeID int64) (int64, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[employeeID]
	c.mu.Unlock()
	if ok && now.Sub(e.readAt) < GenerationCacheTTL && !now.Before(e.readAt) {
		return e.generation, nil
	}
	generation, err := c.load(ctx, employeeID)
	if err != nil {
		return 0, err
	}
	c.Set(employeeID, generation)
	return generation, nil
}

// Set records a generation this replica has just written or read, so its
// own sign-outs take effect at once.
func (c *GenerationCache) Set(employeeID, generation int64) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= generationCacheSize {
		clear(c.entries)
	}
	c.entries[employeeID] = generationEntry{generation: generation, readAt: now}
}

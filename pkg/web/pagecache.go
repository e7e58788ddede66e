package web

import (
	"html/template"
	"sync"
	"time"
)

// maxCachedPages bounds the cache: each entry is one list page's content
// (about 10 KB), and searches are arbitrary text, so without a bound any
// client could grow the cache without end.
const maxCachedPages = 256

// pageCache keeps the rendered content of list pages for at most ttl from
// the moment their data was read, so a burst of readers costs one database
// round trip and one rendering per page and ttl, instead of one each. It
// holds no per-request or per-user value: only what the page's data
// renders to.
type pageCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*pageEntry
}

// cachedPage is what the cache keeps of a page: its rendered content, or
// for visitors without a session the whole page with its ETag.
type cachedPage struct {
	content template.HTML // signed-in pages: the content block
	body    []byte        // visitors' pages: the whole page, never modified
	etag    string
}

// pageEntry is one page's content; ready is closed once the first reader
// has filled it, so concurrent readers of a missing page wait for that one
// fill instead of all querying the database at once.
type pageEntry struct {
	ready   chan struct{}
	content cachedPage
	err     error
	expires time.Time
}

func newPageCache(ttl time.Duration, now func() time.Time) *pageCache {
	if now == nil {
		now = time.Now
	}
	return &pageCache{ttl: ttl, now: now, entries: map[string]*pageEntry{}}
}

// get returns key's content, filling it with fill when it is missing or
// older than ttl. A failed fill is not kept; readers that waited for it
// fill for themselves, so one client's cancelled request never becomes
// another's error.
func (pc *pageCache) get(key string, fill func() (cachedPage, error)) (cachedPage, error) {
	start := pc.now()
	pc.mu.Lock()
	e, ok := pc.entries[key]
	if ok {
		select {
		case <-e.ready:
			if start.Before(e.expires) {
				pc.mu.Unlock()
				return e.content, e.err
			}
			ok = false // expired: this reader refills it
		default:
			pc.mu.Unlock()
			<-e.ready
			if e.err == nil {
				return e.content, nil
			}
			return fill()
		}
	}
	e = &pageEntry{ready: make(chan struct{}), expires: start.Add(pc.ttl)}
	if pc.makeRoom(start) {
		pc.entries[key] = e
	}
	pc.mu.Unlock()

	e.content, e.err = fill()
	if e.err != nil {
		pc.mu.Lock()
		if pc.entries[key] == e {
			delete(pc.entries, key)
		}
		pc.mu.Unlock()
	}
	close(e.ready)
	return e.content, e.err
}

// makeRoom drops expired entries when the cache is full, and reports
// whether there is room for one more. pc.mu is held.
func (pc *pageCache) makeRoom(now time.Time) bool {
	if len(pc.entries) < maxCachedPages {
		return true
	}
	for k, e := range pc.entries {
		select {
		case <-e.ready:
			if !now.Before(e.expires) {
				delete(pc.entries, k)
			}
		default:
		}
	}
	return len(pc.entries) < maxCachedPages
}

// invalidate forgets every page. Fills already running finish for their
// own readers but are no longer stored.
func (pc *pageCache) invalidate() {
	pc.mu.Lock()
	pc.entries = map[string]*pageEntry{}
	pc.mu.Unlock()
}

package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// CachedPage answers a public page whose content depends only on its data,
// such as the catalogue's supplier list: the whole page is rendered from
// load's data once per path and key and served, with its ETag, to every
// visitor for at most the page cache's time to live (PAGE_CACHE_TTL), so a
// change made anywhere shows within that bound. The page is the same for
// everyone: it shows no account and no form token, whatever the request
// holds. With no cache it renders afresh every time.
func (a *App) CachedPage(c *gin.Context, page, title, key string, load func() (any, error)) error {
	path := c.Request.URL.Path
	p, err := a.cache.get("page\x00"+page+"\x00"+path+"\x00"+key, func() (cachedPage, error) {
		content, err := a.renderContent(page, title, path, load)
		if err != nil {
			return cachedPage{}, err
		}
		var buf bytes.Buffer
		view := View{Site: a.site, Title: title, Path: path, Content: content, Nav: a.navFor(path, false)}
		if err := a.pages[page].ExecuteTemplate(&buf, "layout", view); err != nil {
			return cachedPage{}, fmt.Errorf("render %s: %w", page, err)
		}
		return cachedPage{body: buf.Bytes(), etag: etagOf(buf.Bytes())}, nil
	})
	if err != nil {
		return err
	}
	writeTagged(c, http.StatusOK, "text/html; charset=utf-8", a.site.CacheControl, p.body, p.etag)
	return nil
}

// CachedContent answers a signed-in page whose content depends only on its
// data, such as the employee's supplier list: only the page's "content" is
// rendered from load's data once per path and key and kept for at most
// PAGE_CACHE_TTL; the layout around it (who is signed in, the form token)
// is rendered for each request. With no cache it renders afresh every time.
func (a *App) CachedContent(c *gin.Context, page, title, key string, load func() (any, error)) error {
	path := c.Request.URL.Path
	p, err := a.cache.get("content\x00"+page+"\x00"+path+"\x00"+key, func() (cachedPage, error) {
		content, err := a.renderContent(page, title, path, load)
		return cachedPage{content: content}, err
	})
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, page, View{Title: title, Content: p.content})
}

// renderContent renders page's "content" from load's data. The template
// must use only .Data, .Site, .Title and .Path: it is rendered once for
// every reader, without any request's account, token or id.
func (a *App) renderContent(page, title, path string, load func() (any, error)) (template.HTML, error) {
	t, ok := a.pages[page]
	if !ok {
		return "", fmt.Errorf("render: no page named %q", page)
	}
	data, err := load()
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "content", View{Site: a.site, Title: title, Path: path, Data: data}); err != nil {
		return "", fmt.Errorf("render %s content: %w", page, err)
	}
	// html/template escaped it, in the body context where the layout
	// places it: it is safe HTML as it stands.
	return template.HTML(buf.String()), nil
}

// InvalidateCache forgets every cached page: a service calls it after it
// changes data, so its own next page shows the change at once.
func (a *App) InvalidateCache() { a.cache.invalidate() }

// maxCachedPages bounds the cache: each entry is one list page's content
// (about 10 KB), and searches are arbitrary text, so without a bound any
// client could grow the cache without end.
const maxCachedPages = 256

// pageCache keeps the rendered content of list pages for at most ttl from
// the moment their data was read, so a burst of readers costs one database
// round trip and one rendering per page and ttl, instead of one each. It
// holds no per-request or per-user value: only what the page's data
// renders to. A nil *pageCache (PAGE_CACHE_TTL=0) keeps nothing: every
// reader fills for themselves.
type pageCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*pageEntry
}

// cachedPage is what the cache keeps of a page: the whole page with its
// ETag (CachedPage), or its content alone (CachedContent).
type cachedPage struct {
	content template.HTML // CachedContent: the content block
	body    []byte        // CachedPage: the whole page, never modified
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
	if pc == nil {
		return fill()
	}
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
	if pc == nil {
		return
	}
	pc.mu.Lock()
	pc.entries = map[string]*pageEntry{}
	pc.mu.Unlock()
}

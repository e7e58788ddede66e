package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webtest"
)

func TestPageCacheKeepsPagesForTheirTTLOnly(t *testing.T) {
	now := time.Now()
	pc := newPageCache(time.Second, func() time.Time { return now })
	fills := 0
	fill := func() (cachedPage, error) {
		fills++
		return cachedPage{etag: fmt.Sprint(fills)}, nil
	}
	for range 3 {
		if p, _ := pc.get("k", fill); p.etag != "1" {
			t.Fatalf("within the TTL got fill %s, want the first", p.etag)
		}
	}
	now = now.Add(time.Second)
	if p, _ := pc.get("k", fill); p.etag != "2" {
		t.Fatalf("at the TTL got fill %s, want a new one", p.etag)
	}
	pc.invalidate()
	if p, _ := pc.get("k", fill); p.etag != "3" {
		t.Fatalf("after invalidate got fill %s, want a new one", p.etag)
	}
}

// A failed read (the database down, a client gone) is never served to the
// next reader: it tries again.
func TestPageCacheKeepsNoErrors(t *testing.T) {
	pc := newPageCache(time.Second, nil)
	down := errors.New("database unavailable")
	if _, err := pc.get("k", func() (cachedPage, error) { return cachedPage{}, down }); !errors.Is(err, down) {
		t.Fatalf("err = %v, want the fill's", err)
	}
	p, err := pc.get("k", func() (cachedPage, error) { return cachedPage{etag: "fresh"}, nil })
	if err != nil || p.etag != "fresh" {
		t.Fatalf("after a failure got %q, %v; want a fresh fill", p.etag, err)
	}
}

// Readers arriving while a page is being read wait for that one read
// instead of each querying the database.
func TestPageCacheFillsOnceForConcurrentReaders(t *testing.T) {
	pc := newPageCache(time.Minute, nil)
	var fills atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			p, err := pc.get("k", func() (cachedPage, error) {
				fills.Add(1)
				<-release
				return cachedPage{etag: "page"}, nil
			})
			if err != nil || p.etag != "page" {
				t.Errorf("got %q, %v", p.etag, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let the readers queue up; the count holds however long this takes
	close(release)
	wg.Wait()
	if n := fills.Load(); n != 1 {
		t.Errorf("%d fills for 20 concurrent readers, want 1", n)
	}
}

// However many different searches clients send, the cache holds at most
// maxCachedPages pages.
func TestPageCacheIsBounded(t *testing.T) {
	now := time.Now()
	pc := newPageCache(time.Second, func() time.Time { return now })
	for i := range 2 * maxCachedPages {
		if _, err := pc.get(fmt.Sprint(i), func() (cachedPage, error) { return cachedPage{}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(pc.entries); n > maxCachedPages {
		t.Errorf("%d pages cached, want at most %d", n, maxCachedPages)
	}
	now = now.Add(time.Second) // all expired: room again
	if _, err := pc.get("new", func() (cachedPage, error) { return cachedPage{}, nil }); err != nil || pc.entries["new"] == nil {
		t.Errorf("expired pages were not made room for")
	}
}

// cachedRoutes adds /public and /content to ta, served from ta's page
// cache (on clock) by the two explicit calls. A request with ?who=
// carries an account and a form token, as the employee guard sets them;
// *loads counts the reads of the pages' data.
func cachedRoutes(ta *testApp, cache *pageCache, loads *int) {
	ta.app.cache = cache
	load := func() (any, error) {
		*loads++
		return fmt.Sprintf("load %d", *loads), nil
	}
	signIn := func(c *gin.Context) {
		if who := c.Query("who"); who != "" {
			SetAccount(c, Account{Email: who, SignOutURL: "/sign-out"})
			SetCSRFToken(c, "token-of-"+who)
		}
	}
	ta.engine.GET("/public", ta.app.Page(func(c *gin.Context) error {
		signIn(c)
		return ta.app.CachedPage(c, "hello", "Hello", "key", load)
	}))
	ta.engine.GET("/content", ta.app.Page(func(c *gin.Context) error {
		signIn(c)
		return ta.app.CachedContent(c, "hello", "Hello", "key", load)
	}))
}

// TestCachedPageKeepsTheWholePage: a public page (the catalogue) is kept
// whole with its ETag and served as those bytes to every reader until
// PAGE_CACHE_TTL has passed. The call alone picks that mode: an account
// set on the request changes nothing and shows on no cached page.
func TestCachedPageKeepsTheWholePage(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	clock := webtest.NewClock(time.Now())
	loads := 0
	cachedRoutes(ta, newPageCache(time.Second, clock.Now), &loads)

	first := ta.do(t, http.MethodGet, "/public", nil)
	if first.status != http.StatusOK || !strings.Contains(first.body, "load 1") || first.header.Get("ETag") == "" {
		t.Fatalf("GET /public = %d ETag %q:\n%s", first.status, first.header.Get("ETag"), first.body)
	}
	signedIn := ta.do(t, http.MethodGet, "/public?who=ana@example.com", nil)
	if signedIn.body != first.body || signedIn.header.Get("ETag") != first.header.Get("ETag") {
		t.Errorf("with an account set the public page differs from the cached one:\n%s", signedIn.body)
	}
	if again := ta.do(t, http.MethodGet, "/public", nil, "If-None-Match", first.header.Get("ETag")); again.status != http.StatusNotModified {
		t.Errorf("revalidating the cached page = %d, want 304", again.status)
	}
	if loads != 1 {
		t.Errorf("%d reads within the TTL, want 1", loads)
	}
	clock.Advance(time.Second)
	if later := ta.do(t, http.MethodGet, "/public", nil); !strings.Contains(later.body, "load 2") {
		t.Errorf("after the TTL the page was not read again:\n%s", later.body)
	}
}

// TestCachedContentRendersTheLayoutPerRequest: a signed-in page (the
// employee's list) keeps only its content; each reader gets the layout
// with their own account and form token around it. The call alone picks
// that mode, with no key a guard must set: without an account the reader
// gets a visitor's layout around the same cached content.
func TestCachedContentRendersTheLayoutPerRequest(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	clock := webtest.NewClock(time.Now())
	loads := 0
	cachedRoutes(ta, newPageCache(time.Second, clock.Now), &loads)

	for _, who := range []string{"ana@example.com", "ben@example.com", ""} {
		r := ta.do(t, http.MethodGet, "/content?who="+who, nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "load 1") {
			t.Fatalf("GET /content as %q = %d:\n%s", who, r.status, r.body)
		}
		for _, other := range []string{"ana@example.com", "ben@example.com"} {
			if shown := strings.Contains(r.body, other) || strings.Contains(r.body, "token-of-"+other); shown != (other == who) {
				t.Errorf("GET /content as %q: shows %s's account or token: %v", who, other, shown)
			}
		}
		if signOut := strings.Contains(r.body, `action="/sign-out"`); signOut != (who != "") {
			t.Errorf("GET /content as %q: sign-out form shown: %v", who, signOut)
		}
	}
	if loads != 1 {
		t.Errorf("%d reads within the TTL, want 1", loads)
	}
	clock.Advance(time.Second)
	if later := ta.do(t, http.MethodGet, "/content?who=ana@example.com", nil); !strings.Contains(later.body, "load 2") {
		t.Errorf("after the TTL the content was not read again:\n%s", later.body)
	}
}

// Without a page cache (PAGE_CACHE_TTL=0) both calls read and render
// afresh every time.
func TestCachedCallsWithoutACacheReadEveryTime(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	loads := 0
	cachedRoutes(ta, nil, &loads)
	for i, path := range []string{"/public", "/public", "/content?who=ana@example.com", "/content"} {
		r := ta.do(t, http.MethodGet, path, nil)
		if want := fmt.Sprintf("load %d", i+1); r.status != http.StatusOK || !strings.Contains(r.body, want) {
			t.Errorf("GET %s = %d, want %q:\n%s", path, r.status, want, r.body)
		}
	}
}

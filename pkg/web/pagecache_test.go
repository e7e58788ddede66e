package web

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

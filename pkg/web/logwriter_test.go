package web

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webtest"
)

// Lines logged by many requests at once reach stdout whole, none lost, by
// the time the writer is closed (as a service's run does when it stops).
func TestLogWriterKeepsEveryLineWhole(t *testing.T) {
	var out webtest.LogBuffer
	lw := NewLogWriter(&out)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(lw, "{\"goroutine\":%d,\"line\":%d,\"pad\":%q}\n", g, i, strings.Repeat("x", 100))
			}
		})
	}
	wg.Wait()
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines on stdout, want %d", len(lines), 8*500)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var g, i int
		if _, err := fmt.Sscanf(l, "{\"goroutine\":%d,\"line\":%d,", &g, &i); err != nil || !strings.HasSuffix(l, "\"}") {
			t.Fatalf("a line was cut or mixed with another: %q", l)
		}
		seen[l[:strings.Index(l, ",\"pad")]] = true
	}
	if len(seen) != 8*500 {
		t.Errorf("%d distinct lines, want %d", len(seen), 8*500)
	}
}

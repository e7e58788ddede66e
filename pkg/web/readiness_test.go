package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// TestReadinessLogsTheReasonOnce: a service waiting for its database is
// probed every few seconds by ECS, the load balancer and HAProxy, maybe for
// an hour. The reason is logged once, not once per probe.
func TestReadinessLogsTheReasonOnce(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, errors.New("Error 1146 (42S02): Table 'COFFEE.suppliers' doesn't exist"))
	for range 5 {
		if r := ta.do(t, http.MethodGet, "/readyz", nil); r.status != http.StatusServiceUnavailable {
			t.Fatalf("/readyz = %d, want 503", r.status)
		}
	}
	var reasons []string
	for _, line := range ta.log.lines(t) {
		if strings.Contains(fmt.Sprint(line), "COFFEE.suppliers") {
			reasons = append(reasons, fmt.Sprint(line))
		}
		if line["msg"] == "request" && line["level"] != "DEBUG" {
			t.Errorf("a probe logged a request line at %v, want DEBUG: %v", line["level"], line)
		}
	}
	if len(reasons) != 1 {
		t.Errorf("5 failing probes logged the reason %d times, want once:\n%s", len(reasons), strings.Join(reasons, "\n"))
	}
}

// TestReadinessFollowsTheDatabase: the database's state changes under a
// running service (a new environment's migration, an outage); each change
// is logged once, becoming ready included, and /readyz follows it without
// a restart.
func TestReadinessFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	noAccount := &suppliers.NotReadyError{Reason: "the database refused the account", Err: errors.New("Error 1045: Access denied")}
	noTable := &suppliers.NotReadyError{Reason: "the suppliers table does not exist yet", Err: errors.New("Error 1146: no table")}
	ta := newTestApp(t, noAccount)
	probe := func(want int) {
		t.Helper()
		r := ta.do(t, http.MethodGet, "/readyz", nil)
		if r.status != want {
			t.Fatalf("/readyz = %d, want %d", r.status, want)
		}
		if strings.Contains(r.body, "Error") || strings.Contains(r.body, "refused") {
			t.Errorf("/readyz shows internals: %s", r.body)
		}
	}
	probe(503)
	probe(503)
	ta.database.set(noTable)
	probe(503)
	probe(503)
	ta.database.set(nil)
	probe(200)
	probe(200)
	// An outage: a driver error whose text changes from probe to probe is
	// still one reason.
	for port := range 3 {
		ta.database.set(fmt.Errorf("read tcp 127.0.0.1:%d: %w", 40000+port, suppliers.ErrUnavailable))
		probe(503)
	}
	ta.database.set(nil)
	probe(200)

	var changes []string
	for _, line := range ta.log.lines(t) {
		switch {
		case line["msg"] == "request":
		case line["reason"] != nil:
			changes = append(changes, fmt.Sprint(line["reason"]))
		default:
			changes = append(changes, fmt.Sprint(line["msg"]))
		}
	}
	want := []string{noAccount.Reason, noTable.Reason, "ready: the database answers and the schema is usable",
		"the database does not answer", "ready: the database answers and the schema is usable"}
	if !slices.Equal(changes, want) {
		t.Errorf("logged\n  %s\nwant\n  %s", strings.Join(changes, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestWorkWhenReadyRunsOnceTheDatabaseIs: start-up work that needs the
// database waits for it, holds readiness back until it succeeds, and runs
// to success once however many probes arrive together.
func TestWorkWhenReadyRunsOnceTheDatabaseIs(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, &suppliers.NotReadyError{Reason: "not migrated", Err: errors.New("Error 1146")})
	var mu sync.Mutex
	calls, successes := 0, 0
	failFirst := errors.New("first administrator: employees table locked")
	ta.readiness.whenReady(func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return failFirst
		}
		successes++
		return nil
	})
	if r := ta.do(t, http.MethodGet, "/readyz", nil); r.status != 503 {
		t.Fatalf("/readyz before the database = %d, want 503", r.status)
	}
	if calls != 0 {
		t.Fatalf("the work ran %d times before the database was ready, want 0", calls)
	}
	ta.database.set(nil)
	if r := ta.do(t, http.MethodGet, "/readyz", nil); r.status != 503 {
		t.Errorf("/readyz while the work fails = %d, want 503", r.status)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if r := ta.do(t, http.MethodGet, "/readyz", nil); r.status != 200 {
				t.Errorf("/readyz after the work = %d, want 200", r.status)
			}
		})
	}
	wg.Wait()
	if calls != 2 || successes != 1 {
		t.Errorf("the work ran %d times and succeeded %d, want 2 and 1", calls, successes)
	}
	if !strings.Contains(ta.log.String(), failFirst.Error()) {
		t.Errorf("the work's failure is not logged:\n%s", ta.log.String())
	}
}

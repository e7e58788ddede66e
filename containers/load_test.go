package containers

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webclient"
)

// Every load run is bounded twice: it stops when told, or at these limits,
// whichever comes first.
const (
	loadMaxRequests = 60_000
	loadMaxDuration = 3 * time.Minute
	// loadWorkers each send one request at a time, pausing loadPause
	// between them: steady traffic that leaves the machine's cores to the
	// containers rather than a flood that measures the load generator.
	loadWorkers = 6
	loadPause   = 10 * time.Millisecond
)

// loadTarget is one page the load asks for, and what a good answer holds.
type loadTarget struct {
	url    string
	client *http.Client // with the cookies the page needs
	want   string       // a text the body must contain
}

// loadResult counts what the load saw.
type loadResult struct {
	requests, failed int
	slowest          time.Duration
	failures         []string // the first few, for the log
}

// load is traffic running in the background against the stack's published
// ports (127.0.0.1 only).
type load struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
	mu     sync.Mutex
	res    loadResult
}

// startLoad sends GET requests to the targets in turn from loadWorkers
// workers until stop is called (or the bounds are reached). Each worker
// keeps its connections alive, as browsers and the load balancer do, so a
// replica going away is met on open connections too. A request fails when
// it errs, answers anything but 200, or lacks its text.
func startLoad(t *testing.T, targets []loadTarget) *load {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), loadMaxDuration)
	l := &load{cancel: cancel}
	t.Cleanup(l.halt)
	var sent sync.Mutex
	total := 0
	for w := range loadWorkers {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			for i := w; ; i++ {
				sent.Lock()
				total++
				over := total > loadMaxRequests
				sent.Unlock()
				if over || ctx.Err() != nil {
					return
				}
				target := targets[i%len(targets)]
				start := time.Now()
				err := l.fetch(ctx, target)
				if ctx.Err() != nil {
					return // stopped mid-request: not the stack's failure
				}
				l.record(target.url, time.Since(start), err)
				time.Sleep(loadPause)
			}
		}()
	}
	return l
}

func (l *load) fetch(ctx context.Context, target loadTarget) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.url, nil)
	if err != nil {
		return err
	}
	resp, err := target.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return fmt.Errorf("reading the body: %w", err)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %d", resp.StatusCode)
	case !strings.Contains(string(body), target.want):
		return fmt.Errorf("200 without %q", target.want)
	}
	return nil
}

func (l *load) record(url string, took time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.res.requests++
	l.res.slowest = max(l.res.slowest, took)
	if err != nil {
		l.res.failed++
		if len(l.res.failures) < 10 {
			l.res.failures = append(l.res.failures, fmt.Sprintf("%s GET %s: %v", time.Now().Format("15:04:05.000"), url, err))
		}
	}
}

// sent is how many requests have been answered so far.
func (l *load) sent() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.res.requests
}

func (l *load) halt() {
	l.cancel()
	l.done.Wait()
}

// stop ends the load and returns what it saw.
func (l *load) stop() loadResult {
	l.halt()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.res
}

// check fails the test for every failed request of the run, and logs the
// counts either way.
func (r loadResult) check(t *testing.T, what string) {
	t.Helper()
	t.Logf("%s: %d requests, %d failed, slowest %v", what, r.requests, r.failed, r.slowest.Round(time.Millisecond))
	if r.failed > 0 {
		t.Errorf("%s: %d of %d requests failed, want none; the first:\n%s", what, r.failed, r.requests, strings.Join(r.failures, "\n"))
	}
	if r.requests == 0 {
		t.Errorf("%s: no request was answered: the load never ran", what)
	}
}

// steadyTargets are the pages the load asks for: the catalogue (its page,
// its API and a search) and the administration (a signed-in list and the
// sign-in page), through the production listener.
func (st *stack) steadyTargets(t *testing.T) []loadTarget {
	t.Helper()
	visitor := keepAliveClient(nil)
	admin := keepAliveClient(st.admin.HTTP.Jar)
	p := st.production
	return []loadTarget{
		{p + "/suppliers", visitor, "suppliers"},
		{p + "/api/suppliers?per_page=5", visitor, `"items"`},
		{p + "/suppliers?q=a", visitor, "suppliers"},
		{p + "/admin/suppliers", admin, "Sign out"},
		{p + "/admin/login", visitor, webclient.CSRFField},
	}
}

// keepAliveClient is a client that keeps connections open between
// requests, with jar's cookies when jar is not nil.
func keepAliveClient(jar http.CookieJar) *http.Client {
	return &http.Client{
		Jar:       jar,
		Timeout:   15 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: loadWorkers},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// waitForLoad waits until the load has had n answers, so what follows
// happens under traffic already flowing.
func waitForLoad(t *testing.T, l *load, n int) {
	t.Helper()
	eventually(t, time.Minute, 50*time.Millisecond, fmt.Sprintf("%d answers to the load", n), func() error {
		if got := l.sent(); got < n {
			return fmt.Errorf("the load had %d answers", got)
		}
		return nil
	})
}

// haproxyServers is how many servers of each backend HAProxy has UP, read
// from its stats page inside its container (the stats port is not
// published).
func (st *stack) haproxyServers(t *testing.T) map[string]int {
	t.Helper()
	out := st.run(t, time.Minute, "exec", "-T", "haproxy", "bash", "-c",
		`exec 3<>/dev/tcp/127.0.0.1/8404 && printf 'GET /lb-stats;csv HTTP/1.0\r\n\r\n' >&3 && cat <&3`)
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(out)), nil)
	if err != nil {
		t.Fatalf("HAProxy's stats: %v\n%s", err, out)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body) // chunked, as HAProxy sends it
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("HAProxy's stats: %d, %v\n%s", resp.StatusCode, err, out)
	}
	body := string(b)
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "# ")))
	r.FieldsPerRecord = -1 // the server rows carry more fields than the header names
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("HAProxy's stats CSV: %v\n%s", err, body)
	}
	pxname, svname, status := slices.Index(rows[0], "pxname"), slices.Index(rows[0], "svname"), slices.Index(rows[0], "status")
	if pxname < 0 || svname < 0 || status < 0 {
		t.Fatalf("HAProxy's stats CSV lacks pxname, svname or status: %v", rows[0])
	}
	up := map[string]int{}
	for _, r := range rows[1:] {
		if len(r) > status && r[svname] != "BACKEND" && r[svname] != "FRONTEND" && strings.HasPrefix(r[status], "UP") {
			up[r[pxname]]++
		}
	}
	return up
}

// waitForServers waits until HAProxy has want servers UP in each of the
// customer and employee backends.
func (st *stack) waitForServers(t *testing.T, want int, why string) {
	t.Helper()
	eventually(t, 90*time.Second, 250*time.Millisecond, why, func() error {
		if up := st.haproxyServers(t); up["customer"] != want || up["employee"] != want {
			return fmt.Errorf("HAProxy has %d customer and %d employee servers up, want %d of each", up["customer"], up["employee"], want)
		}
		return nil
	})
}

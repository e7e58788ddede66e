package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sample is one request of the steady load.
type sample struct {
	At          time.Time
	Phase       string
	TargetGroup string // the backend that answered (X-Target-Group), "" when none did
	Release     string // the release serving that target group then
	Latency     time.Duration
	Failed      bool
	Canary      bool // answered by a release in its canary
}

// phaseCount is a phase's share of the load.
type phaseCount struct {
	Requests, Failed, CanaryRequests, CanaryFailed int
	Releases                                       map[string]int
}

// load sends steady GET requests through the production listener, at most
// limit of them and never after deadline, and records which target group
// and release answered each.
type load struct {
	base     string
	workers  int
	interval time.Duration
	limit    int
	deadline time.Time
	// whoServes says which release serves a target group, and whether it
	// is in its canary.
	whoServes func(tg string) (release string, canary bool)

	mu      sync.Mutex
	phase   string
	order   []string
	samples []sample
	wg      sync.WaitGroup
	cancel  context.CancelFunc
}

// paths: the catalogue, its list page and the employees' sign-in page.
var loadPaths = []string{"/", "/suppliers", "/admin/login"}

func (l *load) start(phase string) {
	l.setPhase(phase)
	ctx, cancel := context.WithDeadline(context.Background(), l.deadline)
	l.cancel = cancel
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for w := range l.workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tick := time.NewTicker(l.interval)
			defer tick.Stop()
			for i := w; ; i++ {
				if !l.take(ctx, client, loadPaths[i%len(loadPaths)]) {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
	}
}

// take sends one request unless the load's bounds are reached.
func (l *load) take(ctx context.Context, client *http.Client, path string) bool {
	l.mu.Lock()
	if len(l.samples) >= l.limit || ctx.Err() != nil {
		l.mu.Unlock()
		return false
	}
	// Reserve the slot, so workers together never exceed the limit.
	l.samples = append(l.samples, sample{})
	i := len(l.samples) - 1
	l.mu.Unlock()

	s := sample{At: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.base+path, nil)
	if err == nil {
		var resp *http.Response
		resp, err = client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			s.TargetGroup = resp.Header.Get("X-Target-Group")
			s.Failed = resp.StatusCode != http.StatusOK
		}
	}
	if err != nil && ctx.Err() != nil {
		// The rehearsal's own end cut it short: no failure, and its
		// reserved slot stays empty (count skips it).
		return false
	}
	s.Failed = s.Failed || err != nil
	s.Latency = time.Since(s.At)
	if s.TargetGroup != "" {
		s.Release, s.Canary = l.whoServes(s.TargetGroup)
	}
	l.mu.Lock()
	s.Phase = l.phase
	l.samples[i] = s
	l.mu.Unlock()
	return true
}

// setPhase attributes the following requests to phase.
func (l *load) setPhase(phase string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phase = phase
	if !slices.Contains(l.order, phase) {
		l.order = append(l.order, phase)
	}
}

// stop ends the load and waits for the requests in flight.
func (l *load) stop() {
	if l.cancel != nil {
		l.cancel()
	}
	l.wg.Wait()
}

// count sums the samples of one phase.
func (l *load) count(phase string) phaseCount {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := phaseCount{Releases: map[string]int{}}
	for _, s := range l.samples {
		if s.Phase != phase || s.At.IsZero() {
			continue
		}
		c.Requests++
		if s.Release != "" {
			c.Releases[s.Release]++
		}
		if s.Canary {
			c.CanaryRequests++
		}
		switch {
		case s.Failed && s.Canary:
			c.CanaryFailed++
		case s.Failed:
			c.Failed++
		}
	}
	return c
}

// latencies are the latencies of the answers of a target group since t.
func (l *load) latencies(tg string, since time.Time) []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var d []time.Duration
	for _, s := range l.samples {
		if s.TargetGroup == tg && !s.At.Before(since) {
			d = append(d, s.Latency)
		}
	}
	return d
}

// percentile is the p-th percentile (0–100) of d, nearest rank.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// releasesText lists a phase's answering releases, most requests first.
func (c phaseCount) releasesText() string {
	names := make([]string, 0, len(c.Releases))
	for r := range c.Releases {
		names = append(names, r)
	}
	sort.Slice(names, func(i, j int) bool { return c.Releases[names[i]] > c.Releases[names[j]] })
	var parts []string
	for _, r := range names {
		parts = append(parts, r+" "+strconv.Itoa(c.Releases[r]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

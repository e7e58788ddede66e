package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Targets of issue 7, all judged in one run against its own ceiling.
const (
	listRatioTarget     = 0.60 // catalogue list, 50 suppliers, 32 connections
	listP99TargetMS     = 10.0
	largeRatioTarget    = 0.40 // 10,000 suppliers: first page and search
	employeeRatioTarget = 0.40
	rssTargetMB         = 40.0
	readyTargetMS       = 200.0
	freshTargetMS       = 1000.0
	targetConns         = 32
)

// Run is one measured load run.
type Run struct {
	Target    string  `json:"target"`
	Service   string  `json:"service"`
	Path      string  `json:"path"`
	Suppliers int     `json:"suppliers"`
	Conns     int     `json:"connections"`
	Requests  int64   `json:"requests"`
	RPS       float64 `json:"requests_per_second"`
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
	P999MS    float64 `json:"p99_9_ms"`
	Errors    int64   `json:"errors"`
	// The ceiling's run at the same connection count, just before.
	CeilingRPS    float64 `json:"ceiling_requests_per_second"`
	CeilingP99MS  float64 `json:"ceiling_p99_ms"`
	CeilingErrors int64   `json:"ceiling_errors"`
	// Ratio is RPS over CeilingRPS.
	Ratio float64 `json:"ratio_to_ceiling"`
	// CPUPer1000 is the service's CPU seconds per 1,000 requests.
	CPUPer1000 float64 `json:"cpu_seconds_per_1000_requests"`
}

// Start is one service start at one data size.
type Start struct {
	Service   string  `json:"service"`
	Suppliers int     `json:"suppliers"`
	ReadyMS   float64 `json:"start_to_ready_ms"`
	// StartPeakMB is the peak RSS from start through the harness's sign-in
	// (the employee's password check is the memory-hard argon2id).
	StartPeakMB float64 `json:"start_peak_rss_mb"`
	// LoadPeakMB is the peak RSS during the load runs.
	LoadPeakMB float64 `json:"load_peak_rss_mb"`
}

// Target is one of the targets, judged.
type Target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
}

// Machine describes where the run happened.
type Machine struct {
	Cores    int    `json:"cores"`
	MemoryMB int64  `json:"memory_mb"`
	CPU      string `json:"cpu"`
	Kernel   string `json:"kernel"`
	Go       string `json:"go"`
	Wrk      string `json:"wrk"`
	Database string `json:"database"`
}

// report is everything a run found; it is written as Markdown and JSON.
type report struct {
	Date        string         `json:"date"`
	Short       bool           `json:"short"`
	DurationS   float64        `json:"seconds_per_run"`
	Machine     Machine        `json:"machine"`
	LoadBefore  string         `json:"load_average_before"`
	LoadAfter   string         `json:"load_average_after"`
	PageBytes   int            `json:"catalogue_page_bytes"`
	Runs        []Run          `json:"runs"`
	Starts      []Start        `json:"starts"`
	FreshnessMS map[int]string `json:"freshness_ms_by_suppliers"`
	Targets     []Target       `json:"targets"`
	freshness   map[int]time.Duration
}

func newReport(o options, dbVersion, loadBefore string) *report {
	return &report{
		Date: time.Now().UTC().Format(time.RFC3339), Short: o.short, DurationS: o.duration.Seconds(),
		Machine: Machine{Cores: runtime.NumCPU(), MemoryMB: memTotalMB(), CPU: cpuModel(),
			Kernel: readTrim("/proc/sys/kernel/osrelease"), Go: runtime.Version(), Wrk: wrkVersion(), Database: dbVersion},
		LoadBefore:  loadBefore,
		FreshnessMS: map[int]string{},
		freshness:   map[int]time.Duration{},
	}
}

func perSecond(r wrkResult) float64 {
	if r.DurationUS <= 0 {
		return 0
	}
	return float64(r.Requests) / (r.DurationUS / 1e6)
}

func (rep *report) addRun(t target, size, conns int, r, ceiling wrkResult, cpuSeconds float64) Run {
	run := Run{Target: t.name, Service: t.service, Path: t.path, Suppliers: size, Conns: conns,
		Requests: r.Requests, RPS: perSecond(r), P50MS: r.P50US / 1000, P99MS: r.P99US / 1000,
		P999MS: r.P999US / 1000, Errors: r.errors(),
		CeilingRPS: perSecond(ceiling), CeilingP99MS: ceiling.P99US / 1000, CeilingErrors: ceiling.errors()}
	if r.Requests > 0 {
		run.CPUPer1000 = cpuSeconds / float64(r.Requests) * 1000
	}
	if run.CeilingRPS > 0 {
		run.Ratio = run.RPS / run.CeilingRPS
	}
	rep.Runs = append(rep.Runs, run)
	return run
}

func (rep *report) addStart(service string, size int, ready time.Duration, startPeak int64) {
	rep.Starts = append(rep.Starts, Start{Service: service, Suppliers: size,
		ReadyMS: float64(ready.Microseconds()) / 1000, StartPeakMB: mb(startPeak)})
}

func (rep *report) addPeak(service string, size int, peak int64) {
	for i := range rep.Starts {
		if rep.Starts[i].Service == service && rep.Starts[i].Suppliers == size {
			rep.Starts[i].LoadPeakMB = mb(peak)
		}
	}
}

func (rep *report) addFreshness(size int, d time.Duration) {
	rep.freshness[size] = d
	rep.FreshnessMS[size] = fmt.Sprintf("%.0f", float64(d.Microseconds())/1000)
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// finish judges the targets.
func (rep *report) finish() {
	find := func(name string, size int) (Run, bool) {
		for _, r := range rep.Runs {
			if r.Target == name && r.Suppliers == size && r.Conns == targetConns {
				return r, true
			}
		}
		return Run{}, false
	}
	ratio := func(label, name string, size int, want float64) {
		r, ok := find(name, size)
		got := "not measured"
		if ok {
			got = fmt.Sprintf("%.0f %% (%.0f req/s)", r.Ratio*100, r.RPS)
		}
		rep.Targets = append(rep.Targets, Target{Name: label, Want: fmt.Sprintf("≥ %.0f %% of ceiling", want*100),
			Got: got, Met: ok && r.Ratio >= want})
	}
	ratio("catalogue list, 50 suppliers, 32 connections", "catalogue list", 50, listRatioTarget)
	if r, ok := find("catalogue list", 50); ok {
		rep.Targets = append(rep.Targets, Target{Name: "catalogue list p99, 50 suppliers, 32 connections",
			Want: fmt.Sprintf("≤ %.0f ms", listP99TargetMS), Got: fmt.Sprintf("%.2f ms", r.P99MS), Met: r.P99MS <= listP99TargetMS})
	}
	ratio("catalogue first page, 10,000 suppliers, 32 connections", "catalogue list", 10_000, largeRatioTarget)
	ratio("catalogue search, 10,000 suppliers, 32 connections", "catalogue search", 10_000, largeRatioTarget)
	for _, size := range []int{50, 10_000} {
		ratio(fmt.Sprintf("employee list (signed in), %s suppliers, 32 connections", thousands(size)),
			"employee list", size, employeeRatioTarget)
	}
	for _, svc := range []string{"customer", "employee"} {
		peak, ready := 0.0, 0.0
		for _, s := range rep.Starts {
			if s.Service == svc {
				peak, ready = max(peak, s.LoadPeakMB), max(ready, s.ReadyMS)
			}
		}
		rep.Targets = append(rep.Targets,
			Target{Name: svc + " peak RSS under load", Want: fmt.Sprintf("≤ %.0f MB", rssTargetMB),
				Got: fmt.Sprintf("%.1f MB", peak), Met: peak > 0 && peak <= rssTargetMB},
			Target{Name: svc + " process start to /readyz 200 (slowest start)", Want: fmt.Sprintf("≤ %.0f ms", readyTargetMS),
				Got: fmt.Sprintf("%.1f ms", ready), Met: ready > 0 && ready <= readyTargetMS})
	}
	slowest := time.Duration(0)
	for _, d := range rep.freshness {
		slowest = max(slowest, d)
	}
	rep.Targets = append(rep.Targets, Target{Name: "an employee's change on the catalogue's first page (slowest)",
		Want: fmt.Sprintf("≤ %.0f ms", freshTargetMS), Got: fmt.Sprintf("%.0f ms", float64(slowest.Microseconds())/1000),
		Met: len(rep.freshness) > 0 && slowest <= time.Duration(freshTargetMS)*time.Millisecond})
	var errs int64
	for _, r := range rep.Runs {
		errs += r.Errors + r.CeilingErrors
	}
	rep.Targets = append(rep.Targets, Target{Name: "errors, every run", Want: "0", Got: fmt.Sprint(errs), Met: errs == 0})
}

// failed names the targets not met.
func (rep *report) failed() []string {
	var out []string
	for _, t := range rep.Targets {
		if !t.Met {
			out = append(out, t.Name+": "+t.Got)
		}
	}
	return out
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func jsonPath(md string) string { return strings.TrimSuffix(md, filepath.Ext(md)) + ".json" }

// write saves the Markdown report at path and its JSON copy beside it.
func (rep *report) write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("report directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(rep.markdown()), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(jsonPath(path), append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func (rep *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Benchmarks\n\n")
	p("Written by `make bench` (`go run ./bench`) on %s; do not edit by hand. ", rep.Date)
	if rep.Short {
		p("**A short run** (`-short`): it only shows the harness works; its figures are not the project's.\n\n")
	} else {
		p("Every figure comes from this one run.\n\n")
	}
	p("The customer and employee services run as built binaries over %s, each started afresh per data size, "+
		"and wrk loads them over 127.0.0.1 with keep-alive connections, %.0f s per run after a short warm-up. "+
		"The **ceiling** is a bare `net/http` server, measured in the same run, answering the catalogue page's "+
		"own %s bytes and headers, run just before each service run at the same connection count: every rate is also "+
		"given as a ratio to that ceiling, because absolute numbers on a shared machine drift.\n\n",
		rep.Machine.Database, rep.DurationS, thousands(rep.PageBytes))
	m := rep.Machine
	p("| machine | |\n|---|---|\n| cores | %d |\n| memory | %s MB |\n| CPU | %s |\n| kernel | %s |\n| Go | %s |\n| load generator | %s |\n| database | %s |\n| load average (1, 5, 15 min) before, after the run | %s; %s |\n\n",
		m.Cores, thousands(int(m.MemoryMB)), m.CPU, m.Kernel, m.Go, m.Wrk, m.Database, rep.LoadBefore, rep.LoadAfter)
	p("The load generator, the services, the database and the ceiling share these cores, so compare ratios, " +
		"not absolute rates.")
	if busy(rep.LoadBefore) {
		p(" **The machine was shared:** other work was running when this run started (load average above), " +
			"which shows most in the tail latencies (p99, p99.9) of the services and the ceiling alike.")
	}
	p("\n\n")

	p("## Targets\n\n| target | want | got | |\n|---|---|---|---|\n")
	for _, t := range rep.Targets {
		mark := "met"
		if !t.Met {
			mark = "**not met**"
		}
		p("| %s | %s | %s | %s |\n", t.Name, t.Want, t.Got, mark)
	}

	p("\n## Runs\n\nEach service run follows a ceiling run at the same connection count; errors count both.\n\n" +
		"| page | suppliers | connections | req/s | ceiling req/s | ratio to ceiling | p50 ms | p99 ms | p99.9 ms | ceiling p99 ms | errors | CPU s per 1,000 requests |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.Runs {
		p("| %s `%s` | %s | %d | %.0f | %.0f | %.0f %% | %.2f | %.2f | %.2f | %.2f | %d | %.3f |\n", r.Target, r.Path,
			thousands(r.Suppliers), r.Conns, r.RPS, r.CeilingRPS, r.Ratio*100, r.P50MS, r.P99MS, r.P999MS, r.CeilingP99MS,
			r.Errors+r.CeilingErrors, r.CPUPer1000)
	}

	p("\n## Start-up, memory and freshness\n\n| service | suppliers | start to /readyz 200 ms | peak RSS start and sign-in MB | peak RSS under load MB |\n|---|---:|---:|---:|---:|\n")
	for _, s := range rep.Starts {
		p("| %s | %s | %.1f | %.1f | %.1f |\n", s.Service, thousands(s.Suppliers), s.ReadyMS, s.StartPeakMB, s.LoadPeakMB)
	}
	p("\nFreshness: after the load at each size, the harness reads the catalogue's first page (so it is cached), " +
		"renames its first supplier through the employee's edit form, and reads the page every 5 ms until the new name shows:")
	sizes := make([]int, 0, len(rep.freshness))
	for s := range rep.freshness {
		sizes = append(sizes, s)
	}
	slices.Sort(sizes)
	for i, s := range sizes {
		sep := ","
		if i == len(sizes)-1 {
			sep = "."
		}
		p(" %s ms at %s suppliers%s", rep.FreshnessMS[s], thousands(s), sep)
	}
	p("\n")
	return b.String()
}

func readTrim(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(raw))
}

func loadAverage() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func memTotalMB() int64 {
	for _, line := range strings.Split(readTrim("/proc/meminfo"), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb / 1024
		}
	}
	return 0
}

func cpuModel() string {
	for _, line := range strings.Split(readTrim("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// busy reports whether the load average ("1m 5m 15m") taken before the
// run started says other work was running: over the last minute, more
// runnable tasks on average than half the cores.
func busy(load string) bool {
	var oneMinute float64
	if _, err := fmt.Sscan(load, &oneMinute); err != nil {
		return false
	}
	return oneMinute > float64(runtime.NumCPU())/2
}

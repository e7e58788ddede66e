package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseWrkReadsTheScriptsSummary(t *testing.T) {
	out := []byte("Running 1s test @ http://127.0.0.1:1/\n  2 threads and 32 connections\n" +
		`WRKJSON {"requests":1200,"duration_us":1000000,"bytes":9,"connect":0,"read":1,"write":0,"status":2,"timeout":3,` +
		`"p50_us":1500,"p99_us":9000,"p999_us":12000,"max_us":20000}` + "\n")
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 1200 || r.P999US != 12000 || r.errors() != 6 {
		t.Errorf("parsed %+v: want 1200 requests, p99.9 12 ms, 6 errors", r)
	}
	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused\n")); err == nil {
		t.Error("wrk output without a summary parsed without error")
	}
}

func TestLoaderRefusesAnyHostButLoopback(t *testing.T) {
	l := &loader{script: "unused.lua"}
	for _, url := range []string{"http://example.com/", "http://10.0.0.1:80/", "https://127.0.0.1:443/"} {
		if _, err := l.run(t.Context(), url, 1, time.Second); err == nil || !strings.Contains(err.Error(), "only 127.0.0.1") {
			t.Errorf("run(%s) = %v, want a refusal", url, err)
		}
	}
}

// A full report judges each target from its own run: ratios against the
// ceiling measured beside it, the slowest start, the largest memory, any
// error anywhere.
func TestReportJudgesTheTargets(t *testing.T) {
	rep := &report{FreshnessMS: map[int]string{}, freshness: map[int]time.Duration{}}
	run := func(name string, size int, rps, ceiling float64, p99US float64, errs int64) {
		tg := target{name: name, service: "customer", path: "/"}
		rep.addRun(tg, size, 32, wrkResult{Requests: int64(rps), DurationUS: 1e6, P99US: p99US, Status: errs},
			wrkResult{Requests: int64(ceiling), DurationUS: 1e6}, 1)
	}
	run("catalogue list", 50, 700, 1000, 4000, 0)     // 70 %: met
	run("catalogue list", 10_000, 300, 1000, 4000, 0) // 30 %: not met
	run("catalogue search", 10_000, 500, 1000, 4000, 2)
	run("employee list", 50, 450, 1000, 4000, 0)
	rep.addStart("customer", 50, 30*time.Millisecond, 20<<20)
	rep.addPeak("customer", 50, 30<<20)
	rep.addStart("employee", 50, 250*time.Millisecond, 30<<20)
	rep.addPeak("employee", 50, 45<<20)
	rep.addFreshness(50, 600*time.Millisecond)
	rep.finish()

	verdict := map[string]bool{}
	for _, tg := range rep.Targets {
		verdict[tg.Name] = tg.Met
	}
	for name, want := range map[string]bool{
		"catalogue list, 50 suppliers, 32 connections":                 true,
		"catalogue list p99, 50 suppliers, 32 connections":             true,
		"catalogue first page, 10,000 suppliers, 32 connections":       false,
		"catalogue search, 10,000 suppliers, 32 connections":           true,
		"employee list (signed in), 50 suppliers, 32 connections":      true,
		"employee list (signed in), 10,000 suppliers, 32 connections":  false, // not measured
		"customer peak RSS under load":                                 true,
		"employee peak RSS under load":                                 false,
		"employee process start to /readyz 200 (slowest start)":        false,
		"an employee's change on the catalogue's first page (slowest)": true,
		"errors, every run": false,
	} {
		got, ok := verdict[name]
		if !ok || got != want {
			t.Errorf("%s: met = %v (judged: %v), want %v", name, got, ok, want)
		}
	}
	md := rep.markdown()
	for _, want := range []string{"| catalogue list `/` | 10,000 | 32 | 300 | 1000 | 30 % |", "**not met**", "600 ms at 50 suppliers."} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

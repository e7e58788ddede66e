package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// options are the harness's flags.
type options struct {
	short    bool
	duration time.Duration
	sizes    []int
	conns    []int
	out      string // the Markdown report; the JSON copy sits beside it
	profile  string // where to save CPU profiles of the 32-connection runs, if set
}

func parseOptions(args []string) (options, error) {
	flags := flag.NewFlagSet("bench", flag.ContinueOnError)
	short := flags.Bool("short", false, "a quick run to check the harness works: 50 suppliers, 1 and 32 connections, 1 s each")
	duration := flags.Duration("duration", 5*time.Second, "length of each measured load run")
	out := flags.String("out", "docs/benchmarks.md", "where to write the report (and its .json copy)")
	profile := flags.String("profile", "", "save each service's CPU profile (pprof) during the 32-connection runs into this directory")
	if err := flags.Parse(args); err != nil {
		return options{}, err
	}
	o := options{short: *short, duration: *duration, sizes: []int{50, 1_000, 10_000}, conns: []int{1, 32, 128},
		out: *out, profile: *profile}
	if o.short {
		o.duration, o.sizes, o.conns = time.Second, []int{50}, []int{1, 32}
	}
	if o.duration < time.Second || o.duration > time.Minute || o.duration%time.Second != 0 {
		return o, fmt.Errorf("-duration must be whole seconds from 1s to 1m, got %s", o.duration)
	}
	return o, nil
}

// target is one page under load.
type target struct {
	name    string // as reported
	service string // customer or employee
	path    string
	signed  bool // sends the employee's session cookie
}

var targets = []target{
	{"catalogue list", "customer", "/suppliers", false},
	{"catalogue search", "customer", "/suppliers?q=kona", false},
	{"employee list", "employee", "/admin/suppliers", true},
}

const (
	benchEmail    = "bench@coffee-suppliers.example"
	warmUp        = time.Second
	freshnessWait = 5 * time.Second
)

func run(ctx context.Context, args []string, lookup func(string) (string, bool)) error {
	opts, err := parseOptions(args)
	if err != nil {
		return err
	}
	loadBefore := loadAverage() // before building: whatever else the machine is doing
	if _, err := os.Stat("go.work"); err != nil {
		return errors.New("run from the repository's root (where go.work is): make bench")
	}
	dir, err := os.MkdirTemp("", "coffee-bench-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	logw := os.Stderr
	load, err := newLoader(dir)
	if err != nil {
		return err
	}
	fmt.Fprintln(logw, "building the services")
	bins, err := buildBinaries(ctx, dir)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, lookup, logw)
	if err != nil {
		return err
	}
	defer db.close(logw)

	rep := newReport(opts, db.version, loadBefore)
	if err := runCommand(ctx, db.adminEnv(), "", bins["suppliersdb"], "migrate"); err != nil {
		return err
	}
	password := "Bench-" + randomHex(12)
	if err := runCommand(ctx, db.env(db.employee), password+"\n", bins["employee"], "accounts", "add", "--email", benchEmail); err != nil {
		return err
	}
	serviceLog, err := os.Create(filepath.Join(dir, "services.log"))
	if err != nil {
		return fmt.Errorf("service log: %w", err)
	}
	defer serviceLog.Close()

	h := &harness{opts: opts, load: load, bins: bins, db: db, rep: rep, logw: logw, serviceLog: serviceLog,
		password: password, dir: dir}
	defer h.stopCeiling()
	seeded := 0
	for _, size := range opts.sizes {
		if err := runCommand(ctx, db.adminEnv(), "", bins["suppliersdb"], "seed", "-n", strconv.Itoa(size-seeded)); err != nil {
			return err
		}
		seeded = size
		if err := h.measureSize(ctx, size); err != nil {
			return err
		}
	}
	h.stopCeiling()
	rep.LoadAfter = loadAverage()
	rep.finish()
	if err := rep.write(opts.out); err != nil {
		return err
	}
	fmt.Fprintf(logw, "wrote %s and %s\n", opts.out, jsonPath(opts.out))
	fmt.Print(rep.markdown())
	if failed := rep.failed(); len(failed) > 0 && !opts.short {
		// The report is written either way; the exit status tells a
		// person running it that a target is missed. The short run only
		// checks that the harness works, never the figures.
		return fmt.Errorf("targets not met: %s", strings.Join(failed, "; "))
	}
	return nil
}

// harness holds one run's moving parts.
type harness struct {
	opts       options
	load       *loader
	bins       map[string]string
	db         *database
	rep        *report
	logw       io.Writer
	serviceLog io.Writer
	password   string
	dir        string
	ceiling    *exec.Cmd
	ceilingURL string
}

// measureSize starts both services over the database as seeded to size,
// signs in, loads every target at every concurrency, checks freshness and
// stops the services.
func (h *harness) measureSize(ctx context.Context, size int) error {
	fmt.Fprintf(h.logw, "== %d suppliers\n", size)
	common := []string{"LOG_LEVEL=info"}
	customer, err := startService("customer", h.bins["customer"], append(h.db.env(h.db.customer), common...), h.serviceLog)
	if err != nil {
		return err
	}
	defer customer.stop()
	employee, err := startService("employee", h.bins["employee"], append(h.db.env(h.db.employee), append(common,
		"SESSION_KEY="+randomHex(32))...), h.serviceLog)
	if err != nil {
		return err
	}
	defer employee.stop()
	services := map[string]*service{"customer": customer, "employee": employee}

	b := newBrowser()
	cookie, err := b.signIn(ctx, employee.base, benchEmail, h.password)
	if err != nil {
		return err
	}
	for _, s := range services {
		startPeak, err := s.peakRSS()
		if err != nil {
			return err
		}
		h.rep.addStart(s.name, size, s.ready, startPeak)
		if err := s.resetPeakRSS(); err != nil {
			return err
		}
	}
	if h.ceiling == nil {
		if err := h.startCeiling(ctx, b, customer.base+"/suppliers"); err != nil {
			return err
		}
		if _, err := h.load.run(ctx, h.ceilingURL, targetConns, warmUp); err != nil {
			return err
		}
	}
	for _, t := range targets {
		s := services[t.service]
		var header []string
		if t.signed {
			header = []string{"Cookie", cookie}
		}
		url := s.base + t.path
		if _, err := h.load.run(ctx, url, 32, warmUp, header...); err != nil {
			return err
		}
		for _, conns := range h.opts.conns {
			// The ceiling right before each run, so the ratio compares two
			// runs seconds apart: a shared machine's load drifts by more
			// than that over a whole run.
			ceiling, err := h.load.run(ctx, h.ceilingURL, conns, h.opts.duration)
			if err != nil {
				return err
			}
			cpu0, err := s.cpuSeconds()
			if err != nil {
				return err
			}
			var profiled chan error
			if h.opts.profile != "" && conns == targetConns {
				profiled = make(chan error, 1)
				go func() {
					profiled <- s.profile(ctx, h.opts.duration-time.Second/2, filepath.Join(h.opts.profile,
						fmt.Sprintf("%s-%d-%s.pprof", strings.ReplaceAll(t.name, " ", "-"), size, s.name)))
				}()
			}
			r, err := h.load.run(ctx, url, conns, h.opts.duration, header...)
			if err != nil {
				return err
			}
			if profiled != nil {
				if err := <-profiled; err != nil {
					return err
				}
			}
			cpu1, err := s.cpuSeconds()
			if err != nil {
				return err
			}
			run := h.rep.addRun(t, size, conns, r, ceiling, cpu1-cpu0)
			fmt.Fprintf(h.logw, "%-17s %6d suppliers %4d conns: %8.0f req/s (%3.0f %% of ceiling)  p99 %6.2f ms  errors %d\n",
				t.name, size, conns, run.RPS, run.Ratio*100, run.P99MS, run.Errors)
		}
	}
	for _, s := range services {
		peak, err := s.peakRSS()
		if err != nil {
			return err
		}
		h.rep.addPeak(s.name, size, peak)
	}
	took, err := b.freshness(ctx, customer.base, employee.base, fmt.Sprintf("Aaa Fresh Roasters %d", size), freshnessWait)
	if err != nil {
		return err
	}
	h.rep.addFreshness(size, took)
	return errors.Join(customer.stop(), employee.stop())
}

// startCeiling saves the catalogue page as the customer service answers it
// and starts the bare server that answers those bytes.
func (h *harness) startCeiling(ctx context.Context, b *browser, pageURL string) error {
	resp, body, err := b.get(ctx, pageURL)
	if err != nil {
		return err
	}
	header := resp.Header.Clone()
	header.Del("Date") // net/http writes the current one itself
	raw, err := json.Marshal(ceilingPage{Header: header, Body: body})
	if err != nil {
		return fmt.Errorf("encode page: %w", err)
	}
	file := filepath.Join(h.dir, "page.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		return fmt.Errorf("save page: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	cmd := exec.Command(self, ceilingCommand, "-page", file)
	cmd.Stderr = h.logw
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ceiling: %w", err)
	}
	h.ceiling = cmd
	line := make([]byte, 64)
	n, err := stdout.Read(line)
	if err != nil {
		h.stopCeiling()
		return fmt.Errorf("ceiling address: %w", err)
	}
	h.ceilingURL = "http://" + strings.TrimSpace(string(line[:n])) + "/suppliers"
	if _, _, err := b.get(ctx, h.ceilingURL); err != nil {
		h.stopCeiling()
		return fmt.Errorf("ceiling: %w", err)
	}
	h.rep.PageBytes = len(body)
	return nil
}

func (h *harness) stopCeiling() {
	if h.ceiling != nil && h.ceiling.ProcessState == nil {
		_ = h.ceiling.Process.Kill()
		_ = h.ceiling.Wait()
	}
}

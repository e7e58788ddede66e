package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildBinaries compiles the services and the migration step as their
// images do (static, trimmed), into dir.
func buildBinaries(ctx context.Context, dir string) (map[string]string, error) {
	bins := map[string]string{}
	for name, pkg := range map[string]string{
		"customer":    "./services/customer",
		"employee":    "./services/employee",
		"suppliersdb": "./pkg/suppliers/cmd/suppliersdb",
	} {
		out := filepath.Join(dir, name)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "nomsgpack", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
		}
		bins[name] = out
	}
	return bins, nil
}

// runCommand runs a one-shot command (migration, seeding, accounts) and
// returns its output in the error when it fails.
func runCommand(ctx context.Context, env []string, stdin string, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return nil
}

// service is one running service process.
type service struct {
	name    string
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT
	metrics string // http://127.0.0.1:METRICS_PORT
	exited  chan error
	// ready is the time from starting the process to /readyz answering 200.
	ready    time.Duration
	stopOnce sync.Once
	stopErr  error
}

// startService starts bin with env plus its ports, logging to logw, and
// waits for /readyz to answer 200, timing it from the process's start.
func startService(name, bin string, env []string, logw io.Writer) (*service, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	metricsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &service{name: name, base: "http://127.0.0.1:" + strconv.Itoa(port),
		metrics: "http://127.0.0.1:" + strconv.Itoa(metricsPort), exited: make(chan error, 1)}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(env, "PORT="+strconv.Itoa(port), "METRICS_PORT="+strconv.Itoa(metricsPort),
		"TRUSTED_PROXIES=127.0.0.0/8", "PPROF=1") // -profile reads /debug/pprof/profile
	s.cmd.Stdout, s.cmd.Stderr = logw, logw
	client := &http.Client{Timeout: time.Second}
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	deadline := start.Add(15 * time.Second)
	for {
		resp, err := client.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.ready = time.Since(start)
				return s, nil
			}
		}
		select {
		case err := <-s.exited:
			return nil, fmt.Errorf("%s exited before it was ready: %v (see its log)", name, err)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s not ready within 15 s (last: %v)", name, err)
		}
	}
}

// stop sends SIGTERM, as ECS does, and waits for a clean exit. Calling it
// again returns the first call's result.
func (s *service) stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.terminate() })
	return s.stopErr
}

func (s *service) terminate() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s: %w", s.name, err)
	}
	select {
	case err := <-s.exited:
		if err != nil {
			return fmt.Errorf("%s exited: %w", s.name, err)
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("%s did not stop within 30 s of SIGTERM; killed", s.name)
	}
}

// cpuSeconds is the process's user plus system CPU time so far.
func (s *service) cpuSeconds() (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("%s cpu time: %w", s.name, err)
	}
	// Fields after the parenthesised command name; utime and stime are
	// the 14th and 15th of the whole line, in USER_HZ (100 on Linux).
	rest := string(raw[strings.LastIndexByte(string(raw), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("%s cpu time: short /proc stat", s.name)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("%s cpu time: %w", s.name, err)
	}
	return (utime + stime) / 100, nil
}

// resetPeakRSS starts the peak-RSS count afresh (clear_refs 5 resets
// VmHWM), so the peak is that of the load that follows, not of start-up
// or the single sign-in's password hashing.
func (s *service) resetPeakRSS() error {
	err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0)
	if err != nil {
		return fmt.Errorf("%s reset peak RSS: %w", s.name, err)
	}
	return nil
}

// peakRSS is VmHWM: the most resident memory since the last reset, bytes.
func (s *service) peakRSS() (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("%s peak RSS: %w", s.name, err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s peak RSS %q: %w", s.name, v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("%s peak RSS: no VmHWM", s.name)
}

// profile saves a CPU profile of the next d from the service's pprof
// endpoint (on its private metrics port) to file.
func (s *service) profile(ctx context.Context, d time.Duration, file string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("profile directory: %w", err)
	}
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.metrics, max(int(d.Seconds()), 1))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("profile %s: %w", s.name, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile %s: %w", s.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: status %d", s.name, resp.StatusCode)
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("profile %s: %w", s.name, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("profile %s: %w", s.name, err)
	}
	return f.Close()
}

package webtest

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// RunFunc is a service's run, as its main calls it: configured through
// lookup, logging to stdout, serving until ctx ends.
type RunFunc func(ctx context.Context, lookup func(string) (string, bool), stdout io.Writer) error

// Service is a whole service started by StartService.
type Service struct {
	URL        string     // the application port, http://127.0.0.1:PORT
	MetricsURL string     // the metrics port
	Logs       *LogBuffer // what it logged; complete once Stop returns (its log writer batches)
	stop       context.CancelFunc
	done       chan error
}

// StartService runs run with env as its whole environment, on ports the
// system picks (PORT and METRICS_PORT default to 0), and returns once it
// logs where it listens. It fails t if run ends before that; the service
// is stopped when t ends, if the test did not Stop it.
func StartService(t testing.TB, run RunFunc, env map[string]string) *Service {
	t.Helper()
	full := map[string]string{"PORT": "0", "METRICS_PORT": "0"}
	for k, v := range env {
		full[k] = v
	}
	lookup := func(name string) (string, bool) { v, ok := full[name]; return v, ok }
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{Logs: &LogBuffer{}, stop: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, lookup, s.Logs) }()
	t.Cleanup(func() { s.Stop() }) //nolint:errcheck // the test checks Stop's error when it cares

	deadline := time.Now().Add(30 * time.Second)
	for s.URL == "" {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("the service ended before listening: %v\n%s", err, s.Logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service logged no listening line in 30s:\n%s", s.Logs.String())
		}
		for _, line := range strings.Split(s.Logs.String(), "\n") {
			var entry struct {
				Msg         string `json:"msg"`
				Addr        string `json:"addr"`
				MetricsAddr string `json:"metrics_addr"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "listening" {
				s.URL, s.MetricsURL = loopback(t, entry.Addr), loopback(t, entry.MetricsAddr)
			}
		}
	}
	return s
}

// loopback turns a logged listen address such as [::]:34567 into a URL on
// the loopback interface.
func loopback(t testing.TB, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("logged address %q: %v", addr, err)
	}
	return "http://127.0.0.1:" + port
}

// Status is the status of GET path on the application port.
func (s *Service) Status(t testing.TB, path string) int {
	t.Helper()
	client := http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(s.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// Exited reports whether run has returned, and its error.
func (s *Service) Exited() (bool, error) {
	select {
	case err := <-s.done:
		s.done <- err
		return true, err
	default:
		return false, nil
	}
}

// Stop ends the service as SIGTERM would and returns run's error.
func (s *Service) Stop() error {
	s.stop()
	err := <-s.done
	s.done <- err
	return err
}

// Eventually calls check until it returns true or wait has passed, and
// reports whether it did: for states a service reaches by itself, such as
// becoming ready once its database is.
func Eventually(wait time.Duration, check func() bool) bool {
	deadline := time.Now().Add(wait)
	for !check() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// ReadyAfterMigration is a service's first deploy: when migrate is not nil
// the service was started before its migration, so it must stay up
// (/healthz 200, /readyz 503, still running) until migrate has run; either
// way it must then become ready by itself, without a restart.
func (s *Service) ReadyAfterMigration(t testing.TB, migrate func()) {
	t.Helper()
	if migrate == nil {
		s.readyBy(t, "after the migration")
		return
	}
	s.StaysUpUntilFixed(t, "before the migration", migrate)
}

// StaysUpUntilFixed checks that the service stays up while its database is
// not usable (the when of the messages): /healthz 200, /readyz 503, still
// running; then, once fix has made it usable, that it becomes ready by
// itself, without a restart.
func (s *Service) StaysUpUntilFixed(t testing.TB, when string, fix func()) {
	t.Helper()
	for range 3 {
		if got := s.Status(t, "/healthz"); got != http.StatusOK {
			t.Errorf("/healthz %s = %d, want 200", when, got)
		}
		if got := s.Status(t, "/readyz"); got != http.StatusServiceUnavailable {
			t.Errorf("/readyz %s = %d, want 503", when, got)
		}
	}
	if exited, err := s.Exited(); exited {
		t.Fatalf("the service exited %s: %v\n%s", when, err, s.Logs.String())
	}
	fix()
	s.readyBy(t, "once no longer "+when)
}

// readyBy waits for /readyz to answer 200, failing the test (and naming
// when) if it never does.
func (s *Service) readyBy(t testing.TB, when string) {
	t.Helper()
	if !Eventually(30*time.Second, func() bool { return s.Status(t, "/readyz") == http.StatusOK }) {
		t.Fatalf("/readyz never answered 200 %s:\n%s", when, s.Logs.String())
	}
}

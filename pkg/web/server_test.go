package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
)

func configFrom(vars map[string]string) (Config, error) {
	env := envconfig.New(envconfig.FromMap(vars))
	cfg := ConfigFromEnv(env)
	return cfg, env.Err()
}

func httptestRequest(path, remote string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = remote
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	return req
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// discard is a ResponseWriter for requests whose answer is not checked.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// waitUntil polls cond until it holds or a generous deadline passes; it
// never asserts on how long that took.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	log := NewLogger(logs, "test", 0)
	started, release := make(chan struct{}), make(chan struct{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
		}
		io.WriteString(w, "finished "+r.URL.Path)
	})
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "metrics") })
	appLn, metricsLn := listen(t), listen(t)
	appAddr, metricsAddr := appLn.Addr().String(), metricsLn.Addr().String()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, log, 10*time.Second, appLn, app, metricsLn, metrics) }()

	for _, addr := range []string{appAddr, metricsAddr} {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("GET %s before shutdown: %v", addr, err)
		}
		resp.Body.Close()
	}

	type result struct {
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + appAddr + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- result{string(b), err}
	}()
	<-started
	cancel() // SIGTERM

	refused := func(addr string) func() bool {
		return func() bool {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				return false
			}
			return true
		}
	}
	waitUntil(t, "the application port refuses new connections", refused(appAddr))
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) while a request was still in flight", err)
	default:
	}

	close(release)
	got := <-slow
	if got.err != nil || got.body != "finished /slow" {
		t.Fatalf("in-flight request: %q, %v; want it to finish", got.body, got.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want nil after a clean shutdown", err)
	}
	if refused(metricsAddr)() != true {
		t.Error("the metrics port still accepts connections after Serve returned")
	}
	if !strings.Contains(logs.String(), "stopped cleanly") {
		t.Errorf("log lacks the clean stop:\n%s", logs.String())
	}
}

func TestServeReportsABrokenListener(t *testing.T) {
	t.Parallel()
	appLn, metricsLn := listen(t), listen(t)
	metricsLn.Close()
	defer appLn.Close()
	err := Serve(context.Background(), NewLogger(io.Discard, "test", 0), time.Second,
		appLn, http.NotFoundHandler(), metricsLn, http.NotFoundHandler())
	if err == nil || !strings.Contains(err.Error(), "metrics server") {
		t.Fatalf("Serve = %v, want an error naming the metrics server", err)
	}
}

func TestNewLoggerWritesJSONWithService(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	NewLogger(&buf, "customer", 0).Info("hello", "n", 1)
	NewLogger(&buf, "customer", 0).Debug("hidden")
	lines := buf.lines(t)
	if len(lines) != 1 || lines[0]["service"] != "customer" || lines[0]["msg"] != "hello" {
		t.Errorf("log lines = %v, want one JSON line tagged with the service", lines)
	}
}

func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		want   int
	}{
		{"healthy", http.StatusOK, 0},
		{"unhealthy", http.StatusServiceUnavailable, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/healthz" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			port := strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
			if got := HealthcheckCommand(envconfig.FromMap(map[string]string{"PORT": port})); got != tc.want {
				t.Errorf("HealthcheckCommand = %d, want %d", got, tc.want)
			}
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		t.Parallel()
		if got := HealthcheckCommand(envconfig.FromMap(map[string]string{"PORT": "1"})); got != 1 { // nothing listens on port 1
			t.Errorf("HealthcheckCommand = %d, want 1", got)
		}
	})
}

package containers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webclient"
)

// The local stack of the repository's root: its compose file and the load
// balancer configuration it mounts.
const (
	composeFile   = "../docker-compose.yml"
	haproxyConfig = "../loadbalancer/haproxy.cfg"
)

// TestHAProxyConfigValid: HAProxy itself accepts loadbalancer/haproxy.cfg
// (`haproxy -c`), locked down as compose runs it. Which routes it applies
// is checked by local/gateway's TestHAProxyAppliesTheRules.
func TestHAProxyConfigValid(t *testing.T) {
	t.Parallel()
	requireImage(t, haproxyStandIn, buildStandIns)
	cfg, err := filepath.Abs(haproxyConfig)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"run", "--rm"}, lockedDown...)
	args = append(args, "-v", cfg+":/usr/local/etc/haproxy/haproxy.cfg:ro", haproxyStandIn, "-c", "-f", "/usr/local/etc/haproxy/haproxy.cfg")
	out, err := exec.CommandContext(t.Context(), "docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("haproxy -c rejects %s: %v\n%s", haproxyConfig, err, out)
	}
	if bytes.Contains(out, []byte("[WARNING]")) {
		t.Errorf("haproxy -c warns about %s:\n%s", haproxyConfig, out)
	}
}

// randomHex is n random bytes in hex: a password any of the stack's
// settings accepts (no quotes, no backslash, printable ASCII).
func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// composeStack is a running copy of docker-compose.yml under its own project
// name, so it shares nothing with a developer's stack or another test.
type composeStack struct {
	project string
	env     []string // the process environment plus the stack's settings
	envFile string
}

// compose runs docker compose on the stack and returns its combined output.
func (s *composeStack) compose(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// --env-file replaces the repository's .env, so a developer's own
	// settings and secrets never leak into the test.
	args = append([]string{"compose", "-f", composeFile, "--env-file", s.envFile, "-p", s.project}, args...)
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// randomLBNetwork is a 10.x.y prefix for a test stack's network, away from
// docker-compose.yml's default 10.201.1 (a developer's `make up` stack) and
// unlikely to be another test run's: Docker refuses a network whose subnet
// overlaps one it has.
func randomLBNetwork(t *testing.T) string {
	t.Helper()
	b := make([]byte, 2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("10.%d.%d", 202+int(b[0])%53, b[1]) // 10.202.0 to 10.254.255
}

// newComposeStack is the stack's project and settings, not started: the
// process environment and an env file both carry them.
func newComposeStack(t *testing.T, settings map[string]string) *composeStack {
	t.Helper()
	s := &composeStack{project: "coffeesmoke" + randomHex(t, 4)}
	if _, ok := settings["LB_NETWORK"]; !ok {
		settings = maps.Clone(settings)
		settings["LB_NETWORK"] = randomLBNetwork(t)
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var file strings.Builder
	env := os.Environ()
	for _, k := range keys {
		fmt.Fprintf(&file, "%s=%s\n", k, settings[k])
		// The process environment wins over an env file in compose: set
		// the same values there (exec keeps the last of duplicates).
		env = append(env, k+"="+settings[k])
	}
	s.env = env
	s.envFile = filepath.Join(t.TempDir(), "stack.env")
	if err := os.WriteFile(s.envFile, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// startCompose brings the stack up with settings (and waits for every
// health check), and takes it down with its volume when the test ends.
func startCompose(t *testing.T, settings map[string]string) *composeStack {
	t.Helper()
	s := newComposeStack(t, settings)
	t.Cleanup(func() {
		ctx := context.Background()
		if t.Failed() {
			out, _ := s.compose(ctx, time.Minute, "ps", "-a")
			t.Logf("docker compose ps -a:\n%s", out)
			out, _ = s.compose(ctx, time.Minute, "logs", "--no-color", "--tail", "40")
			t.Logf("docker compose logs (last 40 lines of each container):\n%s", out)
		}
		if out, err := s.compose(ctx, 2*time.Minute, "down", "-v", "--remove-orphans", "--timeout", "20"); err != nil {
			t.Errorf("docker compose down -v: %v\n%s", err, out)
		}
	})
	start := time.Now()
	if _, err := s.compose(t.Context(), 6*time.Minute, "up", "-d", "--wait", "--wait-timeout", "300"); err != nil {
		t.Fatalf("the stack did not come up healthy: %v", err)
	}
	t.Logf("docker compose up -d --wait: healthy in %v", time.Since(start).Round(100*time.Millisecond))
	return s
}

// url is the base URL of a port the service publishes on 127.0.0.1.
func (s *composeStack) url(t *testing.T, service, port string) string {
	t.Helper()
	out, err := s.compose(t.Context(), time.Minute, "port", service, port)
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSpace(out)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("%s's port %s is published on %q, want 127.0.0.1 only", service, port, addr)
	}
	return "http://" + addr
}

// run is compose with the test's context, failing the test on error.
func (s *composeStack) run(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	out, err := s.compose(t.Context(), timeout, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// containers are the IDs of the service's containers, in a stable order.
func (s *composeStack) containers(t *testing.T, service string) []string {
	t.Helper()
	ids := strings.Fields(s.run(t, time.Minute, "ps", "-q", service))
	slices.Sort(ids)
	return ids
}

// browser is a cookie-keeping client that does not follow redirects, so
// each one can be checked, and opens a connection per request.
func browser(t *testing.T) *webclient.Client {
	t.Helper()
	c := webclient.New(10 * time.Second)
	c.HTTP.Transport = &http.Transport{DisableKeepAlives: true}
	return c
}

// fetch sends a GET, or a POST of form as given, and fails t if no answer
// comes.
func fetch(t *testing.T, c *webclient.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var resp *http.Response
	var body []byte
	var err error
	switch method {
	case http.MethodGet:
		resp, body, err = c.Get(t.Context(), u)
	case http.MethodPost:
		resp, body, err = c.Post(t.Context(), u, form)
	default:
		t.Fatalf("fetch: no %s", method)
	}
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// expectPage checks a GET answers 200 with a body containing want.
func expectPage(t *testing.T, c *webclient.Client, u, want string) {
	t.Helper()
	resp, body := fetch(t, c, http.MethodGet, u, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("GET %s = %d, want 200 containing %q; body starts %.300q", u, resp.StatusCode, want, body)
	}
}

// expectRedirect checks a GET answers a redirect to a path starting with
// prefix.
func expectRedirect(t *testing.T, c *webclient.Client, u, prefix string) {
	t.Helper()
	resp, _ := fetch(t, c, http.MethodGet, u, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode < 300 || resp.StatusCode > 399 || !strings.HasPrefix(loc, prefix) {
		t.Errorf("GET %s = %d to %q, want a redirect to %s…", u, resp.StatusCode, loc, prefix)
	}
}

// TestComposeStackHasItsOwnSubnet: docker-compose.yml gives HAProxy a fixed
// address on a fixed subnet, ${LB_NETWORK}.0/24 (10.201.1 unless set). A
// developer's `make up` stack holds that subnet, and Docker refuses a second
// network that overlaps it; so a test's stack takes a 10.x.y of its own.
// Checked on the configuration compose resolves, without starting anything.
func TestComposeStackHasItsOwnSubnet(t *testing.T) {
	t.Parallel()
	if noDocker != "" {
		skipOrFail(t, skipMessage+" ("+noDocker+")")
	}
	if out, err := dockerOutput(t.Context(), "compose", "version", "--short"); err != nil {
		skipOrFail(t, "SKIPPED: no Docker Compose v2 plugin (bash containers/ensure-docker.sh installs it): "+err.Error()+" "+out)
	}
	subnets := map[string]bool{}
	for range 2 {
		s := newComposeStack(t, map[string]string{
			"MYSQL_ROOT_PASSWORD": "x", "CUSTOMER_DB_PASSWORD": "x", "EMPLOYEE_DB_PASSWORD": "x", "SESSION_KEY": "x",
		})
		out, err := s.compose(t.Context(), time.Minute, "config", "--format", "json")
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Services map[string]struct {
				Networks map[string]struct {
					IPv4Address string `json:"ipv4_address"`
				}
			}
			Networks map[string]struct {
				Ipam struct{ Config []struct{ Subnet string } }
			}
		}
		if err := json.Unmarshal([]byte(out), &cfg); err != nil {
			t.Fatalf("docker compose config --format json: %v\n%.500s", err, out)
		}
		var subnet string
		if c := cfg.Networks["default"].Ipam.Config; len(c) == 1 {
			subnet = c[0].Subnet
		}
		prefix, ok := strings.CutSuffix(subnet, ".0/24")
		if !ok || !strings.HasPrefix(prefix, "10.") || strings.Count(prefix, ".") != 2 {
			t.Fatalf("the stack's network is %q, want a 10.x.y.0/24", subnet)
		}
		if prefix == "10.201.1" {
			t.Errorf("the stack's network is %s, the one a developer's make up stack takes", subnet)
		}
		if got := cfg.Services["haproxy"].Networks["default"].IPv4Address; got != prefix+".10" {
			t.Errorf("HAProxy's address is %q, want %s.10 on the stack's network", got, prefix)
		}
		subnets[subnet] = true
	}
	t.Logf("subnets: %v", slices.Sorted(maps.Keys(subnets)))
}

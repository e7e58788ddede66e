package containers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
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
	t       *testing.T
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

// startCompose brings the stack up with settings (and waits for every
// health check), and takes it down with its volume when the test ends.
func startCompose(t *testing.T, settings map[string]string) *composeStack {
	t.Helper()
	s := &composeStack{t: t, project: "coffeesmoke" + randomHex(t, 4)}
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
func (s *composeStack) url(service, port string) string {
	s.t.Helper()
	out, err := s.compose(s.t.Context(), time.Minute, "port", service, port)
	if err != nil {
		s.t.Fatal(err)
	}
	addr := strings.TrimSpace(out)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		s.t.Fatalf("%s's port %s is published on %q, want 127.0.0.1 only", service, port, addr)
	}
	return "http://" + addr
}

// browser is a cookie-keeping client that does not follow redirects, so
// each one can be checked.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func fetch(t *testing.T, c *http.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, u, err)
	}
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrfToken reads the form's CSRF token from the page at u.
func csrfToken(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, body := fetch(t, c, http.MethodGet, u, nil)
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET %s = %d without a csrf_token field; body starts %.300q", u, resp.StatusCode, body)
	}
	return m[1]
}

// expectPage checks a GET answers 200 with a body containing want.
func expectPage(t *testing.T, c *http.Client, u, want string) {
	t.Helper()
	resp, body := fetch(t, c, http.MethodGet, u, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("GET %s = %d, want 200 containing %q; body starts %.300q", u, resp.StatusCode, want, body)
	}
}

// expectRedirect checks a GET answers a redirect to a path starting with
// prefix.
func expectRedirect(t *testing.T, c *http.Client, u, prefix string) {
	t.Helper()
	resp, _ := fetch(t, c, http.MethodGet, u, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode < 300 || resp.StatusCode > 399 || !strings.HasPrefix(loc, prefix) {
		t.Errorf("GET %s = %d to %q, want a redirect to %s…", u, resp.StatusCode, loc, prefix)
	}
}

// TestComposeStack brings up docker-compose.yml as `make up` does — the
// database, the migration, two replicas of each service behind HAProxy —
// on the stand-in images, and walks the user stories through HAProxy's
// production listener, then its test listener.
func TestComposeStack(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{mariaDBStandIn, haproxyStandIn, goStandIn, runtimeStandIn} {
		requireImage(t, ref, buildStandIns)
	}
	if out, err := dockerOutput(t.Context(), "compose", "version", "--short"); err != nil {
		skipOrFail(t, "SKIPPED: no Docker Compose v2 plugin (bash containers/ensure-docker.sh installs it): "+err.Error()+" "+out)
	}

	adminEmail, adminPassword := "smoke@coffee-suppliers.example", randomHex(t, 12)
	sessionKey := make([]byte, 48)
	if _, err := rand.Read(sessionKey); err != nil {
		t.Fatal(err)
	}
	s := startCompose(t, map[string]string{
		"MYSQL_IMAGE":          mariaDBStandIn,
		"HAPROXY_IMAGE":        haproxyStandIn,
		"GO_IMAGE":             goStandIn,
		"RUNTIME_IMAGE":        runtimeStandIn,
		"IMAGE_REPO":           envOr("IMAGE_REPO", "coffee-suppliers"),
		"IMAGE_TAG":            envOr("IMAGE_TAG", "dev"),
		"MYSQL_ROOT_PASSWORD":  randomHex(t, 16),
		"CUSTOMER_DB_PASSWORD": randomHex(t, 16),
		"EMPLOYEE_DB_PASSWORD": randomHex(t, 16),
		"SESSION_KEY":          base64.StdEncoding.EncodeToString(sessionKey),
		"ADMIN_EMAIL":          adminEmail,
		"ADMIN_PASSWORD":       adminPassword,
		// Empty: docker picks free 127.0.0.1 ports, read back below.
		"LB_HTTP_PORT": "",
		"LB_TEST_PORT": "",
		"LOG_LEVEL":    "info",
	})

	// Two healthy replicas of each service, and the migration exited 0.
	out, err := s.compose(t.Context(), time.Minute, "ps", "-a", "--format", "{{.Service}} {{.State}} {{.Health}} {{.ExitCode}}")
	if err != nil {
		t.Fatal(err)
	}
	states := slices.Sorted(strings.Lines(out))
	t.Logf("containers:\n%s", strings.Join(states, ""))
	for _, want := range []string{"customer running healthy 0\n", "employee running healthy 0\n"} {
		if n := slices.Index(states, want); n < 0 || n+1 >= len(states) || states[n+1] != want {
			t.Errorf("want two containers %q", strings.TrimSpace(want))
		}
	}
	if !slices.Contains(states, "migrate exited  0\n") {
		t.Errorf("the migration did not exit 0")
	}

	production, test := s.url("haproxy", "80"), s.url("haproxy", "8080")
	c := browser(t)

	// A visitor, through the production listener.
	expectPage(t, c, production+"/", "Find a coffee supplier")
	expectPage(t, c, production+"/suppliers", "suppliers")
	expectRedirect(t, c, production+"/admin/suppliers", "/admin/login")
	expectRedirect(t, c, production+"/admin", "/admin/login")

	// The first administrator signs in and adds a supplier.
	token := csrfToken(t, c, production+"/admin/login")
	resp, body := fetch(t, c, http.MethodPost, production+"/admin/login", url.Values{
		"email": {adminEmail}, "password": {adminPassword}, "csrf_token": {token},
	})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/suppliers" {
		t.Fatalf("sign in: %d to %q, want 303 to /admin/suppliers; body starts %.300q", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	name := "Smoke Test Roasters " + randomHex(t, 3)
	token = csrfToken(t, c, production+"/admin/supplier-add")
	resp, body = fetch(t, c, http.MethodPost, production+"/admin/supplier-add", url.Values{
		"csrf_token": {token}, "name": {name}, "address": {"1 Compose Way"}, "city": {"Seattle"},
		"state": {"WA"}, "email": {"beans@example.com"}, "phone": {"+1 206 555 0100"},
	})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/suppliers") {
		t.Fatalf("add a supplier: %d to %q, want 303 to /admin/suppliers; body starts %.500q", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	// Any employee replica reads the session; the catalogue (another
	// service, another database account) shows the new supplier.
	for range 4 {
		expectPage(t, c, production+"/admin/suppliers", name)
	}
	visitor := browser(t)
	for range 4 {
		expectPage(t, visitor, production+"/suppliers", name)
	}

	// The same through the test listener: the session cookie is the
	// host's, so the employee stays signed in there too.
	expectPage(t, visitor, test+"/", "Find a coffee supplier")
	expectPage(t, visitor, test+"/suppliers", name)
	expectRedirect(t, visitor, test+"/admin/suppliers", "/admin/login")
	expectPage(t, c, test+"/admin/suppliers", name)
}

package containers

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webclient"
)

// stackSuppliers is how many demo suppliers the stack is seeded with: three
// pages, so the browser stories can page through them.
const stackSuppliers = 45

// stack is a running compose stack with its signed-in administrator.
type stack struct {
	*composeStack
	// production and test are HAProxy's listeners, as base URLs on 127.0.0.1.
	production, test          string
	adminEmail, adminPassword string
	// admin is a client signed in as the administrator.
	admin *webclient.Client
}

// TestComposeStack brings up docker-compose.yml as `make up` does — the
// database, the migration, two replicas of each service behind HAProxy —
// on the stand-in images, seeds it, and then, one after the other: walks
// the user stories over HTTP through both listeners, runs the browser
// stories through each listener, kills a replica of each service under
// load, restarts every replica under load, and takes the database away.
func TestComposeStack(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{mariaDBStandIn, haproxyStandIn, goStandIn, runtimeStandIn} {
		requireImage(t, ref, buildStandIns)
	}
	if out, err := dockerOutput(t.Context(), "compose", "version", "--short"); err != nil {
		skipOrFail(t, "SKIPPED: no Docker Compose v2 plugin (bash containers/ensure-docker.sh installs it): "+err.Error()+" "+out)
	}

	st := &stack{adminEmail: "smoke@coffee-suppliers.example", adminPassword: randomHex(t, 12)}
	sessionKey := make([]byte, 48)
	if _, err := rand.Read(sessionKey); err != nil {
		t.Fatal(err)
	}
	st.composeStack = startCompose(t, map[string]string{
		"MYSQL_IMAGE":          mariaDBStandIn,
		"HAPROXY_IMAGE":        haproxyStandIn,
		"GO_IMAGE":             goStandIn,
		"RUNTIME_IMAGE":        runtimeStandIn,
		"RDS_CA_BUNDLE":        standInCABundle(t),
		"IMAGE_REPO":           envOr("IMAGE_REPO", "coffee-suppliers"),
		"IMAGE_TAG":            envOr("IMAGE_TAG", "dev"),
		"MYSQL_ROOT_PASSWORD":  randomHex(t, 16),
		"CUSTOMER_DB_PASSWORD": randomHex(t, 16),
		"EMPLOYEE_DB_PASSWORD": randomHex(t, 16),
		"SESSION_KEY":          base64.StdEncoding.EncodeToString(sessionKey),
		"ADMIN_EMAIL":          st.adminEmail,
		"ADMIN_PASSWORD":       st.adminPassword,
		// Empty: docker picks free 127.0.0.1 ports, read back below.
		"LB_HTTP_PORT": "",
		"LB_TEST_PORT": "",
		"LOG_LEVEL":    "info",
	})

	// Two healthy replicas of each service, and the migration exited 0.
	out := st.run(t, time.Minute, "ps", "-a", "--format", "{{.Service}} {{.State}} {{.Health}} {{.ExitCode}}")
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

	// The demo data, through the migration image as an operator would.
	st.run(t, 2*time.Minute, "run", "--rm", "--no-deps", "migrate", "seed", "-n", strconv.Itoa(stackSuppliers))

	st.production, st.test = st.url(t, "haproxy", "80"), st.url(t, "haproxy", "8080")
	st.admin = st.signIn(t, st.production)

	t.Run("stories through both listeners", st.testStories)
	t.Run("browser stories through the production listener", func(t *testing.T) { st.testBrowserStories(t, st.production) })
	t.Run("browser stories through the test listener", func(t *testing.T) { st.testBrowserStories(t, st.test) })
	t.Run("a replica of each service killed under load", st.testKillReplicas)
	t.Run("every replica restarted in turn under load", st.testRollingRestart)
	t.Run("database stopped and started", func(t *testing.T) { st.testDatabaseOutage(t, "stop", "start") })
	t.Run("database unreachable and back", func(t *testing.T) { st.testDatabaseOutage(t, "pause", "unpause") })
}

// signIn signs the administrator in through base and returns the client
// holding the session.
func (st *stack) signIn(t *testing.T, base string) *webclient.Client {
	t.Helper()
	c := browser(t)
	if err := c.SignIn(t.Context(), base, st.adminEmail, st.adminPassword); err != nil {
		t.Fatal(err)
	}
	return c
}

// addSupplier adds a supplier named name as the administrator, through
// base, and returns the response.
func (st *stack) addSupplier(t *testing.T, base, name string) (*http.Response, string) {
	t.Helper()
	resp, body, err := st.admin.PostForm(t.Context(), base+"/admin/supplier-add", url.Values{
		"name": {name}, "address": {"1 Compose Way"}, "city": {"Seattle"},
		"state": {"WA"}, "email": {"beans@example.com"}, "phone": {"+1 206 555 0100"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// testStories: a visitor and the administrator over plain HTTP, through
// the production listener and then the test listener.
func (st *stack) testStories(t *testing.T) {
	production, test := st.production, st.test
	visitor := browser(t)
	expectPage(t, visitor, production+"/", "Find a coffee supplier")
	expectPage(t, visitor, production+"/suppliers", "suppliers")
	expectRedirect(t, visitor, production+"/admin/suppliers", "/admin/login")
	expectRedirect(t, visitor, production+"/admin", "/admin/login")

	name := "Smoke Test Roasters " + randomHex(t, 3)
	resp, body := st.addSupplier(t, production, name)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/suppliers") {
		t.Fatalf("add a supplier: %d to %q, want 303 to /admin/suppliers; body starts %.500q", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	// Any employee replica reads the session; the catalogue (another
	// service, another database account) shows the new supplier.
	for range 4 {
		expectPage(t, st.admin, production+"/admin/suppliers?q="+url.QueryEscape(name), name)
	}
	for range 4 {
		expectPage(t, visitor, production+"/suppliers?q="+url.QueryEscape(name), name)
	}

	// The same through the test listener: the session cookie is the
	// host's, so the employee stays signed in there too.
	expectPage(t, visitor, test+"/", "Find a coffee supplier")
	expectPage(t, visitor, test+"/suppliers?q="+url.QueryEscape(name), name)
	expectRedirect(t, visitor, test+"/admin/suppliers", "/admin/login")
	expectPage(t, st.admin, test+"/admin/suppliers?q="+url.QueryEscape(name), name)
}

// standInCABundle is the RDS certificate bundle compose builds the images
// with when they are not built yet: make images STANDIN=1's stand-in CA
// (there is no network here to fetch AWS's), made first when missing. The
// path is relative to the build context, the repository.
func standInCABundle(t *testing.T) string {
	t.Helper()
	const bundle = "containers/stand-ins/rds-ca-bundle.pem"
	if out, err := exec.CommandContext(t.Context(), "make", "-C", "..", bundle).CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", bundle, err, out)
	}
	return bundle
}

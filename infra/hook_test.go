package infra

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// releaseCheck is one entry of deployment/release-checks.json: the one
// list of what a release must answer before and after production traffic
// moves (the hook Lambda's CHECKS; a local rehearsal reads the same file).
type releaseCheck struct {
	Path   string `json:"path"`
	Status int    `json:"status"`
	Marker string `json:"marker"`
}

func readReleaseChecks(t *testing.T) []releaseCheck {
	t.Helper()
	var checks []releaseCheck
	if err := json.Unmarshal(readDeployment(t, "release-checks.json"), &checks); err != nil {
		t.Fatalf("deployment/release-checks.json: %v", err)
	}
	return checks
}

// hookFunction is the release checks' Lambda in services.yaml: its inline
// code and environment.
func hookFunction(t *testing.T) (code string, env map[string]any) {
	t.Helper()
	fn := resource(t, "services", "ReleaseCheckFunction", "AWS::Lambda::Function")
	code, _ = at(fn.Properties, "Code", "ZipFile").(string)
	env, _ = at(fn.Properties, "Environment", "Variables").(map[string]any)
	if code == "" || env == nil {
		t.Fatalf("ReleaseCheckFunction has no inline code or no environment: %v", fn.Properties)
	}
	return code, env
}

// TestReleaseChecksAreOneList: the hook's CHECKS are the file's, the
// checks cover health, the catalogue and the sign-in page, and each page
// check names a marker only its own service sends, so a check fails when
// the other service answers.
func TestReleaseChecksAreOneList(t *testing.T) {
	t.Parallel()
	checks := readReleaseChecks(t)
	_, env := hookFunction(t)
	var inTemplate []releaseCheck
	if err := json.Unmarshal([]byte(cfn.Scalar(env["CHECKS"])), &inTemplate); err != nil {
		t.Fatalf("ReleaseCheckFunction's CHECKS: %v", err)
	}
	if !slices.Equal(inTemplate, checks) {
		t.Errorf("ReleaseCheckFunction's CHECKS %+v differ from deployment/release-checks.json %+v", inTemplate, checks)
	}
	paths := map[string]releaseCheck{}
	for _, c := range checks {
		paths[c.Path] = c
	}
	for _, p := range []string{"/healthz", "/", "/admin/login"} {
		if paths[p].Status != http.StatusOK {
			t.Errorf("no check that %s answers 200 (have %+v)", p, checks)
		}
	}
	if m := paths["/"].Marker; m == "" || m == paths["/admin/login"].Marker {
		t.Errorf("the catalogue's marker %q does not tell the customer service from the employee's %q", m, paths["/admin/login"].Marker)
	}
	// The markers are what the services render (pkg/web's layout and each
	// service's Section).
	for file, marker := range map[string]string{
		"services/customer/server/server.go": `Section:\s+"Catalogue"`,
		"services/employee/server/server.go": `Section:\s+"Administration"`,
		"pkg/web/ui/layout.html":             regexp.QuoteMeta(`<span class="section">{{.Site.Section}}</span>`),
	} {
		b, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		// gofmt aligns a struct literal's values, so the spaces vary.
		if !regexp.MustCompile(marker).Match(b) {
			t.Errorf("%s no longer holds %q, which the release checks' markers rely on", file, marker)
		}
	}
}

// site stands for the load balancer's listener: /admin and /admin/* to the
// employee service, the rest to the customer service, as gateway.Rules.
type site struct {
	catalogueStatus int  // what the customer service answers on /
	adminToCustomer bool // a listener rule that lost /admin
	catchAll        bool // the customer service answers every path with the catalogue
}

func (s site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	employee := r.URL.Path == "/admin" || strings.HasPrefix(r.URL.Path, "/admin/")
	if employee && !s.adminToCustomer {
		if r.URL.Path == "/admin/login" {
			io.WriteString(w, `<html><header><span class="section">Administration</span></header><form>Sign in</form></html>`)
			return
		}
		http.NotFound(w, r)
		return
	}
	switch r.URL.Path {
	case "/healthz":
		io.WriteString(w, "ok")
	case "/":
		w.WriteHeader(s.catalogueStatus)
		io.WriteString(w, `<html><header><span class="section">Catalogue</span></header><table></table></html>`)
	default:
		if s.catchAll {
			io.WriteString(w, `<html><header><span class="section">Catalogue</span></header></html>`)
			return
		}
		http.NotFound(w, r)
	}
}

// hookDriver runs the Lambda's handler once with boto3's real clients
// under botocore's Stubber, which checks each call against the API model:
// EC2 describes the load balancer's network interfaces as 127.0.0.1 (or
// none), CodeDeploy records the status it is given, printed last.
const hookDriver = `
import importlib.util, json, sys
import boto3
from botocore.stub import Stubber

code, lb, addresses = sys.argv[1], sys.argv[2], [a for a in sys.argv[3].split(",") if a]
ec2 = boto3.client("ec2", region_name="us-east-1")
codedeploy = boto3.client("codedeploy", region_name="us-east-1")
given = {}
codedeploy.meta.events.register("provide-client-params.codedeploy.PutLifecycleEventHookExecutionStatus",
                                lambda params, **kw: given.update(params))
with Stubber(ec2) as s1, Stubber(codedeploy) as s2:
    s1.add_response("describe_network_interfaces",
                    {"NetworkInterfaces": [{"PrivateIpAddress": a} for a in addresses]},
                    {"Filters": [{"Name": "description", "Values": ["ELB " + lb]}]})
    s2.add_response("put_lifecycle_event_hook_execution_status", {"lifecycleEventHookExecutionId": "hook-1"})
    boto3.client = lambda name, **kw: {"ec2": ec2, "codedeploy": codedeploy}[name]
    spec = importlib.util.spec_from_file_location("index", code)
    index = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(index)
    index.handler({"DeploymentId": "d-TEST", "LifecycleEventHookExecutionId": "hook-1"}, None)
    s1.assert_no_pending_responses()
    s2.assert_no_pending_responses()
print(json.dumps(given))
`

// runHook runs the template's hook code against the two listeners and
// returns the status it gave CodeDeploy.
func runHook(t *testing.T, python string, test, production http.Handler, addresses string) string {
	t.Helper()
	code, env := hookFunction(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.py"), []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	port := func(h http.Handler) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		_, p, err := net.SplitHostPort(srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	vars := map[string]string{
		"CHECKS": cfn.Scalar(env["CHECKS"]), "LOAD_BALANCER": "app/coffee-suppliers-ci/0123456789abcdef",
		"LOAD_BALANCER_DNS": "coffee-suppliers-ci-1234567890.us-east-1.elb.amazonaws.com",
		"TEST_PORT":         port(test), "PRODUCTION_PORT": port(production), "SCHEME": "http",
	}
	// The names the code reads are the ones the template sets.
	if got, w := sortedKeys(env), sortedKeys(vars); !slices.Equal(got, w) {
		t.Fatalf("ReleaseCheckFunction's environment has %v, the code reads %v", got, w)
	}
	cmd := exec.CommandContext(t.Context(), python, "-c", hookDriver, filepath.Join(dir, "index.py"), vars["LOAD_BALANCER"], addresses)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1")
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the hook: %v\n%s\n%s", err, out, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var given struct {
		DeploymentID string `json:"deploymentId"`
		HookID       string `json:"lifecycleEventHookExecutionId"`
		Status       string `json:"status"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &given); err != nil {
		t.Fatalf("the hook's report %q: %v", out, err)
	}
	if given.DeploymentID != "d-TEST" || given.HookID != "hook-1" {
		t.Errorf("the hook reported %+v, want deployment d-TEST and execution hook-1", given)
	}
	t.Logf("hook output:\n%s", out)
	return given.Status
}

// TestReleaseHookFailsABrokenRelease: the hook tells CodeDeploy Failed (so
// it rolls back) when a page the checks name fails or the wrong service
// answers on either listener, and Succeeded when all is well. Lifecycle
// hooks report with PutLifecycleEventHookExecutionStatus:
// https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html#reference-appspec-file-structure-hooks-section-structure-ecs-sample-function
func TestReleaseHookFailsABrokenRelease(t *testing.T) {
	t.Parallel()
	python := tool(t, "python3", "the hook Lambda is Python")
	if err := exec.CommandContext(t.Context(), python, "-c", "import boto3, botocore.stub").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("boto3 is not importable: %v", err)
		}
		t.Skipf("SKIPPED: boto3 is not importable (%v): pip install boto3", err)
	}
	good := site{catalogueStatus: http.StatusOK}
	for _, tc := range []struct {
		name             string
		test, production site
		addresses        string
		want             string
	}{
		{"a healthy release", good, good, "127.0.0.1", "Succeeded"},
		{"the catalogue answers 500", site{catalogueStatus: http.StatusInternalServerError}, good, "127.0.0.1", "Failed"},
		{"the test listener sends /admin to the customer service", site{catalogueStatus: http.StatusOK, adminToCustomer: true}, good, "127.0.0.1", "Failed"},
		{"the production listener sends /admin to the customer service", good, site{catalogueStatus: http.StatusOK, adminToCustomer: true}, "127.0.0.1", "Failed"},
		{"the customer service answers the sign-in page's path", site{catalogueStatus: http.StatusOK, adminToCustomer: true, catchAll: true}, good, "127.0.0.1", "Failed"},
		{"no address for the load balancer", good, good, "", "Failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := runHook(t, python, tc.test, tc.production, tc.addresses); got != tc.want {
				t.Errorf("the hook told CodeDeploy %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAppSpecsRunTheReleaseChecks: each AppSpec names the hook function
// (as render.sh fills in <ENV_NAME>) after test traffic and after
// production traffic moves.
func TestAppSpecsRunTheReleaseChecks(t *testing.T) {
	t.Parallel()
	fn := resource(t, "services", "ReleaseCheckFunction", "AWS::Lambda::Function")
	name, err := asDeployed(templates(t)["services"], fn.Properties["FunctionName"])
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range services {
		var spec struct {
			Hooks []map[string]string `yaml:"Hooks"`
		}
		if err := yaml.Unmarshal(readDeployment(t, "appspec-"+svc+".yaml"), &spec); err != nil {
			t.Fatal(err)
		}
		hooks := map[string]string{}
		for _, h := range spec.Hooks {
			for k, v := range h {
				hooks[k] = v
			}
		}
		for _, event := range []string{"AfterAllowTestTraffic", "AfterAllowTraffic"} {
			if hooks[event] != name {
				t.Errorf("appspec-%s.yaml: %s runs %q, want the release checks %q", svc, event, hooks[event], name)
			}
		}
	}
}

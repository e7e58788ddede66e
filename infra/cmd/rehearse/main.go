// Command rehearse rehearses a release on the local machine the way the
// AWS pipeline runs it (docs/rehearsal.md): buildspec.yml's build against
// a local registry, the Release artifacts deployed blue/green behind
// HAProxy with the test listener, the release checks, the canary and the
// alarms of infra/templates, for a good, a broken and a faulty-canary
// release, under steady load. `make rehearse` runs it; it exits non-zero
// when anything does not happen as it should.
//
//	go run ./infra/cmd/rehearse [-standin] [-bake 60s]
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/infra/internal/buildspec"
	"github.com/coffee-suppliers/coffee-suppliers/infra/internal/standin"
)

func main() {
	standin := flag.Bool("standin", false, "use the local stand-in images (containers/stand-ins) for the base images, MySQL, HAProxy and the registry")
	bake := flag.Duration("bake", time.Minute, "the canary's bake time in the rehearsal; the alarm periods and the termination wait shrink in proportion")
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	start := time.Now()
	r := &rehearsal{start: start, standin: *standin, bake: *bake}
	summary, err := r.run(*root)
	fmt.Println()
	if err != nil {
		fmt.Fprintf(os.Stderr, "rehearsal FAILED after %v: %v\n", time.Since(start).Round(time.Second), err)
		os.Exit(1)
	}
	fmt.Println(summary)
}

// release is one run of the pipeline: a commit, built, with or without a
// fault, and the outcome the rehearsal expects of it.
type release struct {
	Name   string
	Fault  string // REHEARSAL_FAULT of its build, "" for a production build
	Expect string // promoted, test listener (rolled back there), canary (rolled back there)
	Commit string
	Tasks  map[string]task
	Dir    string // its artifacts
}

type rehearsal struct {
	start   time.Time
	standin bool
	// tlsDir holds the database's certificate files (writeDatabaseTLS).
	tlsDir string
	// lbSubnet is the rehearsal network's range, where HAProxy (the load
	// balancer) sends from: the tasks' TRUSTED_PROXIES.
	lbSubnet string
	// poolSize is each task's database pool (services.yaml's
	// DatabasePoolSize).
	poolSize string
	bake     time.Duration

	id, work, src, network string
	root                   string
	registry               string
	lb                     lb
	prodURL, testURL       string
	secrets                map[string]string
	rootPassword           string
	deploy                 deployConfig
	scale                  float64 // rehearsal time / AWS time
	alarms                 []alarm
	checks                 []check
	healthPath             map[string]string
	load                   *load
	live                   string // the target group serving production: blue or green

	mu        sync.Mutex
	tgRelease map[string]string   // backend → release serving it
	canaryTG  map[string]bool     // backends in their canary
	tasks     map[string][]string // backend → container names
}

// log prints one line of the timeline.
func (r *rehearsal) log(format string, args ...any) {
	fmt.Printf("%7.1fs  %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
}

// phase starts a phase of the load (and of the timeline).
func (r *rehearsal) phase(name string) {
	if r.load != nil {
		r.load.setPhase(name)
	}
	r.log("== %s", name)
}

// endPhase prints what the load saw in a phase, and fails when a request
// outside a canary failed.
func (r *rehearsal) endPhase(name string) error {
	c := r.load.count(name)
	r.log("   load in %q: %d requests, %d failed, %d to a canary (%d failed); answered by %s",
		name, c.Requests, c.Failed, c.CanaryRequests, c.CanaryFailed, c.releasesText())
	if c.Requests == 0 {
		return fmt.Errorf("no request of the load reached phase %q (the load's bounds are too small)", name)
	}
	if c.Failed > 0 {
		return fmt.Errorf("%d requests failed in %q, outside any canary", c.Failed, name)
	}
	return nil
}

func (r *rehearsal) whoServes(tg string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tgRelease[tg], r.canaryTG[tg]
}

func (r *rehearsal) run(root string) (summary string, err error) {
	// Interrupted or not, the deferred cleanup removes what the run started.
	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(sig, 40*time.Minute)
	defer cancel()
	if r.root, err = filepath.Abs(root); err != nil {
		return "", err
	}
	if err := r.readTemplates(); err != nil {
		return "", err
	}
	r.id = "rehearsal-" + randomHex(4)
	if r.work, err = os.MkdirTemp("", r.id+"-"); err != nil {
		return "", err
	}
	defer os.RemoveAll(r.work)
	defer r.cleanup()
	r.tgRelease, r.canaryTG, r.tasks = map[string]string{}, map[string]bool{}, map[string][]string{}

	releases := []*release{
		{Name: "v1", Expect: "promoted"},
		{Name: "v2-good", Expect: "promoted"},
		{Name: "v3-broken", Fault: "smoke", Expect: "test listener"},
		{Name: "v4-faulty-canary", Fault: "canary", Expect: "canary"},
	}
	r.phase("setup: database, registry (ECR stand-in), load balancer")
	if err := r.setup(ctx); err != nil {
		return "", err
	}
	r.phase("build: buildspec.yml's build and post_build per service, per release (CodePipeline's Build stage)")
	if err := r.prepareSource(ctx); err != nil {
		return "", err
	}
	for _, rel := range releases {
		if err := r.build(ctx, rel); err != nil {
			return "", fmt.Errorf("release %s: %w", rel.Name, err)
		}
	}
	if err := r.firstDeploy(ctx, releases[0]); err != nil {
		return "", fmt.Errorf("first deploy of %s: %w", releases[0].Name, err)
	}
	var failedCanary, canaryRequests int
	for _, rel := range releases[1:] {
		outcome, err := r.release(ctx, rel)
		if err != nil {
			return "", fmt.Errorf("release %s: %w", rel.Name, err)
		}
		if outcome != rel.Expect {
			return "", fmt.Errorf("release %s ended %q, want %q", rel.Name, outcome, rel.Expect)
		}
		if outcome == "canary" {
			for _, p := range []string{rel.Name + ": canary", rel.Name + ": rollback"} {
				c := r.load.count(p)
				failedCanary, canaryRequests = failedCanary+c.CanaryFailed, canaryRequests+c.CanaryRequests
			}
			if failedCanary == 0 {
				return "", fmt.Errorf("release %s was rolled back in the canary, but none of its %d canary requests failed", rel.Name, canaryRequests)
			}
		}
	}
	r.load.stop()
	total, failedOutside := 0, 0
	r.log("== totals per phase")
	for _, p := range r.load.order {
		c := r.load.count(p)
		total += c.Requests
		failedOutside += c.Failed
		r.log("   %-45s %5d requests %3d failed %3d canary (%d failed)  %s", p, c.Requests, c.Failed, c.CanaryRequests, c.CanaryFailed, c.releasesText())
	}
	if failedOutside > 0 {
		return "", fmt.Errorf("%d requests failed outside the canary", failedOutside)
	}
	return fmt.Sprintf("rehearsal: promoted %s, rolled back %s at the test listener, rolled back %s in the canary (%d of %d canary requests failed), %d requests, 0 failed outside the canary",
		releases[1].Name, releases[2].Name, releases[3].Name, failedCanary, canaryRequests, total), nil
}

// readTemplates reads what the rehearsal shares with AWS: the deployment
// configuration, the rollback alarms, the target groups' health check and
// the release checks.
func (r *rehearsal) readTemplates() error {
	tpl := filepath.Join(r.root, "infra", "templates")
	r.healthPath = map[string]string{}
	for _, svc := range services {
		cfg, err := readDeployConfig(filepath.Join(tpl, "pipelines.yaml"), svc)
		if err != nil {
			return err
		}
		if r.deploy.Name != "" && cfg != r.deploy {
			return fmt.Errorf("the services' deployment groups differ (%+v, %+v); the rehearsal deploys both alike", r.deploy, cfg)
		}
		r.deploy = cfg
		a, err := readAlarms(filepath.Join(tpl, "monitoring.yaml"), svc)
		if err != nil {
			return err
		}
		r.alarms = append(r.alarms, a...)
		if r.healthPath[svc], err = healthCheckPath(filepath.Join(tpl, "services.yaml"), svc); err != nil {
			return err
		}
	}
	var err error
	if r.checks, err = readChecks(r.root); err != nil {
		return err
	}
	pool, err := parameterDefault(filepath.Join(tpl, "services.yaml"), "DatabasePoolSize")
	if err != nil {
		return err
	}
	r.poolSize = strconv.Itoa(int(pool))
	r.scale = r.bake.Seconds() / r.deploy.Bake.Seconds()
	r.log("deployment configuration %s (pipelines.yaml): %d%% canary for %v, then all traffic; old tasks kept %v",
		r.deploy.Name, r.deploy.CanaryPercent, r.deploy.Bake, r.deploy.TerminationWait)
	r.log("REHEARSAL TIMES: bake %v instead of %v; alarm periods and the termination wait (%v) shortened in the same ratio (×%.3f)",
		r.bake, r.deploy.Bake, r.scaled(r.deploy.TerminationWait), r.scale)
	for _, a := range r.alarms {
		r.log("alarm %s: %s %s > %g over %d period(s) of %v (rehearsal: %v)", a.Name, a.Metric, a.Statistic, a.Threshold, a.Evaluations, a.Period, r.scaled(a.Period))
	}
	r.log("release checks (deployment/release-checks.json): %d", len(r.checks))
	return nil
}

func (r *rehearsal) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * r.scale).Round(100 * time.Millisecond)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// image is official, or its local stand-in when the rehearsal runs on them.
func (r *rehearsal) image(official, standIn string) string {
	if r.standin {
		return standIn
	}
	return official
}

// setup starts the network, the database, the registry and the load
// balancer.
func (r *rehearsal) setup(ctx context.Context) error {
	r.network = r.id
	if _, err := standin.Docker(ctx, "network", "create", "--label", "coffee-suppliers.rehearsal="+r.id, r.network); err != nil {
		return err
	}
	var err error
	if r.lbSubnet, err = standin.Docker(ctx, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", r.network); err != nil {
		return err
	}
	r.rootPassword = randomHex(16)
	acct := "arn:aws:secretsmanager:eu-west-1:000000000000:secret:coffee-suppliers-rehearsal/"
	admin := acct + "first-admin"
	// Secrets Manager's stand-in: each valueFrom of the task definitions
	// (a secret, or a JSON key of one) and its value.
	r.secrets = map[string]string{
		acct + "customer-db-password": randomHex(16),
		acct + "employee-db-password": randomHex(16),
		acct + "session-key":          randomHex(48),
		admin + ":email::":            "admin@example.com",
		admin + ":password::":         randomHex(12),
	}
	label := "coffee-suppliers.rehearsal=" + r.id
	r.tlsDir = filepath.Join(r.work, "db-tls")
	if err := writeDatabaseTLS(r.tlsDir); err != nil {
		return err
	}
	// TLS only, as RDS with the data stack's parameter group; the health
	// check uses the server's socket, which that setting allows.
	if _, err := standin.Docker(ctx, "run", "-d", "--name", r.id+"-db", "--network", r.network, "--network-alias", "db", "--label", label,
		"-e", "MYSQL_ROOT_PASSWORD="+r.rootPassword, "-e", "MYSQL_DATABASE=COFFEE", "-v", r.tlsDir+":"+dbTLSMount+":ro",
		"--health-cmd", `MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql -uroot -e 'SELECT 1' >/dev/null`,
		"--health-interval", "2s", "--health-retries", "90",
		r.image("mysql:8.4", standin.MariaDB),
		"--ssl-ca="+dbTLSMount+"ca.pem", "--ssl-cert="+dbTLSMount+"server-cert.pem", "--ssl-key="+dbTLSMount+"server-key.pem",
		"--require-secure-transport=ON"); err != nil {
		return err
	}
	id, err := standin.Docker(ctx, "run", "-d", "--name", r.id+"-registry", "--label", label, "--read-only", "--cap-drop", "ALL",
		"--tmpfs", "/var/lib/registry:uid=65532", "-p", "127.0.0.1::5000", r.image("registry:3", standin.Registry))
	if err != nil {
		return err
	}
	if r.registry, err = publishedPort(ctx, id, "5000/tcp"); err != nil {
		return err
	}
	cfgDir := filepath.Join(r.work, "haproxy")
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		return err
	}
	files := initialMaps()
	files["haproxy.cfg"] = haproxyConfig(r.healthPath)
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(cfgDir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	id, err = standin.Docker(ctx, "run", "-d", "--name", r.id+"-lb", "--network", r.network, "--label", label, "--read-only", "--cap-drop", "ALL",
		"--security-opt", "no-new-privileges", "--sysctl", "net.ipv4.ip_unprivileged_port_start=0",
		"-v", cfgDir+":"+mapDir+":ro", "-p", "127.0.0.1::80", "-p", "127.0.0.1::8080", "-p", fmt.Sprintf("127.0.0.1::%d", runtimePort),
		r.image("haproxy:2.6", standin.HAProxy))
	if err != nil {
		return err
	}
	prod, err := publishedPort(ctx, id, "80/tcp")
	if err != nil {
		return err
	}
	test, err := publishedPort(ctx, id, "8080/tcp")
	if err != nil {
		return err
	}
	api, err := publishedPort(ctx, id, fmt.Sprintf("%d/tcp", runtimePort))
	if err != nil {
		return err
	}
	r.prodURL, r.testURL, r.lb = "http://"+prod, "http://"+test, lb{addr: api}
	if err := eventually(ctx, time.Minute, func() error { _, err := r.lb.stats(); return err }); err != nil {
		logs, _ := standin.Docker(context.Background(), "logs", "--tail", "30", id)
		return fmt.Errorf("HAProxy's runtime API does not answer: %w\n%s", err, logs)
	}
	if err := eventually(ctx, 3*time.Minute, func() error {
		s, err := standin.Docker(ctx, "inspect", "-f", "{{.State.Health.Status}}", r.id+"-db")
		if s != "healthy" {
			return fmt.Errorf("database %s %v", s, err)
		}
		return nil
	}); err != nil {
		return err
	}
	r.log("registry %s, production listener %s, test listener %s, HAProxy runtime API %s", r.registry, r.prodURL, r.testURL, r.lb.addr)
	return nil
}

func publishedPort(ctx context.Context, id, port string) (string, error) {
	out, err := standin.Docker(ctx, "port", id, port)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "127.0.0.1:") {
			return l, nil
		}
	}
	return "", fmt.Errorf("%s is published on %q, want 127.0.0.1", port, out)
}

// eventually retries f until it succeeds or the wait ends.
func eventually(ctx context.Context, wait time.Duration, f func() error) error {
	deadline := time.Now().Add(wait)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if errors.Is(err, errStopped) {
			return err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("after %v: %w", wait, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// cleanup removes every container, the network and the images of the run.
func (r *rehearsal) cleanup() {
	if r.load != nil {
		r.load.stop()
	}
	ctx := context.Background()
	if ids, _ := standin.Docker(ctx, "ps", "-aq", "--filter", "label=coffee-suppliers.rehearsal="+r.id); ids != "" {
		_, _ = standin.Docker(ctx, append([]string{"rm", "-f", "-v"}, strings.Fields(ids)...)...)
	}
	_, _ = standin.Docker(ctx, "network", "rm", r.network)
	if r.registry != "" {
		if imgs, _ := standin.Docker(ctx, "images", "-q", "--filter", "reference="+r.registry+"/*/*"); imgs != "" {
			_, _ = standin.Docker(ctx, append([]string{"rmi", "-f"}, strings.Fields(imgs)...)...)
		}
	}
}

// prepareSource copies the repository (tracked and new files, not
// ignored) into a git repository of its own, where each release is a
// commit of the same tree.
func (r *rehearsal) prepareSource(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "git", "-C", r.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	r.src = filepath.Join(r.work, "src")
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		info, err := os.Lstat(filepath.Join(r.root, f))
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(r.root, f))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(r.src, f)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(r.src, f), b, info.Mode().Perm()); err != nil {
			return err
		}
	}
	// The images' RDS certificate bundle is the rehearsal database's CA.
	ca, err := os.ReadFile(filepath.Join(r.tlsDir, "ca.pem"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(r.src, filepath.Dir(rdsCABundlePath)), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.src, rdsCABundlePath), ca, 0o644); err != nil {
		return err
	}
	return r.git(ctx, "init", "-q") // the releases' commits follow
}

func (r *rehearsal) git(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "user.name=rehearsal", "-c", "user.email=rehearsal@localhost", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = r.src
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %w: %s", args[0], err, out)
	}
	return nil
}

// renderEnv is what the CodeBuild projects set for deployment/render.sh
// (pipelines.yaml): the pool size is the services stack's DatabasePoolSize
// as it deploys without an override, the trusted proxies the load
// balancer's subnet (here the rehearsal's network), the roles' ARNs those
// the services stack exports (nothing assumes them here).
func (r *rehearsal) renderEnv(svc string) []string {
	acct := "arn:aws:secretsmanager:eu-west-1:000000000000:secret:coffee-suppliers-rehearsal/"
	role := "arn:aws:iam::000000000000:role/coffee-suppliers-rehearsal-" + svc
	return []string{"ENV_NAME=rehearsal", "AWS_ACCOUNT_ID=000000000000", "AWS_REGION=eu-west-1", "DB_HOST=db",
		"DB_PASSWORD_SECRET_ARN=" + acct + svc + "-db-password", "SESSION_KEY_SECRET_ARN=" + acct + "session-key",
		"ADMIN_SECRET_ARN=" + acct + "first-admin", "DB_POOL_SIZE=" + r.poolSize, "TRUSTED_PROXIES=" + r.lbSubnet,
		"EXECUTION_ROLE_ARN=" + role + "-execution", "TASK_ROLE_ARN=" + role + "-task"}
}

// build commits the release and runs buildspec.yml's build and post_build
// for each service, as each service's CodeBuild project does, keeping the
// Release and Migration artifacts.
func (r *rehearsal) build(ctx context.Context, rel *release) error {
	began := time.Now()
	if err := r.git(ctx, "add", "-A"); err != nil {
		return err
	}
	if err := r.git(ctx, "commit", "-q", "--allow-empty", "-m", "release "+rel.Name); err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, "git", "-C", r.src, "rev-parse", "HEAD").Output()
	if err != nil {
		return fmt.Errorf("git rev-parse: %w", err)
	}
	rel.Commit = strings.TrimSpace(string(out))
	// The build and post_build phases, as CodeBuild runs them; pre_build
	// logs in to ECR and runs the unit tests, which CI runs on its own.
	script, err := buildspec.Script(r.src, "build", "post_build")
	if err != nil {
		return err
	}
	rel.Dir = filepath.Join(r.work, "artifacts", rel.Name)
	rel.Tasks = map[string]task{}
	for _, svc := range services {
		cmd := exec.CommandContext(ctx, "bash", "-c", script)
		cmd.Dir = r.src
		cmd.Env = append(os.Environ(), "SERVICE="+svc, "REPOSITORY_URI="+r.registry+"/coffee-suppliers-rehearsal/"+svc,
			"CODEBUILD_RESOLVED_SOURCE_VERSION="+rel.Commit, "CODEBUILD_BUILD_NUMBER="+r.id+"-"+rel.Name+"-"+svc)
		cmd.Env = append(cmd.Env, r.renderEnv(svc)...)
		cmd.Env = append(cmd.Env, "RDS_CA_BUNDLE="+rdsCABundlePath)
		if r.standin {
			cmd.Env = append(cmd.Env, "GO_IMAGE="+standin.Go, "RUNTIME_IMAGE="+standin.Runtime)
		}
		if rel.Fault != "" {
			cmd.Env = append(cmd.Env, "REHEARSAL_FAULT="+rel.Fault)
		}
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("buildspec.yml for %s: %w\n%s", svc, err, tail(log.String(), 40))
		}
		dir := filepath.Join(rel.Dir, svc)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, f := range []string{"release/imageDetail.json", "release/taskdef.json", "release/appspec.yaml", "migration/suppliersdb", "migration/rds-ca-bundle.pem"} {
			if err := os.Rename(filepath.Join(r.src, f), filepath.Join(dir, filepath.Base(f))); err != nil {
				return fmt.Errorf("the build left no %s: %w", f, err)
			}
		}
		t, err := readRelease(dir, svc)
		if err != nil {
			return err
		}
		// The build argument is the only difference between the releases:
		// the label says which fault, if any, the image was built with.
		fault, err := standin.Docker(ctx, "image", "inspect", "-f", `{{index .Config.Labels "coffee-suppliers.rehearsal-fault"}}`, t.Image)
		if err != nil {
			return err
		}
		if fault != rel.Fault {
			return fmt.Errorf("%s was built with the fault %q, want %q", t.Image, fault, rel.Fault)
		}
		rel.Tasks[svc] = t
	}
	faultText := "production build"
	if rel.Fault != "" {
		faultText = "REHEARSAL_FAULT=" + rel.Fault
	}
	r.log("built %s (commit %.12s, %s) in %v: %s, %s", rel.Name, rel.Commit, faultText, time.Since(began).Round(time.Second),
		rel.Tasks["customer"].Image, rel.Tasks["employee"].Image)
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// migrate runs the release's Migration artifact (the suppliersdb binary)
// with the settings of the pipeline's Migrate project, as its CodeBuild
// build does inside the VPC.
func (r *rehearsal) migrate(ctx context.Context, rel *release) error {
	bin := filepath.Join(rel.Dir, "customer", "suppliersdb")
	bundle := filepath.Join(rel.Dir, "customer", "rds-ca-bundle.pem")
	out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", r.network, "--label", "coffee-suppliers.rehearsal="+r.id,
		"--read-only", "--cap-drop", "ALL", "--user", "65532:65532", "-v", bin+":/suppliersdb:ro", "-v", bundle+":/rds-ca-bundle.pem:ro",
		"-e", "APP_DB_TLS=verify", "-e", "APP_DB_CA_FILE=/rds-ca-bundle.pem",
		"-e", "APP_DB_HOST=db", "-e", "APP_DB_NAME=COFFEE", "-e", "APP_DB_USER=root", "-e", "APP_DB_PASSWORD="+r.rootPassword,
		"-e", "CUSTOMER_DB_PASSWORD="+r.secrets["arn:aws:secretsmanager:eu-west-1:000000000000:secret:coffee-suppliers-rehearsal/customer-db-password"],
		"-e", "EMPLOYEE_DB_PASSWORD="+r.secrets["arn:aws:secretsmanager:eu-west-1:000000000000:secret:coffee-suppliers-rehearsal/employee-db-password"],
		r.image("gcr.io/distroless/static-debian12:nonroot", standin.Runtime), "/suppliersdb", "migrate").CombinedOutput()
	if err != nil {
		return fmt.Errorf("the migration of %s: %w\n%s", rel.Name, err, tail(string(out), 20))
	}
	r.log("migration of %s applied (the Migration artifact's suppliersdb migrate)", rel.Name)
	return nil
}

// startTasks starts the release's replicas of a service as ECS would from
// the task definition, registers them in the target group and waits for
// them to be healthy there.
func (r *rehearsal) startTasks(ctx context.Context, rel *release, svc, color string, register bool) ([]string, error) {
	t := rel.Tasks[svc]
	// ECS pulls the image the task definition names from the registry.
	if _, err := standin.Docker(ctx, "pull", "--quiet", t.Image); err != nil {
		return nil, err
	}
	// docker run can only give a shell-form health check; the task
	// definition's is exec-form, so it must be the image's own, whose
	// timings the task definition sets.
	test, err := standin.Docker(ctx, "image", "inspect", "-f", "{{json .Config.Healthcheck.Test}}", t.Image)
	if err != nil {
		return nil, err
	}
	want := `["CMD","` + strings.Join(t.Health, `","`) + `"]`
	if test != want {
		return nil, fmt.Errorf("the task definition's health check %s is not the image's %s, which the rehearsal can run", want, test)
	}
	backend := svc + "_" + color
	var names []string
	for i := 1; i <= 2; i++ {
		name := fmt.Sprintf("%s-%s-%s-%d", r.id, rel.Name, svc, i)
		args := []string{"run", "-d", "--name", name, "--network", r.network, "--label", "coffee-suppliers.rehearsal=" + r.id,
			"--health-interval", strconv.Itoa(t.Interval) + "s", "--health-timeout", strconv.Itoa(t.Timeout) + "s",
			"--health-retries", strconv.Itoa(t.Retries), "--health-start-period", strconv.Itoa(t.StartPeriod) + "s",
			"--stop-timeout", strconv.Itoa(t.StopTimeout)}
		if t.ReadOnly {
			args = append(args, "--read-only")
		}
		if t.User != "" {
			args = append(args, "--user", t.User)
		}
		for _, c := range t.CapDrop {
			args = append(args, "--cap-drop", c)
		}
		if t.MemoryMiB != "" {
			args = append(args, "--memory", t.MemoryMiB+"m")
		}
		for _, e := range t.Env {
			args = append(args, "-e", e)
		}
		for name, from := range t.Secrets {
			v, ok := r.secrets[from]
			if !ok {
				return nil, fmt.Errorf("the task definition of %s reads the secret %s, which does not exist", svc, from)
			}
			args = append(args, "-e", name+"="+v)
		}
		if _, err := standin.Docker(ctx, append(args, t.Image)...); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	r.mu.Lock()
	r.tasks[backend] = names
	r.tgRelease[backend] = rel.Name
	r.mu.Unlock()
	if !register {
		return names, nil
	}
	return names, r.registerTasks(ctx, svc, color, t.Port)
}

// registerTasks waits for the target group's tasks to be healthy (the
// container health check), registers them and waits for the load
// balancer's health checks to pass.
func (r *rehearsal) registerTasks(ctx context.Context, svc, color string, port int) error {
	backend := svc + "_" + color
	r.mu.Lock()
	names := r.tasks[backend]
	r.mu.Unlock()
	for i, name := range names {
		if err := waitHealthy(ctx, name); err != nil {
			return err
		}
		ip, err := standin.Docker(ctx, "inspect", "-f", "{{(index .NetworkSettings.Networks \""+r.network+"\").IPAddress}}", name)
		if err != nil {
			return err
		}
		if err := r.lb.register(backend, i+1, ip, port); err != nil {
			return err
		}
	}
	return eventually(ctx, time.Minute, func() error {
		s, err := r.lb.stats()
		if err != nil {
			return err
		}
		for i := range names {
			if st := s[fmt.Sprintf("%s/task%d", backend, i+1)]["status"]; st != "UP" {
				return fmt.Errorf("%s/task%d is %s in HAProxy", backend, i+1, st)
			}
		}
		return nil
	})
}

// waitHealthy waits for a container's health check, failing at once when
// it stops.
func waitHealthy(ctx context.Context, name string) error {
	var last string
	err := eventually(ctx, 2*time.Minute, func() error {
		out, err := standin.Docker(ctx, "inspect", "-f", "{{.State.Status}} {{.State.Health.Status}} {{.RestartCount}}", name)
		if err != nil {
			return err
		}
		last = out
		if strings.HasPrefix(out, "running healthy") {
			return nil
		}
		if !strings.HasPrefix(out, "running") {
			return fmt.Errorf("%s is %s: %w", name, out, errStopped)
		}
		return fmt.Errorf("%s is %s", name, out)
	})
	if err != nil {
		logs, _ := exec.Command("docker", "logs", "--tail", "15", name).CombinedOutput()
		return fmt.Errorf("task %s did not become healthy (%s): %w\n%s", name, last, err, logs)
	}
	return nil
}

var errStopped = errors.New("the container stopped")

// stopTasks drains a target group's tasks, deregisters them and stops
// them (docker stop: SIGTERM, then the task definition's stop timeout).
func (r *rehearsal) stopTasks(ctx context.Context, backend string) error {
	r.mu.Lock()
	names := r.tasks[backend]
	delete(r.tasks, backend)
	delete(r.tgRelease, backend)
	r.mu.Unlock()
	for i := range names {
		if err := r.lb.drain(backend, i+1); err != nil {
			return err
		}
	}
	for i := range names {
		if err := r.lb.deregister(backend, i+1); err != nil {
			return err
		}
	}
	if len(names) > 0 {
		if _, err := standin.Docker(ctx, append([]string{"stop"}, names...)...); err != nil {
			return err
		}
		if _, err := standin.Docker(ctx, append([]string{"rm"}, names...)...); err != nil {
			return err
		}
	}
	return nil
}

// readyz asks a task directly (the host reaches the containers' network).
func (r *rehearsal) readyz(ctx context.Context, name string, port int) (int, error) {
	ip, err := standin.Docker(ctx, "inspect", "-f", "{{(index .NetworkSettings.Networks \""+r.network+"\").IPAddress}}", name)
	if err != nil {
		return 0, err
	}
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s:%d/readyz", ip, port))
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

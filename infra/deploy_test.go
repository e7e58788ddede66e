package infra

// deploy.sh, run for real against the recording stand-ins of
// standin_test.go: an empty or an existing account, stacks that failed,
// a migration that fails, images for the wrong CPU, bad parameter files.
// Each test reads the calls deploy.sh made, in order, and what it printed.

import (
	"bufio"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	testAccount = "123456789012"
	testRegion  = "eu-west-1"
	registry    = testAccount + ".dkr.ecr." + testRegion + ".amazonaws.com"
)

// emptyAccount is a new account in which nothing of the platform exists,
// seen from an arm64 workstation (every current Mac).
func emptyAccount() *world {
	p := "coffee-suppliers-dev"
	return &world{
		Env:     "dev",
		Account: testAccount,
		Stacks:  map[string]*fakeStack{},
		Outputs: map[string]map[string]string{
			"network": {"PrivateSubnets": "subnet-a,subnet-b", "MigrationSecurityGroup": "sg-migration", "VpcId": "vpc-1"},
			"data":    {"DatabaseHost": p + ".abc.eu-west-1.rds.amazonaws.com"},
			"registry": {
				"CustomerRepositoryUri":    registry + "/" + p + "/customer",
				"EmployeeRepositoryUri":    registry + "/" + p + "/employee",
				"SuppliersdbRepositoryUri": registry + "/" + p + "/suppliersdb",
				"EcrPublicCachePrefix":     "ecr-public-dev",
			},
			"services": {
				"ClusterName":                   p,
				"LoadBalancerDns":               p + "-1.eu-west-1.elb.amazonaws.com",
				"MigrationTaskDefinitionArn":    "arn:aws:ecs:eu-west-1:" + testAccount + ":task-definition/" + p + "-migration:1",
				"CustomerServiceTaskDefinition": "arn:aws:ecs:eu-west-1:" + testAccount + ":task-definition/" + p + "-customer:1",
				"EmployeeServiceTaskDefinition": "arn:aws:ecs:eu-west-1:" + testAccount + ":task-definition/" + p + "-employee:1",
			},
			"monitoring": {},
			"pipelines":  {"ArtifactBucket": p + "-artifacts", "RepositoryCloneUrl": "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/" + p},
		},
		FailCreate:  map[string]string{},
		ECR:         map[string]map[string]string{},
		Local:       map[string]*localImage{},
		Workstation: "arm64",
		LinkedRoles: map[string]string{},
		Deployments: map[string][]string{},
	}
}

// deployedAccount is the account after a first deployment: every stack
// complete, the first images in ECR.
func deployedAccount() *world {
	w := emptyAccount()
	for _, s := range stacks {
		w.Stacks["coffee-suppliers-dev-"+s] = &fakeStack{Status: "CREATE_COMPLETE", Params: map[string]string{"EnvName": "dev"}, Outputs: w.Outputs[s]}
	}
	svc := w.Stacks["coffee-suppliers-dev-services"]
	for _, k := range []string{"CustomerImageTag", "EmployeeImageTag", "MigrationImageTag"} {
		svc.Params[k] = "bootstrap-0123456789ab"
	}
	for _, r := range []string{"customer", "employee", "suppliersdb"} {
		w.ECR["coffee-suppliers-dev/"+r] = map[string]string{"bootstrap-0123456789ab": "sha256:first"}
	}
	w.LinkedRoles = map[string]string{"ecs.amazonaws.com": "exists", "ecs.application-autoscaling.amazonaws.com": "exists"}
	return w
}

// run is one deploy.sh run: what it printed, the calls it made, the world after.
type run struct {
	out   string
	calls []call
	err   error
	w     *world
}

// deploySh runs infra/deploy.sh ARGS… from the repository's top folder
// with the stand-ins first on PATH. env adds variables (an empty value
// removes one); AWS_REGION is eu-west-1 unless env says otherwise.
func deploySh(t *testing.T, w *world, env map[string]string, args ...string) run {
	t.Helper()
	for _, name := range []string{"bash", "git", "go", "make"} {
		tool(t, name, "deploy.sh needs it")
	}
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"aws", "docker"} {
		if err := os.Symlink(self, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	state, logPath := filepath.Join(dir, "world.json"), filepath.Join(dir, "calls.jsonl")
	if err := writeWorld(state, w); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "AWS_") && k != "CI" {
			vars[k] = v
		}
	}
	vars["PATH"] = bin + string(os.PathListSeparator) + os.Getenv("PATH")
	vars["AWS_REGION"] = testRegion
	vars["DEPLOY_POLL_SECONDS"] = "0.1"
	vars[standInStateEnv], vars[standInLogEnv] = state, logPath
	maps.Copy(vars, env)
	var environ []string
	for k, v := range vars {
		if v != "" {
			environ = append(environ, k+"="+v)
		}
	}
	cmd := exec.Command("bash", append([]string{"infra/deploy.sh"}, args...)...)
	cmd.Dir, cmd.Env = repoRoot, environ
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	r := run{out: string(out), err: err}
	if r.w, err = readWorld(state); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(logPath); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var c call
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				t.Fatal(err)
			}
			r.calls = append(r.calls, c)
		}
	}
	if strings.Contains(r.out, "stand-in: unsupported") {
		t.Fatalf("deploy.sh made a call the stand-in does not know:\n%s", r.out)
	}
	return r
}

// index is the position of the first call matching, or -1.
func (r run) index(match func(call) bool) int {
	for i, c := range r.calls {
		if match(c) {
			return i
		}
	}
	return -1
}

// deployOf matches `aws cloudformation deploy` of one stack.
func deployOf(stack string) func(call) bool {
	return func(c call) bool {
		return c.has("aws", "cloudformation", "deploy") && first(c.flag("--stack-name")) == "coffee-suppliers-dev-"+stack
	}
}

// first is a flag's first value ("" when absent).
func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// before fails unless a call matching first happened, and before any
// matching then.
func (r run) before(t *testing.T, what string, first func(call) bool, thenWhat string, then func(call) bool) {
	t.Helper()
	i, j := r.index(first), r.index(then)
	switch {
	case i < 0:
		t.Errorf("no %s; calls:\n%s", what, r.log())
	case j >= 0 && j < i:
		t.Errorf("%s came after %s; calls:\n%s", what, thenWhat, r.log())
	}
}

func (r run) log() string {
	var b strings.Builder
	for _, c := range r.calls {
		b.WriteString("  " + c.String() + "\n")
	}
	return b.String()
}

func (r run) mustSucceed(t *testing.T) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("deploy.sh failed: %v\n%s\ncalls:\n%s", r.err, r.out, r.log())
	}
}

func (r run) mustFail(t *testing.T, wantInOutput ...string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("deploy.sh succeeded, want a failure\n%s", r.out)
	}
	for _, s := range wantInOutput {
		if !strings.Contains(r.out, s) {
			t.Errorf("its output does not say %q:\n%s", s, r.out)
		}
	}
}

func commit(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "-C", repoRoot, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// agentImage is the CloudWatch agent image services.yaml names, for dev
// in the test account.
func agentImage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("templates", "services.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Image: !Sub "(\$\{AWS::AccountId\}[^"]*cloudwatch-agent[^"]*)"`).FindAllStringSubmatch(string(b), -1)
	if len(m) == 0 {
		t.Fatal("services.yaml names no CloudWatch agent image")
	}
	r := strings.NewReplacer("${AWS::AccountId}", testAccount, "${AWS::Region}", testRegion, "${EnvName}", "dev")
	return r.Replace(m[0][1])
}

func TestDeployFirstRunOrder(t *testing.T) {
	t.Parallel()
	r := deploySh(t, emptyAccount(), nil, "deploy", "dev")
	r.mustSucceed(t)
	services := deployOf("services")
	for _, role := range []string{"ecs.amazonaws.com", "ecs.application-autoscaling.amazonaws.com"} {
		r.before(t, "the service-linked role of "+role, func(c call) bool {
			return c.has("aws", "iam", "create-service-linked-role") && first(c.flag("--aws-service-name")) == role
		}, "the services stack", services)
	}
	for _, img := range []string{"customer", "employee", "suppliersdb"} {
		r.before(t, "the push of the first "+img+" image", func(c call) bool {
			return c.has("docker", "push") && strings.Contains(c.String(), "/coffee-suppliers-dev/"+img+":")
		}, "the services stack", services)
	}
	r.before(t, "the pull of the CloudWatch agent through the cache", func(c call) bool {
		return c.has("docker", "pull") && strings.HasSuffix(c.String(), agentImage(t))
	}, "the services stack", services)
	runTask := func(c call) bool { return c.has("aws", "ecs", "run-task") }
	r.before(t, "the services stack", services, "the first migration", runTask)
	r.before(t, "the first migration", runTask, "the monitoring stack", deployOf("monitoring"))
	r.before(t, "the wait for the migration", func(c call) bool { return c.has("aws", "ecs", "wait", "tasks-stopped") },
		"the monitoring stack", deployOf("monitoring"))
	r.before(t, "the monitoring stack", deployOf("monitoring"), "the pipelines stack", deployOf("pipelines"))
}

func TestDeployRunsTheFirstMigrationInTheVPC(t *testing.T) {
	t.Parallel()
	r := deploySh(t, emptyAccount(), nil, "deploy", "dev")
	r.mustSucceed(t)
	i := r.index(func(c call) bool { return c.has("aws", "ecs", "run-task") })
	if i < 0 {
		t.Fatalf("no migration task; calls:\n%s", r.log())
	}
	c := r.calls[i]
	for flag, want := range map[string]string{
		"--cluster":         "coffee-suppliers-dev",
		"--task-definition": emptyAccount().Outputs["services"]["MigrationTaskDefinitionArn"],
		"--launch-type":     "FARGATE",
	} {
		if got := first(c.flag(flag)); got != want {
			t.Errorf("run-task %s %q, want %q", flag, got, want)
		}
	}
	net := first(c.flag("--network-configuration"))
	for _, want := range []string{"subnets=[subnet-a,subnet-b]", "securityGroups=[sg-migration]", "assignPublicIp=DISABLED"} {
		if !strings.Contains(net, want) {
			t.Errorf("run-task --network-configuration %q lacks %s", net, want)
		}
	}
	svc := r.w.Stacks["coffee-suppliers-dev-services"]
	if tag := "bootstrap-" + commit(t); svc == nil || svc.Params["MigrationImageTag"] != tag {
		t.Errorf("the services stack's MigrationImageTag is not %s: %+v", tag, svc)
	}
	if !strings.Contains(r.out, "migration") || !strings.Contains(r.out, "exit code 0") {
		t.Errorf("deploy.sh does not say the migration ended with exit code 0:\n%s", r.out)
	}
}

func TestDeployStopsWhenTheMigrationFails(t *testing.T) {
	t.Parallel()
	w := emptyAccount()
	w.ExitCode = 1
	r := deploySh(t, w, nil, "deploy", "dev")
	r.mustFail(t, "exit code 1", "/ecs/coffee-suppliers-dev/migration")
	if r.index(deployOf("monitoring")) >= 0 {
		t.Errorf("deploy.sh went on after the migration failed; calls:\n%s", r.log())
	}
}

func TestDeployImagesForTheTaskDefinitionsCPU(t *testing.T) {
	t.Parallel()
	r := deploySh(t, emptyAccount(), nil, "deploy", "dev") // on an arm64 workstation
	r.mustSucceed(t)
	tag := "bootstrap-" + commit(t)
	for _, img := range []string{"customer", "employee", "suppliersdb"} {
		repo := "coffee-suppliers-dev/" + img
		digest, ok := r.w.ECR[repo][tag]
		if !ok {
			t.Errorf("ECR has no %s:%s (the pipeline's first build must not find its commit's tag); it has %v", repo, tag, r.w.ECR[repo])
			continue
		}
		if !strings.HasPrefix(digest, "sha256:amd64") {
			t.Errorf("%s:%s is %s, want an amd64 image for the X86_64 task definitions", repo, tag, digest)
		}
		if _, ok := r.w.ECR[repo][commit(t)]; ok {
			t.Errorf("%s has the plain commit tag %s: the pipeline's first build would skip building", repo, commit(t))
		}
	}
	svc := r.w.Stacks["coffee-suppliers-dev-services"]
	if svc == nil || svc.Params["CustomerImageTag"] != tag || svc.Params["EmployeeImageTag"] != tag {
		t.Errorf("the services stack's image tags are not %s: %+v", tag, svc)
	}
}

// TestDeployBuildsEachImageForItsServicesCPU: with the administration on
// Graviton, its first image is arm64 and the catalogue's and the
// migration's stay amd64, each checked before the services stack.
func TestDeployBuildsEachImageForItsServicesCPU(t *testing.T) {
	t.Parallel()
	dir := paramsDir(t, "dev", func(p map[string]map[string]string) { p["services"]["EmployeeCpuArchitecture"] = "ARM64" })
	w := emptyAccount()
	w.Workstation = "amd64"
	r := deploySh(t, w, map[string]string{"PARAMS_DIR": dir}, "deploy", "dev")
	r.mustSucceed(t)
	tag := "bootstrap-" + commit(t)
	for img, arch := range map[string]string{"customer": "amd64", "employee": "arm64", "suppliersdb": "amd64"} {
		if got := r.w.ECR["coffee-suppliers-dev/"+img][tag]; !strings.HasPrefix(got, "sha256:"+arch) {
			t.Errorf("ECR's %s:%s is %q, want an %s image", img, tag, got, arch)
		}
	}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		r.before(t, "the "+p+" pull of the agent", func(c call) bool {
			return c.has("docker", "pull") && first(c.flag("--platform")) == p && strings.HasSuffix(c.String(), " "+agentImage(t))
		}, "the services stack", deployOf("services"))
	}
}

func TestDeployStopsOnAnImageForAnotherCPU(t *testing.T) {
	t.Parallel()
	w := emptyAccount()
	w.BuildArch = "arm64" // a builder that ignores --platform
	r := deploySh(t, w, nil, "deploy", "dev")
	r.mustFail(t, "arm64", "amd64")
	if r.index(deployOf("services")) >= 0 {
		t.Errorf("the services stack was deployed with arm64 images; calls:\n%s", r.log())
	}
}

func TestMakeImagesBuildsForThePlatform(t *testing.T) {
	t.Parallel()
	tool(t, "make", "the Makefile's images target")
	for platform, args := range map[string][]string{"linux/amd64": nil, "linux/arm64": {"PLATFORM=linux/arm64"}} {
		cmd := exec.Command("make", append([]string{"-n", "images"}, args...)...)
		cmd.Dir = repoRoot
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n images: %v\n%s", err, out)
		}
		if n := strings.Count(string(out), "docker build --platform "+platform+" "); n != 3 {
			t.Errorf("make -n images %v: %d builds for %s, want 3:\n%s", args, n, platform, out)
		}
	}
}

func TestDeployPullsTheAgentImageInBothEgressModes(t *testing.T) {
	t.Parallel()
	for _, egress := range []string{"NatGateway", "VpcEndpoints"} {
		t.Run(egress, func(t *testing.T) {
			t.Parallel()
			dir := paramsDir(t, "dev", func(p map[string]map[string]string) { p["network"]["Egress"] = egress })
			r := deploySh(t, emptyAccount(), map[string]string{"PARAMS_DIR": dir}, "deploy", "dev")
			r.mustSucceed(t)
			r.before(t, "the pull of "+agentImage(t), func(c call) bool {
				return c.has("docker", "pull") && first(c.flag("--platform")) == "linux/amd64" && strings.HasSuffix(c.String(), " "+agentImage(t))
			}, "the services stack", deployOf("services"))
			if _, ok := r.w.ECR["ecr-public-dev/cloudwatch-agent/cloudwatch-agent"]; !ok {
				t.Errorf("the pull-through cache holds no agent image after the deploy: %v", r.w.ECR)
			}
		})
	}
}

// paramsDir is a folder with a copy of infra/params/ENV.json, changed.
func paramsDir(t *testing.T, env string, change func(map[string]map[string]string)) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("params", env+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]map[string]string
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	change(p)
	return writeParams(t, env, p)
}

func writeParams(t *testing.T, env string, p any) string {
	t.Helper()
	dir := t.TempDir()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, env+".json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDeployRecreatesAStackWhoseCreationFailed(t *testing.T) {
	t.Parallel()
	for _, status := range []string{"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"} {
		t.Run(status, func(t *testing.T) {
			t.Parallel()
			w := emptyAccount()
			name := "coffee-suppliers-dev-network"
			w.Stacks[name] = &fakeStack{Status: status, Params: map[string]string{}, Events: []fakeEvent{
				{ID: "1", Logical: name, Type: "AWS::CloudFormation::Stack", Status: "CREATE_IN_PROGRESS", Reason: "User Initiated"},
				{ID: "2", Logical: "Vpc", Type: "AWS::EC2::VPC", Status: "CREATE_FAILED", Reason: "The maximum number of VPCs has been reached."},
				{ID: "3", Logical: name, Type: "AWS::CloudFormation::Stack", Status: status},
			}}
			r := deploySh(t, w, nil, "deploy", "dev")
			r.mustSucceed(t)
			if !strings.Contains(r.out, "The maximum number of VPCs has been reached.") {
				t.Errorf("deploy.sh does not say why the stack failed:\n%s", r.out)
			}
			del := func(c call) bool {
				return c.has("aws", "cloudformation", "delete-stack") && first(c.flag("--stack-name")) == name
			}
			r.before(t, "the deletion of the failed stack", del, "its new creation", deployOf("network"))
			r.before(t, "the wait for the deletion", func(c call) bool { return c.has("aws", "cloudformation", "wait", "stack-delete-complete") },
				"its new creation", deployOf("network"))
			if st := r.w.Stacks[name]; st == nil || st.Status != "CREATE_COMPLETE" {
				t.Errorf("the network stack is %+v, want created again", st)
			}
		})
	}
}

func TestDeploySaysWhyAStackFailed(t *testing.T) {
	t.Parallel()
	w := emptyAccount()
	w.FailCreate["data"] = "RDS does not support creating a DB instance with the following combination: DBInstanceClass=db.t4g.micro"
	r := deploySh(t, w, nil, "deploy", "dev")
	r.mustFail(t, w.FailCreate["data"])
	if r.index(deployOf("registry")) >= 0 {
		t.Errorf("deploy.sh went on after the data stack failed; calls:\n%s", r.log())
	}
}

func TestDeployShowsProgressAndWhereToSignIn(t *testing.T) {
	t.Parallel()
	r := deploySh(t, emptyAccount(), nil, "deploy", "dev")
	r.mustSucceed(t)
	t.Logf("what a person reads:\n%s", r.out)
	// Each stack's events as they happen, with the time since it began.
	for _, s := range stacks {
		name := "coffee-suppliers-dev-" + s
		if !regexp.MustCompile(`(?m)^\s*\[\d+:\d\d\]\s+` + regexp.QuoteMeta(name) + `\s.*CREATE_COMPLETE`).MatchString(r.out) {
			t.Errorf("no event line \"[m:ss] %s … CREATE_COMPLETE\" in the output:\n%s", name, r.out)
		}
	}
	for _, want := range []string{
		"http://coffee-suppliers-dev-1.eu-west-1.elb.amazonaws.com/",
		"coffee-suppliers-dev/first-admin",
		"aws secretsmanager get-secret-value --secret-id coffee-suppliers-dev/first-admin --region eu-west-1 --query SecretString --output text",
		"WARNING",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("the output does not say %q:\n%s", want, r.out)
		}
	}
}

func TestDeployRefusesProductionWithoutACertificate(t *testing.T) {
	t.Parallel()
	r := deploySh(t, deployedAccount(), nil, "deploy", "prod") // prod.json has no CertificateArn
	r.mustFail(t, "CertificateArn", "HTTPS")
	if len(r.calls) > 0 {
		t.Errorf("deploy.sh made calls before refusing:\n%s", r.log())
	}
}

func TestDeployUpdateKeepsTheServicesTaskDefinitions(t *testing.T) {
	t.Parallel()
	w := deployedAccount()
	r := deploySh(t, w, nil, "deploy", "dev")
	r.mustSucceed(t)
	i := r.index(deployOf("services"))
	if i < 0 {
		t.Fatalf("no update of the services stack; calls:\n%s", r.log())
	}
	overrides := r.calls[i].flag("--parameter-overrides")
	for param, output := range map[string]string{"CustomerTaskDefinitionArn": "CustomerServiceTaskDefinition", "EmployeeTaskDefinitionArn": "EmployeeServiceTaskDefinition"} {
		want := param + "=" + w.Outputs["services"][output]
		if !slices.Contains(overrides, want) {
			t.Errorf("the services update does not pass %s (CloudFormation must not change a CODE_DEPLOY service's task definition): %v", want, overrides)
		}
	}
	for _, o := range overrides {
		if strings.Contains(o, "ImageTag=") {
			t.Errorf("the services update sets %s; image tags keep their previous values", o)
		}
	}
	if j := r.index(func(c call) bool { return c.has("aws", "ecs", "run-task") || c.has("docker", "push") }); j >= 0 {
		t.Errorf("an update ran %s", r.calls[j])
	}
}

func TestDeployServiceLinkedRoles(t *testing.T) {
	t.Parallel()
	t.Run("already there", func(t *testing.T) {
		t.Parallel()
		w := emptyAccount()
		w.LinkedRoles = map[string]string{"ecs.amazonaws.com": "exists", "ecs.application-autoscaling.amazonaws.com": "exists"}
		deploySh(t, w, nil, "deploy", "dev").mustSucceed(t)
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		w := emptyAccount()
		w.LinkedRoles = map[string]string{"ecs.amazonaws.com": "An error occurred (AccessDenied) when calling the CreateServiceLinkedRole operation: not authorized to perform iam:CreateServiceLinkedRole"}
		r := deploySh(t, w, nil, "deploy", "dev")
		r.mustFail(t, "iam:CreateServiceLinkedRole")
		if r.index(deployOf("services")) >= 0 {
			t.Errorf("the services stack was deployed without ECS's service-linked role; calls:\n%s", r.log())
		}
	})
}

func TestDeployValidatesEveryParameterFirst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, env string
		change    func(map[string]map[string]string)
		want      []string
	}{
		{"misspelt key in the last stack", "dev", func(p map[string]map[string]string) { p["pipelines"]["Brnach"] = "main" }, []string{"pipelines", "Brnach"}},
		{"value not allowed", "dev", func(p map[string]map[string]string) { p["network"]["Egress"] = "Nat" }, []string{"Egress", "Nat"}},
		{"number below its minimum", "dev", func(p map[string]map[string]string) { p["registry"]["KeepImages"] = "2" }, []string{"KeepImages", "2"}},
		{"not a number", "dev", func(p map[string]map[string]string) { p["services"]["CustomerMaxTasks"] = "three" }, []string{"CustomerMaxTasks", "three"}},
		{"pattern", "dev", func(p map[string]map[string]string) { p["data"]["AdminEmail"] = "nobody" }, []string{"AdminEmail", "nobody"}},
		{"unknown stack", "dev", func(p map[string]map[string]string) { p["servics"] = map[string]string{} }, []string{"servics"}},
		{"bad environment name", "Dev", func(map[string]map[string]string) {}, []string{"Dev"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("params", "dev.json"))
			if err != nil {
				t.Fatal(err)
			}
			var p map[string]map[string]string
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			tc.change(p)
			dir := writeParams(t, tc.env, p)
			r := deploySh(t, emptyAccount(), map[string]string{"PARAMS_DIR": dir}, "deploy", tc.env)
			r.mustFail(t, tc.want...)
			if len(r.calls) > 0 {
				t.Errorf("deploy.sh made calls before refusing the parameters:\n%s", r.log())
			}
		})
	}
}

func TestDeployRegionAsBothCLIVersionsReadIt(t *testing.T) {
	t.Parallel()
	t.Run("AWS_REGION only", func(t *testing.T) {
		t.Parallel()
		// awscli v1 ignores AWS_REGION: every call must get the region another way.
		r := deploySh(t, emptyAccount(), nil, "deploy", "dev")
		r.mustSucceed(t)
		for _, c := range r.calls {
			if c.Tool == "aws" && c.Region != testRegion && !slices.Contains(c.Args, "--region") {
				t.Errorf("%s ran without the region (AWS_DEFAULT_REGION %q, no --region)", c, c.Region)
			}
		}
	})
	t.Run("the profile's", func(t *testing.T) {
		t.Parallel()
		w := emptyAccount()
		w.Region = "eu-west-1"
		r := deploySh(t, w, map[string]string{"AWS_REGION": ""}, "deploy", "dev")
		r.mustSucceed(t)
		for _, c := range r.calls {
			if c.Tool == "aws" && !c.has("aws", "configure") && c.Region != testRegion {
				t.Errorf("%s ran with AWS_DEFAULT_REGION %q, want the profile's %s", c, c.Region, testRegion)
			}
		}
	})
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		r := deploySh(t, emptyAccount(), map[string]string{"AWS_REGION": ""}, "deploy", "dev")
		r.mustFail(t, "AWS_REGION")
		for _, c := range r.calls {
			if !c.has("aws", "configure", "get", "region") {
				t.Errorf("deploy.sh called %s without a region", c)
			}
		}
	})
}

func TestTeardownClearsWhatBlocksDeletion(t *testing.T) {
	t.Parallel()
	w := deployedAccount()
	w.Deployments["customer"] = []string{"d-RELEASE1"}
	w.ECR["ecr-public-dev/cloudwatch-agent/cloudwatch-agent"] = map[string]string{"1": "sha256:agent"}
	r := deploySh(t, w, nil, "teardown", "dev")
	r.mustSucceed(t)
	del := func(stack string) func(call) bool {
		return func(c call) bool {
			return c.has("aws", "cloudformation", "delete-stack") && first(c.flag("--stack-name")) == "coffee-suppliers-dev-"+stack
		}
	}
	r.before(t, "stopping the release in progress", func(c call) bool {
		return c.has("aws", "deploy", "stop-deployment") && first(c.flag("--deployment-id")) == "d-RELEASE1"
	}, "the pipelines stack's deletion", del("pipelines"))
	r.before(t, "turning off the load balancer's deletion protection", func(c call) bool {
		return c.has("aws", "elbv2", "modify-load-balancer-attributes") && strings.Contains(c.String(), "Key=deletion_protection.enabled,Value=false")
	}, "the services stack's deletion", del("services"))
	if len(r.w.Stacks) != 0 {
		t.Errorf("stacks left: %v", sortedKeys(r.w.Stacks))
	}
	if _, ok := r.w.ECR["ecr-public-dev/cloudwatch-agent/cloudwatch-agent"]; ok {
		t.Errorf("the pull-through cache's repository is left")
	}
}

func TestTeardownStopsBeforeAProtectedDatabase(t *testing.T) {
	t.Parallel()
	w := deployedAccount()
	w.Stacks["coffee-suppliers-dev-data"].Params["DeletionProtection"] = "true"
	r := deploySh(t, w, nil, "teardown", "dev")
	r.mustFail(t, "DeletionProtection")
	if i := r.index(func(c call) bool {
		return c.has("aws", "cloudformation", "delete-stack") || c.has("aws", "s3", "rm") || c.has("aws", "deploy", "stop-deployment")
	}); i >= 0 {
		t.Errorf("teardown began (%s) although the data stack cannot be deleted", r.calls[i])
	}
}

// A services stack from before the migration task has no MigrationImageTag:
// the update builds and pushes the suppliersdb image and names it, and
// rebuilds nothing else.
func TestDeployUpdateAddsTheMigrationImage(t *testing.T) {
	t.Parallel()
	w := deployedAccount()
	delete(w.Stacks["coffee-suppliers-dev-services"].Params, "MigrationImageTag")
	delete(w.ECR, "coffee-suppliers-dev/suppliersdb")
	r := deploySh(t, w, nil, "deploy", "dev")
	r.mustSucceed(t)
	tag := "bootstrap-" + commit(t)
	if _, ok := r.w.ECR["coffee-suppliers-dev/suppliersdb"][tag]; !ok {
		t.Errorf("no suppliersdb:%s in ECR: %v", tag, r.w.ECR)
	}
	if got := r.w.Stacks["coffee-suppliers-dev-services"].Params["MigrationImageTag"]; got != tag {
		t.Errorf("the services stack's MigrationImageTag is %q, want %s", got, tag)
	}
	for _, svc := range []string{"customer", "employee"} {
		if i := r.index(func(c call) bool { return c.has("docker", "push") && strings.Contains(c.String(), "/"+svc+":") }); i >= 0 {
			t.Errorf("the update pushed %s", r.calls[i])
		}
	}
}

// seedBucket is the short-lived bucket of the repository's first commit.
const seedBucket = "coffee-suppliers-dev-seed-" + testAccount + "-" + testRegion

// s3Call matches `aws s3 VERB …`.
func s3Call(verb string) func(call) bool {
	return func(c call) bool { return c.has("aws", "s3", verb) }
}

// TestDeploySeedsTheCodeCommitRepository: CodePipeline runs each pipeline
// once when it is created, and against an empty CodeCommit repository that
// run fails in Source. Created by deploy.sh, the repository's branch
// starts with the committed source (git archive of HEAD), put in a bucket
// that exists for the purpose and is removed once the stack is created.
func TestDeploySeedsTheCodeCommitRepository(t *testing.T) {
	t.Parallel()
	r := deploySh(t, emptyAccount(), nil, "deploy", "dev")
	r.mustSucceed(t)
	i := r.index(deployOf("pipelines"))
	if i < 0 {
		t.Fatalf("no pipelines stack; calls:\n%s", r.log())
	}
	key := "source-" + commit(t) + ".zip"
	overrides := r.calls[i].flag("--parameter-overrides")
	for _, want := range []string{"InitialSourceBucket=" + seedBucket, "InitialSourceKey=" + key} {
		if !slices.Contains(overrides, want) {
			t.Errorf("the pipelines stack's creation does not pass %s: %v", want, overrides)
		}
	}
	r.before(t, "the seed bucket", s3Call("mb"), "the upload of the source", s3Call("cp"))
	r.before(t, "the upload of the source", s3Call("cp"), "the pipelines stack", deployOf("pipelines"))
	r.before(t, "the pipelines stack", deployOf("pipelines"), "the seed bucket's removal", s3Call("rb"))
	files := r.w.Seeded["coffee-suppliers-dev-pipelines"]
	for _, want := range []string{"buildspec.yml", "infra/deploy.sh", "go.work"} {
		if !slices.Contains(files, want) {
			t.Errorf("the repository's first commit has no %s (a zip of HEAD, its files at the top): %d files %v", want, len(files), files[:min(5, len(files))])
		}
	}
	if len(r.w.Buckets) != 0 {
		t.Errorf("buckets left after the deploy: %v", sortedKeys(r.w.Buckets))
	}
	// The seed is a snapshot, not the workstation's history: the first
	// push must replace it.
	if !strings.Contains(r.out, "git push --force "+emptyAccount().Outputs["pipelines"]["RepositoryCloneUrl"]+" HEAD:main") {
		t.Errorf("deploy.sh does not say the first push replaces the seeded snapshot:\n%s", r.out)
	}
}

// TestDeployRemovesTheSeedWhenThePipelinesFail: the bucket goes even when
// the stack's creation fails.
func TestDeployRemovesTheSeedWhenThePipelinesFail(t *testing.T) {
	t.Parallel()
	w := emptyAccount()
	w.FailCreate["pipelines"] = "Resource handler returned message: \"Repository limit exceeded\""
	r := deploySh(t, w, nil, "deploy", "dev")
	r.mustFail(t, "Repository limit exceeded")
	if r.index(s3Call("cp")) < 0 {
		t.Fatalf("no seed was uploaded; calls:\n%s", r.log())
	}
	if len(r.w.Buckets) != 0 {
		t.Errorf("buckets left after the failed creation: %v; calls:\n%s", sortedKeys(r.w.Buckets), r.log())
	}
}

// TestDeploySeedsOnlyANewCodeCommitRepository: an update (CloudFormation
// ignores Code after the creation) and a GitHub source pass no seed.
func TestDeploySeedsOnlyANewCodeCommitRepository(t *testing.T) {
	t.Parallel()
	github := paramsDir(t, "dev", func(p map[string]map[string]string) {
		p["pipelines"]["ConnectionArn"] = "arn:aws:codeconnections:eu-west-1:" + testAccount + ":connection/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
		p["pipelines"]["GitHubRepository"] = "coffee-suppliers/coffee-suppliers"
	})
	for name, tc := range map[string]struct {
		w   *world
		env map[string]string
	}{
		"update":           {deployedAccount(), nil},
		"GitHub, creation": {emptyAccount(), map[string]string{"PARAMS_DIR": github}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := deploySh(t, tc.w, tc.env, "deploy", "dev")
			r.mustSucceed(t)
			i := r.index(deployOf("pipelines"))
			if i < 0 {
				t.Fatalf("no pipelines stack; calls:\n%s", r.log())
			}
			for _, o := range r.calls[i].flag("--parameter-overrides") {
				if strings.HasPrefix(o, "InitialSource") {
					t.Errorf("the pipelines stack gets %s", o)
				}
			}
			if j := r.index(func(c call) bool { return c.has("aws", "s3") && !c.has("aws", "s3", "rm") }); j >= 0 {
				t.Errorf("deploy.sh ran %s", r.calls[j])
			}
			if strings.Contains(r.out, "--force") {
				t.Errorf("deploy.sh tells to force a push without having seeded:\n%s", r.out)
			}
		})
	}
}

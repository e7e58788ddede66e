package infra

// Checks of the platform stacks (network, data, monitoring, pipelines) and
// buildspec.yml for AWS behaviours that neither moto nor cfn-lint model;
// each cites the documentation it encodes. The rules that are easier to
// say over any template live in lint-rules/platform_*.py (cfn-lint).

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
	"github.com/coffee-suppliers/coffee-suppliers/infra/internal/buildspec"
)

// environments are the parameter files in params/, by name.
func environments(t *testing.T) map[string]map[string]map[string]string {
	t.Helper()
	files, err := filepath.Glob("params/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("params/*.json: %v %v", files, err)
	}
	out := map[string]map[string]map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var env map[string]map[string]string
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = env
	}
	return out
}

// param is an environment's value of a stack's parameter: the file's, else
// the template's default ("" when neither has one).
func param(t *testing.T, env map[string]map[string]string, stack, name string) string {
	t.Helper()
	if v, ok := env[stack][name]; ok {
		return v
	}
	return cfn.Scalar(templates(t)[stack].Parameters[name]["Default"])
}

func atoi(t *testing.T, what, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s = %q, want a whole number", what, s)
	}
	return n
}

// TestPlatformLintRulesFire: cfn-lint loads lint-rules/ (as TestCfnLint
// runs it), and each platform rule fires on the mistake it names
// (testdata/platform-lint-mistakes.yaml), so a clean TestCfnLint means the
// rules ran and found nothing.
func TestPlatformLintRulesFire(t *testing.T) {
	t.Parallel()
	lint := tool(t, "cfn-lint", "pip install cfn-lint")
	out, err := exec.CommandContext(t.Context(), lint, filepath.Join("testdata", "platform-lint-mistakes.yaml"), "--append-rules", "lint-rules").CombinedOutput()
	if err == nil {
		t.Fatalf("cfn-lint found nothing wrong in the mistakes file:\n%s", out)
	}
	// The customer managed key case of E9201, beside the AWS managed one.
	if !strings.Contains(string(out), "does not allow cloudwatch.amazonaws.com") {
		t.Errorf("E9201 did not refuse a topic key whose policy leaves CloudWatch out:\n%s", out)
	}
	rules, err := filepath.Glob("lint-rules/platform_*.py")
	if err != nil || len(rules) == 0 {
		t.Fatalf("no lint-rules/platform_*.py: %v", err)
	}
	ids := regexp.MustCompile(`(?m)^\s*id = "(E9[2-9]\d\d)"`)
	seen := map[string]bool{}
	for _, f := range rules {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := ids.FindAllStringSubmatch(string(b), -1)
		if len(m) == 0 {
			t.Errorf("%s declares no rule id in E9200-E9299", f)
		}
		for _, id := range m {
			if seen[id[1]] {
				t.Errorf("rule id %s declared twice", id[1])
			}
			seen[id[1]] = true
			if !strings.Contains(string(out), id[1]+" ") {
				t.Errorf("rule %s (%s) did not fire on its mistake:\n%s", id[1], f, out)
			}
		}
	}
}

// TestGitHubConnectionsOfBothPrefixes: connections made since 2024 have
// codeconnections ARNs, older ones codestar-connections ARNs; IAM matches
// an action's prefix against the resource's, so the pipelines' roles grant
// UseConnection under both, and the parameter accepts both.
// https://docs.aws.amazon.com/dtconsole/latest/userguide/security-iam.html
// ("When specifying a resource in the IAM policy, the service prefix needs
// to match that of the resource.")
func TestGitHubConnectionsOfBothPrefixes(t *testing.T) {
	t.Parallel()
	p := templates(t)["pipelines"].Parameters["ConnectionArn"]
	pattern, err := regexp.Compile(cfn.Scalar(p["AllowedPattern"]))
	if err != nil || cfn.Scalar(p["AllowedPattern"]) == "" {
		t.Fatalf("ConnectionArn's AllowedPattern %q: %v", cfn.Scalar(p["AllowedPattern"]), err)
	}
	for arn, ok := range map[string]bool{
		"": true, // CodeCommit
		"arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d":      true,
		"arn:aws:codestar-connections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d": true,
		"arn:aws-us-gov:codeconnections:us-gov-west-1:123456789012:connection/0a1b2c3d":                       true,
		"arn:aws:codecommit:eu-west-1:123456789012:coffee":                                                    false,
		"owner/repository": false,
	} {
		if got := pattern.MatchString(arn); got != ok {
			t.Errorf("ConnectionArn %q accepted = %v, want %v", arn, got, ok)
		}
	}
	for _, svc := range services {
		role := resource(t, "pipelines", title(svc)+"PipelineRole", "AWS::IAM::Role")
		granted := map[string]bool{}
		walk(role.Properties["Policies"], func(m map[string]any) {
			if ref(m["Resource"]) != "ConnectionArn" {
				return
			}
			for _, a := range append(strs(m["Action"]), cfn.Scalar(m["Action"])) {
				granted[a] = true
			}
		})
		for _, a := range []string{"codeconnections:UseConnection", "codestar-connections:UseConnection"} {
			if !granted[a] {
				t.Errorf("%s pipeline role: no %s on ConnectionArn (have %v)", svc, a, sortedKeys(granted))
			}
		}
	}
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Update pending connection", "PENDING", "AVAILABLE"} {
		if !strings.Contains(string(doc), w) {
			t.Errorf("docs/deploy.md does not explain the pending connection handshake (no %q)", w)
		}
	}
}

// instanceClasses reads data.yaml's InstanceClasses table (the cfn package
// keeps no Mappings).
func instanceClasses(t *testing.T) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("templates", "data.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Mappings map[string]map[string]map[string]any `yaml:"Mappings"`
	}
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatalf("data.yaml: %v", err)
	}
	classes := tpl.Mappings["InstanceClasses"]
	if len(classes) == 0 {
		t.Fatal("data.yaml has no Mappings.InstanceClasses table (memory, max_connections, alarm threshold per class)")
	}
	return classes
}

// parameterGroup returns the database's parameter group's parameters.
func parameterGroup(t *testing.T) (family string, params map[string]any) {
	t.Helper()
	db := resource(t, "data", "Database", "AWS::RDS::DBInstance").Properties
	name := ref(db["DBParameterGroupName"])
	if name == "" {
		t.Fatal("the database has no DBParameterGroupName: RDS's default group, which cannot require TLS")
	}
	g := resource(t, "data", name, "AWS::RDS::DBParameterGroup").Properties
	params, _ = g["Parameters"].(map[string]any)
	return cfn.Scalar(g["Family"]), params
}

// TestDatabaseRequiresTLS: the server refuses clients without TLS, and the
// migration connects with TLS verified against the RDS certificate bundle
// that the build step takes from the suppliersdb image.
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mysql-ssl-connections.require-ssl.html
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html
func TestDatabaseRequiresTLS(t *testing.T) {
	t.Parallel()
	family, params := parameterGroup(t)
	want(t, "parameter group family", family, "mysql8.4")
	want(t, "require_secure_transport", params["require_secure_transport"], "1")

	migrate := resource(t, "pipelines", "MigrateProject", "AWS::CodeBuild::Project").Properties
	env := map[string]string{}
	for _, e := range list(at(migrate, "Environment", "EnvironmentVariables")) {
		env[cfn.Scalar(at(e, "Name"))] = cfn.Scalar(at(e, "Value"))
	}
	want(t, "the migration's APP_DB_TLS", env["APP_DB_TLS"], "verify")
	spec := cfn.Scalar(at(migrate, "Source", "BuildSpec"))
	m := regexp.MustCompile(`APP_DB_CA_FILE="\$PWD/([^"]+)"`).FindStringSubmatch(spec)
	if m == nil {
		t.Fatalf("the migration's buildspec does not point APP_DB_CA_FILE at a file of its input artifact:\n%s", spec)
	}
	bundle := m[1]

	// buildspec.yml copies that file out of the suppliersdb image into the
	// Migration artifact.
	b, err := os.ReadFile(filepath.Join(repoRoot, "buildspec.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var bs struct {
		Phases    map[string]struct{ Commands []string }
		Artifacts struct {
			SecondaryArtifacts map[string]struct {
				BaseDirectory string   `yaml:"base-directory"`
				Files         []string `yaml:"files"`
			} `yaml:"secondary-artifacts"`
		}
	}
	if err := yaml.Unmarshal(b, &bs); err != nil {
		t.Fatal(err)
	}
	art := bs.Artifacts.SecondaryArtifacts["Migration"]
	if !slices.Contains(art.Files, bundle) {
		t.Errorf("the Migration artifact holds %v, not %s", art.Files, bundle)
	}
	copied := false
	for _, c := range bs.Phases["post_build"].Commands {
		if strings.Contains(c, ":/etc/ssl/certs/rds-ca-bundle.pem") && strings.Contains(c, art.BaseDirectory+"/"+bundle) {
			copied = true
		}
	}
	if !copied {
		t.Errorf("buildspec.yml's post_build does not copy /etc/ssl/certs/rds-ca-bundle.pem from the suppliersdb image to %s/%s", art.BaseDirectory, bundle)
	}
}

// TestDatabaseLogs: the error and slow query logs reach CloudWatch Logs,
// into log groups the stack creates first with a retention (RDS would
// otherwise create them, kept forever, and the stack could not create them
// later). Slow queries are logged to FILE, the only output RDS publishes.
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQLDB.PublishtoCloudWatchLogs.html
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQL.LogFileSize.html
func TestDatabaseLogs(t *testing.T) {
	t.Parallel()
	db := resource(t, "data", "Database", "AWS::RDS::DBInstance")
	exports := strs(db.Properties["EnableCloudwatchLogsExports"])
	for _, l := range []string{"error", "slowquery"} {
		if !slices.Contains(exports, l) {
			t.Errorf("the database does not export its %s log (exports %v)", l, exports)
		}
	}
	_, params := parameterGroup(t)
	want(t, "slow_query_log", params["slow_query_log"], "1")
	want(t, "log_output", params["log_output"], "FILE")
	if s := cfn.Scalar(params["long_query_time"]); s == "" {
		t.Error("no long_query_time: the slow query log would use MySQL's 10 seconds")
	}
	id, _ := at(db.Properties, "DBInstanceIdentifier", "Fn::Sub").(string)
	if id == "" {
		t.Fatal("the database has no fixed DBInstanceIdentifier, so its log groups' names are unknown to the template")
	}
	groups := map[string]string{}
	for name, g := range ofType(t, "data", "AWS::Logs::LogGroup") {
		n, _ := at(g.Properties, "LogGroupName", "Fn::Sub").(string)
		groups[n] = name
		if g.Properties["RetentionInDays"] == nil {
			t.Errorf("log group %s keeps its logs forever", name)
		}
	}
	deps := strs(db.DependsOn)
	if s := cfn.Scalar(db.DependsOn); s != "" && len(deps) == 0 {
		deps = []string{s}
	}
	for _, l := range exports {
		name, ok := groups["/aws/rds/instance/"+id+"/"+l]
		if !ok {
			t.Errorf("no log group /aws/rds/instance/%s/%s (have %v)", id, l, sortedKeys(groups))
			continue
		}
		if !slices.Contains(deps, name) {
			t.Errorf("the database does not depend on %s: RDS could create the group first, and the stack would fail", name)
		}
	}
}

// TestPerformanceInsightsWhereSupported: Performance Insights is on for the
// classes that support it and off (it would fail the stack) for the small
// burstable ones.
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DatabaseInsights.Engines.html
// ("Database Insights isn't supported for ... db.t3.micro, db.t3.small,
// db.t4g.micro, db.t4g.small" for RDS for MySQL)
func TestPerformanceInsightsWhereSupported(t *testing.T) {
	t.Parallel()
	unsupported := map[string]bool{"db.t2.micro": true, "db.t2.small": true, "db.t3.micro": true, "db.t3.small": true, "db.t4g.micro": true, "db.t4g.small": true}
	for class, row := range instanceClasses(t) {
		if got, w := cfn.Scalar(row["PerformanceInsights"]), strconv.FormatBool(!unsupported[class]); got != w {
			t.Errorf("InstanceClasses[%s].PerformanceInsights = %q, want %q", class, got, w)
		}
	}
	db := resource(t, "data", "Database", "AWS::RDS::DBInstance").Properties
	branches := list(at(db, "EnablePerformanceInsights", "Fn::If"))
	if len(branches) != 3 || cfn.Scalar(branches[1]) != "true" || cfn.Scalar(branches[2]) != "false" {
		t.Fatalf("EnablePerformanceInsights = %v, want !If [<supported>, true, false]", db["EnablePerformanceInsights"])
	}
	cond, _ := json.Marshal(templates(t)["data"].Conditions[cfn.Scalar(branches[0])])
	if !strings.Contains(string(cond), `"InstanceClasses"`) || !strings.Contains(string(cond), `"PerformanceInsights"`) {
		t.Errorf("condition %s does not read InstanceClasses' PerformanceInsights column: %s", branches[0], cond)
	}
}

// poolSize is the database pool each task of an environment opens: the
// parameter file's services.DatabasePoolSize, else services.yaml's default.
// A services.yaml without the parameter leaves APP_DB_MAX_OPEN_CONNS unset
// (pkg/suppliers' default, 20); the check then assumes 10, a placeholder
// from before the parameter existed, which no environment fits either.
func poolSize(t *testing.T, env map[string]map[string]string) int {
	t.Helper()
	if s := param(t, env, "services", "DatabasePoolSize"); s != "" {
		return atoi(t, "DatabasePoolSize", s)
	}
	return 10
}

// migrationConnections is what the migration step holds: its pool, once
// for each pipeline (both run Migrate on the same push; the second waits
// on the first's lock, holding its connection).
func migrationConnections(t *testing.T) int {
	t.Helper()
	migrate := resource(t, "pipelines", "MigrateProject", "AWS::CodeBuild::Project").Properties
	for _, e := range list(at(migrate, "Environment", "EnvironmentVariables")) {
		if cfn.Scalar(at(e, "Name")) == "APP_DB_MAX_OPEN_CONNS" {
			return len(services) * atoi(t, "the migration's APP_DB_MAX_OPEN_CONNS", cfn.Scalar(at(e, "Value")))
		}
	}
	t.Fatal("the migration project sets no APP_DB_MAX_OPEN_CONNS: it would open up to 20 connections")
	return 0
}

// operatorConnections are kept free for a person with a mysql client.
const operatorConnections = 1

// TestConnectionLimitHasOneSource: the parameter group sets each instance
// class's max_connections from data.yaml's InstanceClasses, and the
// connections alarm fires at that table's 80 %.
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections
// (RDS for MySQL's default, {DBInstanceClassMemory/12582880}, depends on
// memory RDS reserves for itself; an explicit max_connections below it
// makes the budget of TestDatabaseConnectionsFit exact.)
func TestConnectionLimitHasOneSource(t *testing.T) {
	t.Parallel()
	classes := instanceClasses(t)
	for class, row := range classes {
		memory := atoi(t, class+" MemoryMiB", cfn.Scalar(row["MemoryMiB"]))
		max := atoi(t, class+" MaxConnections", cfn.Scalar(row["MaxConnections"]))
		// The default formula on the whole memory is an upper bound.
		if ceiling := memory * 1024 * 1024 / 12582880; max > ceiling {
			t.Errorf("%s: MaxConnections %d exceeds %d, RDS's default on all of its %d MiB", class, max, ceiling, memory)
		}
		if alarm, w := atoi(t, class+" ConnectionsAlarm", cfn.Scalar(row["ConnectionsAlarm"])), int(math.Floor(0.8*float64(max))); alarm != w {
			t.Errorf("%s: ConnectionsAlarm %d, want 80 %% of %d = %d", class, alarm, max, w)
		}
	}
	// Only classes in the table can be chosen.
	allowed := strs(templates(t)["data"].Parameters["InstanceClass"]["AllowedValues"])
	if !slices.Equal(slices.Sorted(slices.Values(allowed)), sortedKeys(classes)) {
		t.Errorf("InstanceClass allows %v, the table has %v", allowed, sortedKeys(classes))
	}
	// The parameter group and the alarm read the table.
	_, params := parameterGroup(t)
	if s, _ := json.Marshal(params["max_connections"]); !strings.Contains(string(s), `"Fn::FindInMap":["InstanceClasses",{"Ref":"InstanceClass"},"MaxConnections"]`) {
		t.Errorf("max_connections = %s, want !FindInMap [InstanceClasses, !Ref InstanceClass, MaxConnections]", s)
	}
	var exported string
	for name, o := range templates(t)["data"].Outputs {
		if s, _ := json.Marshal(o["Value"]); strings.Contains(string(s), `"ConnectionsAlarm"`) {
			exported, _ = at(o["Export"], "Name", "Fn::Sub").(string)
			if !strings.Contains(string(s), `{"Ref":"InstanceClass"}`) {
				t.Errorf("output %s does not look the class up: %s", name, s)
			}
		}
	}
	alarm := resource(t, "monitoring", "DatabaseConnectionsAlarm", "AWS::CloudWatch::Alarm").Properties
	if exported == "" || importSub(alarm["Threshold"]) != exported {
		t.Errorf("the connections alarm's threshold is %v, want the data stack's export of ConnectionsAlarm (%q)", alarm["Threshold"], exported)
	}
}

// TestDatabaseConnectionsFit: during a release, blue and green tasks of
// both services run side by side, each with a full pool, while both
// pipelines' migrations run; all of them fit within each environment's
// instance class's max_connections (TestConnectionLimitHasOneSource).
func TestDatabaseConnectionsFit(t *testing.T) {
	t.Parallel()
	classes := instanceClasses(t)
	for name, env := range environments(t) {
		class := param(t, env, "data", "InstanceClass")
		row, ok := classes[class]
		if !ok {
			t.Errorf("%s: instance class %s is not in data.yaml's InstanceClasses", name, class)
			continue
		}
		max := atoi(t, class+" MaxConnections", cfn.Scalar(row["MaxConnections"]))
		tasks := atoi(t, name+" CustomerMaxTasks", param(t, env, "services", "CustomerMaxTasks")) +
			atoi(t, name+" EmployeeMaxTasks", param(t, env, "services", "EmployeeMaxTasks"))
		pool := poolSize(t, env)
		need := tasks*2*pool + migrationConnections(t) + operatorConnections
		if need > max {
			t.Errorf("%s: %d tasks x 2 (blue and green) x pool %d + migration %d + operator %d = %d connections, %s allows %d: lower services.DatabasePoolSize to %d or choose a larger class",
				name, tasks, pool, migrationConnections(t), operatorConnections, need, class, max, (max-migrationConnections(t)-operatorConnections)/(tasks*2))
		}
	}
}

// TestArtifactsOutliveTheRollbackWindow: `aws codepipeline rollback-stage`
// to an earlier execution re-runs its Deploy stage with that execution's
// artifacts from the bucket; docs/deploy.md promises a rollback to any of
// the last KeepImages releases for ArtifactRetentionDays.
// https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html
// ("the source revisions and variables from the target execution")
func TestArtifactsOutliveTheRollbackWindow(t *testing.T) {
	t.Parallel()
	const minimumDays = 90
	rule := at(resource(t, "pipelines", "ArtifactBucket", "AWS::S3::Bucket").Properties, "LifecycleConfiguration", "Rules", 0)
	if ref(at(rule, "ExpirationInDays")) != "ArtifactRetentionDays" {
		t.Fatalf("the artifact bucket expires objects after %v, want !Ref ArtifactRetentionDays", at(rule, "ExpirationInDays"))
	}
	for name, env := range environments(t) {
		if days := atoi(t, name+" ArtifactRetentionDays", param(t, env, "pipelines", "ArtifactRetentionDays")); days < minimumDays {
			t.Errorf("%s keeps pipeline artifacts %d days: a rollback-stage to a release older than that fails; keep at least %d", name, days, minimumDays)
		}
	}
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "ArtifactRetentionDays") {
		t.Error("docs/deploy.md's rollback section does not say how long artifacts are kept (ArtifactRetentionDays)")
	}
}

// TestPublicSubnetCidrsExported: the services' TRUSTED_PROXIES are the
// load balancer's subnets, exported as one comma-separated value.
func TestPublicSubnetCidrsExported(t *testing.T) {
	t.Parallel()
	o := templates(t)["network"].Outputs["PublicSubnetCidrs"]
	want(t, "PublicSubnetCidrs export", at(o, "Export", "Name", "Fn::Sub"), "coffee-suppliers-${EnvName}-PublicSubnetCidrs")
	parts := list(at(o, "Value", "Fn::Join", 1))
	if cfn.Scalar(at(o, "Value", "Fn::Join", 0)) != "," || len(parts) != 2 {
		t.Fatalf("PublicSubnetCidrs = %v, want !Join [\",\", [...]] of the two public subnets' CIDRs", o["Value"])
	}
	for i, sn := range []string{"PublicSubnetA", "PublicSubnetB"} {
		cidr := ref(resource(t, "network", sn, "AWS::EC2::Subnet").Properties["CidrBlock"])
		if ref(parts[i]) != cidr {
			t.Errorf("PublicSubnetCidrs[%d] = %v, want !Ref %s (%s's CIDR)", i, parts[i], cidr, sn)
		}
	}
}

// TestBuildPullsBaseImagesFromECRPublic: CodeBuild's anonymous Docker Hub
// pulls hit the rate limit, so without GO_IMAGE the build takes the same
// golang tag the Dockerfiles name from ECR Public's Docker Official Images.
// distroless stays on gcr.io, which has no anonymous pull limit of that
// kind and is not mirrored there.
// https://docs.docker.com/docker-hub/usage/ (limits for unauthenticated pulls)
// https://gallery.ecr.aws/docker/library/golang
// The build phase runs with a stand-in docker that records its calls.
func TestBuildPullsBaseImagesFromECRPublic(t *testing.T) {
	t.Parallel()
	script, err := buildspec.Script(repoRoot, "build")
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]bool{}
	for _, f := range []string{"services/customer/Dockerfile", "services/employee/Dockerfile", "pkg/suppliers/cmd/suppliersdb/Dockerfile"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^ARG GO_IMAGE=(\S+)$`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s declares no ARG GO_IMAGE default", f)
		}
		tags[string(m[1])] = true
	}
	if len(tags) != 1 {
		t.Fatalf("the Dockerfiles' GO_IMAGE defaults differ: %v", sortedKeys(tags))
	}
	wantGo := "public.ecr.aws/docker/library/" + sortedKeys(tags)[0]

	for name, env := range map[string][]string{
		"default":    nil,
		"overridden": {"GO_IMAGE=registry.example/golang:x"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			calls := filepath.Join(dir, "docker-calls")
			// docker pull fails (a new commit), every other call succeeds.
			stub := "#!/bin/bash\nprintf '%s\\n' \"$*\" >> " + calls + "\n[ \"$1\" != pull ]\n"
			if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(stub), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(t.Context(), "bash", "-c", script)
			cmd.Dir = repoRoot
			cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "SERVICE=customer",
				"REPOSITORY_URI=123456789012.dkr.ecr.us-east-1.amazonaws.com/coffee-suppliers-ci/customer",
				"CODEBUILD_RESOLVED_SOURCE_VERSION=0123456789abcdef0123456789abcdef01234567", "CODEBUILD_BUILD_NUMBER=7",
				"GO_IMAGE=", "RUNTIME_IMAGE=")
			cmd.Env = append(cmd.Env, env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("buildspec.yml's build phase: %v\n%s", err, out)
			}
			b, err := os.ReadFile(calls)
			if err != nil {
				t.Fatal(err)
			}
			builds := 0
			for _, call := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if !strings.HasPrefix(call, "build ") {
					continue
				}
				builds++
				w := wantGo
				if name == "overridden" {
					w = "registry.example/golang:x"
				}
				if !strings.Contains(call, "--build-arg GO_IMAGE="+w+" ") {
					t.Errorf("docker %s\nwant --build-arg GO_IMAGE=%s", call, w)
				}
			}
			if builds != 2 {
				t.Errorf("%d docker builds, want the service's and suppliersdb's:\n%s", builds, b)
			}
		})
	}
}

// TestServiceRolesTrustOnlyThisAccount: E9202 (lint-rules) requires an
// aws:SourceAccount condition on the roles AWS services assume; this checks
// each such condition names this account.
func TestServiceRolesTrustOnlyThisAccount(t *testing.T) {
	t.Parallel()
	n := 0
	for _, stack := range []string{"data", "monitoring", "pipelines"} {
		for name, r := range ofType(t, stack, "AWS::IAM::Role") {
			walk(r.Properties["AssumeRolePolicyDocument"], func(m map[string]any) {
				v, ok := m["aws:SourceAccount"]
				if !ok {
					return
				}
				n++
				if ref(v) != "AWS::AccountId" {
					t.Errorf("%s: role %s's aws:SourceAccount is %v, want !Ref AWS::AccountId", stack, name, v)
				}
			})
		}
	}
	if n == 0 {
		t.Error("no role of the platform stacks names aws:SourceAccount")
	}
}

// TestPipelinesDoNotFailOnCreation: CodePipeline starts a pipeline once
// when it is created; against an empty CodeCommit repository that run fails
// in Source (the branch does not exist). Given a zip of the source, the
// template seeds the branch the pipelines read, so their first run releases
// it. https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-about-starting.html
// ("When a pipeline is created, a pipeline execution starts automatically.")
func TestPipelinesDoNotFailOnCreation(t *testing.T) {
	t.Parallel()
	repo := resource(t, "pipelines", "Repository", "AWS::CodeCommit::Repository").Properties
	seed := list(at(repo, "Code", "Fn::If"))
	if len(seed) != 3 || ref(at(seed, 1, "BranchName")) != "Branch" ||
		ref(at(seed, 1, "S3", "Bucket")) != "InitialSourceBucket" || ref(at(seed, 1, "S3", "Key")) != "InitialSourceKey" {
		t.Fatalf("the CodeCommit repository is created empty: Code = %v, want !If [<seed given>, {BranchName: !Ref Branch, S3: InitialSourceBucket/InitialSourceKey}, NoValue]", repo["Code"])
	}
	for _, svc := range services {
		p := resource(t, "pipelines", title(svc)+"Pipeline", "AWS::CodePipeline::Pipeline").Properties
		codecommit := at(p, "Stages", 0, "Actions", 0, "Fn::If", 2)
		want(t, svc+" CodeCommit source", at(codecommit, "ActionTypeId", "Provider"), "CodeCommit")
		if ref(at(codecommit, "Configuration", "BranchName")) != "Branch" {
			t.Errorf("%s pipeline reads branch %v, not the seeded one (!Ref Branch)", svc, at(codecommit, "Configuration", "BranchName"))
		}
	}
}

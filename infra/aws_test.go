package infra

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// TestCfnLint: every template passes cfn-lint, CloudFormation's own schemas
// and rules, with no exception configured.
func TestCfnLint(t *testing.T) {
	t.Parallel()
	lint := tool(t, "cfn-lint", "pip install cfn-lint")
	files, err := filepath.Glob("templates/*.yaml")
	if err != nil || len(files) != len(stacks) {
		t.Fatalf("templates: %v %v", files, err)
	}
	cmd := exec.CommandContext(t.Context(), lint, append(files, "--append-rules", "lint-rules")...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint %v: %v\n%s", files, err, out)
	}
	version, _ := exec.CommandContext(t.Context(), lint, "--version").Output()
	t.Logf("%s: %d templates clean", bytes.TrimSpace(version), len(files))
}

// fakeAccount is what deployment/render.sh gets in the tests: the shapes of
// real values in an account 123456789012 and environment "ci".
var fakeAccount = map[string]string{
	"AWS_REGION":             "us-east-1",
	"AWS_ACCOUNT_ID":         "123456789012",
	"ENV_NAME":               "ci",
	"DB_HOST":                "coffee-suppliers-ci.c0ffee123456.us-east-1.rds.amazonaws.com",
	"SESSION_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:coffee-suppliers-ci/session-key-AbCdEf",
	"ADMIN_SECRET_ARN":       "arn:aws:secretsmanager:us-east-1:123456789012:secret:coffee-suppliers-ci/first-admin-AbCdEf",
	"TRUSTED_PROXIES":        "10.0.0.0/20,10.0.16.0/20",
	"DB_POOL_SIZE":           "5",
	"EXECUTION_ROLE_ARN":     "arn:aws:iam::123456789012:role/coffee-suppliers-ci-execution",
	"TASK_ROLE_ARN":          "arn:aws:iam::123456789012:role/coffee-suppliers-ci-task",
}

func dbSecretArn(svc string) string {
	return "arn:aws:secretsmanager:us-east-1:123456789012:secret:coffee-suppliers-ci/" + svc + "-db-password-AbCdEf"
}

// render runs deployment/render.sh on a deployment file with env.
func render(t *testing.T, file string, env map[string]string) ([]byte, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "bash", filepath.Join(repoRoot, "deployment", "render.sh"), filepath.Join(repoRoot, "deployment", file))
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("render.sh %s: %w: %s", file, err, stderr.String())
	}
	return out, nil
}

// renderedTaskDef is a deployment task definition as the pipeline
// registers it: filled in by render.sh, its image by CodeDeploy.
func renderedTaskDef(t *testing.T, svc string) []byte {
	t.Helper()
	env := maps.Clone(fakeAccount)
	env["DB_PASSWORD_SECRET_ARN"] = dbSecretArn(svc)
	out, err := render(t, "taskdef-"+svc+".json", env)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("<IMAGE1_NAME>")) {
		t.Fatalf("render.sh filled in <IMAGE1_NAME>, which CodeDeploy must fill:\n%s", out)
	}
	return bytes.ReplaceAll(out, []byte("<IMAGE1_NAME>"), []byte("123456789012.dkr.ecr.us-east-1.amazonaws.com/coffee-suppliers-ci/"+svc+":0123456789ab"))
}

// TestRenderNamesAMissingSetting: a task definition never reaches ECS with
// a placeholder left in it.
func TestRenderNamesAMissingSetting(t *testing.T) {
	t.Parallel()
	env := maps.Clone(fakeAccount)
	delete(env, "DB_HOST")
	env["DB_PASSWORD_SECRET_ARN"] = dbSecretArn("customer")
	_, err := render(t, "taskdef-customer.json", env)
	if err == nil || !strings.Contains(err.Error(), "DB_HOST") {
		t.Errorf("render.sh without DB_HOST: %v, want a failure naming DB_HOST", err)
	}
}

// TestRenderTakesThePoolSizeFromTheParameters: the pipeline's task
// definitions open as many connections per task as the environment's
// parameter file gives the services stack.
func TestRenderTakesThePoolSizeFromTheParameters(t *testing.T) {
	t.Parallel()
	for _, env := range []string{"dev", "prod"} {
		words, err := cfn.Overrides(filepath.Join("params", env+".json"), filepath.Join("templates", "services.yaml"), "services")
		if err != nil {
			t.Fatal(err)
		}
		var size string
		for _, w := range words {
			if v, ok := strings.CutPrefix(w, "DatabasePoolSize="); ok {
				size = v
			}
		}
		vars := maps.Clone(fakeAccount)
		vars["ENV_NAME"], vars["DB_PASSWORD_SECRET_ARN"] = env, dbSecretArn("customer")
		delete(vars, "DB_POOL_SIZE")
		out, err := render(t, "taskdef-customer.json", vars)
		if err != nil {
			t.Fatal(err)
		}
		var td struct {
			ContainerDefinitions []struct {
				Environment []struct{ Name, Value string }
			}
		}
		decode(t, out, &td)
		got := ""
		for _, e := range td.ContainerDefinitions[0].Environment {
			if e.Name == "APP_DB_MAX_OPEN_CONNS" {
				got = e.Value
			}
		}
		if size == "" || got != size {
			t.Errorf("%s: APP_DB_MAX_OPEN_CONNS = %q, the parameter file's DatabasePoolSize %q", env, got, size)
		}
	}
}

// toAPI turns template properties into an API request's JSON: camelCase
// names, intrinsic functions resolved by resolve, and each other scalar as
// leaf renders it.
func toAPI(v any, resolve func(fn string, arg any) (any, error), leaf func(any) any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for fn, arg := range x {
				if strings.HasPrefix(fn, "Fn::") || fn == "Ref" {
					return resolve(fn, arg)
				}
			}
		}
		out := map[string]any{}
		for k, val := range x {
			r, err := toAPI(val, resolve, leaf)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[camel(k)] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			r, err := toAPI(val, resolve, leaf)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return leaf(v), nil
}

// asYAML keeps a scalar as the YAML typed it.
func asYAML(v any) any { return v }

// TestTaskDefinitionsAndServicesInMoto: each deployment/ task definition,
// as the pipeline registers it, and each ECS service of the template, as
// CloudFormation would create it, are requests ECS accepts: awscli's
// botocore checks them against the ECS API model, moto_server answers.
func TestTaskDefinitionsAndServicesInMoto(t *testing.T) {
	t.Parallel()
	var vpc struct{ Vpc struct{ VpcId string } }
	decode(t, mustAWS(t, "ec2", "create-vpc", "--cidr-block", "10.99.0.0/16"), &vpc)
	var subnets []any
	for i, zone := range []string{"us-east-1a", "us-east-1b"} {
		var s struct{ Subnet struct{ SubnetId string } }
		decode(t, mustAWS(t, "ec2", "create-subnet", "--vpc-id", vpc.Vpc.VpcId, "--availability-zone", zone, "--cidr-block", fmt.Sprintf("10.99.%d.0/24", i)), &s)
		subnets = append(subnets, s.Subnet.SubnetId)
	}
	var sg struct{ GroupId string }
	decode(t, mustAWS(t, "ec2", "create-security-group", "--group-name", "api-check", "--description", "api check", "--vpc-id", vpc.Vpc.VpcId), &sg)
	mustAWS(t, "ecs", "create-cluster", "--cluster-name", "api-check")

	tpl := templates(t)["services"]
	for _, svc := range services {
		S := title(svc)
		dir := t.TempDir()
		file := filepath.Join(dir, "taskdef.json")
		if err := os.WriteFile(file, renderedTaskDef(t, svc), 0o600); err != nil {
			t.Fatal(err)
		}
		var registered struct {
			TaskDefinition struct {
				TaskDefinitionArn    string
				Family               string
				ContainerDefinitions []struct{ Name string }
			}
		}
		decode(t, mustAWS(t, "ecs", "register-task-definition", "--cli-input-json", "file://"+file), &registered)
		if got := registered.TaskDefinition.Family; got != "coffee-suppliers-ci-"+svc || len(registered.TaskDefinition.ContainerDefinitions) != 2 {
			t.Errorf("registered %s's task definition as %+v", svc, registered.TaskDefinition)
		}

		var tg struct {
			TargetGroups []struct{ TargetGroupArn string }
		}
		decode(t, mustAWS(t, "elbv2", "create-target-group", "--name", "api-check-"+svc, "--protocol", "HTTP", "--port", "8080",
			"--target-type", "ip", "--vpc-id", vpc.Vpc.VpcId, "--health-check-path", "/healthz"), &tg)

		// The template's service, its references resolved to what was
		// just created.
		props := resource(t, "services", S+"Service", "AWS::ECS::Service").Properties
		input, err := toAPI(props, func(fn string, arg any) (any, error) {
			switch {
			case fn == "Ref" && cfn.Scalar(arg) == "Cluster":
				return "api-check", nil
			case fn == "Ref" && cfn.Scalar(arg) == S+"TaskDefinition":
				return registered.TaskDefinition.TaskDefinitionArn, nil
			// On creation no task definition is passed in: the service
			// takes the stack's first revision.
			case fn == "Fn::If" && cfn.Scalar(at(arg, 0)) == S+"TaskDefinitionGiven" && ref(at(arg, 2)) == S+"TaskDefinition":
				return registered.TaskDefinition.TaskDefinitionArn, nil
			case fn == "Ref" && cfn.Scalar(arg) == S+"BlueTargetGroup":
				return tg.TargetGroups[0].TargetGroupArn, nil
			case fn == "Ref" && cfn.Scalar(arg) == "EnvName":
				return "ci", nil
			case fn == "Ref":
				if p, ok := tpl.Parameters[cfn.Scalar(arg)]; ok && cfn.Scalar(p["Type"]) == "Number" {
					var n int
					_, err := fmt.Sscan(cfn.Scalar(p["Default"]), &n)
					return n, err
				}
			case fn == "Fn::Split" && strings.HasSuffix(importSub(at(arg, 1)), "-PrivateSubnets"):
				return subnets, nil
			case fn == "Fn::ImportValue" && strings.HasSuffix(importSub(map[string]any{fn: arg}), "SecurityGroup"):
				return sg.GroupId, nil
			}
			return nil, fmt.Errorf("no stand-in for %s %v", fn, arg)
		}, asYAML)
		if err != nil {
			t.Fatalf("%s service: %v", svc, err)
		}
		b, err := json.Marshal(input)
		if err != nil {
			t.Fatal(err)
		}
		file = filepath.Join(dir, "service.json")
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		var created struct {
			Service struct {
				ServiceName          string
				DesiredCount         int
				DeploymentController struct{ Type string }
			}
		}
		decode(t, mustAWS(t, "ecs", "create-service", "--cli-input-json", "file://"+file), &created)
		if s := created.Service; s.ServiceName != svc || s.DeploymentController.Type != "CODE_DEPLOY" || s.DesiredCount < 2 {
			t.Errorf("created %s's service as %+v, want CODE_DEPLOY with at least two tasks", svc, s)
		}
	}
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

// motoCannot are the stacks moto_server cannot create, and why; the test
// puts a stand-in of their exports in their place, so the stacks after them
// are still created. A stack that moto learns to create fails the test
// until it leaves this list.
var motoCannot = map[string]string{
	"data":       "moto's RDS has no MasterUserSecret attribute (ManageMasterUserPassword)",
	"services":   "moto's target groups have no attributes (TargetGroupName, TargetGroupFullName) for the outputs",
	"monitoring": "moto's CloudFormation has no AWS::CloudWatch::Alarm, whose ARNs the dashboard names",
	"pipelines":  "moto's CloudFormation has no CodeCommit, CodeBuild, CodeDeploy or CodePipeline resources",
}

// standInExports is a template exporting what a stack exports, with values
// shaped like real ones, for the stacks moto cannot create.
func standInExports(tpl *cfn.Template) []byte {
	var b strings.Builder
	b.WriteString("Parameters:\n  EnvName: {Type: String}\nResources:\n  StandIn: {Type: AWS::SNS::Topic}\nOutputs:\n")
	for _, name := range sortedKeys(tpl.Outputs) {
		export, ok := at(tpl.Outputs[name]["Export"], "Name", "Fn::Sub").(string)
		if !ok {
			continue
		}
		value := "coffee-suppliers-ci-" + strings.ToLower(name)
		if strings.HasSuffix(name, "Arn") {
			value = "arn:aws:secretsmanager:us-east-1:123456789012:secret:coffee-suppliers-ci/" + strings.ToLower(name) + "-AbCdEf"
		}
		fmt.Fprintf(&b, "  %s:\n    Value: %q\n    Export: {Name: !Sub %q}\n", name, value, export)
	}
	return []byte(b.String())
}

// exports reports whether a template exports anything.
func exports(tpl *cfn.Template) bool {
	for _, o := range tpl.Outputs {
		if o["Export"] != nil {
			return true
		}
	}
	return false
}

// TestStacksInMoto creates every stack in moto_server, in order, with the
// dev environment's parameters, and reports which resource types moto
// skipped; it then asks the APIs what the stacks made.
func TestStacksInMoto(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, stack := range stacks {
		name := "coffee-suppliers-ci-" + stack
		body := filepath.Join("templates", stack+".yaml")
		words, err := cfn.Overrides(filepath.Join("params", "dev.json"), body, stack)
		if err != nil {
			t.Fatal(err)
		}
		words = append(words, "EnvName=ci")
		if stack == "services" {
			words = append(words, "CustomerImageTag=0123456789ab", "EmployeeImageTag=0123456789ab")
		}
		reason, cannot := motoCannot[stack]
		err = createStack(t, name, body, words)
		switch {
		case err == nil && cannot:
			t.Errorf("moto now creates the %s stack: remove it from motoCannot (%s)", stack, reason)
		case err != nil && !cannot:
			t.Fatalf("creating the %s stack in moto: %v", stack, err)
		case err != nil:
			t.Logf("moto cannot create the %s stack (%s): its exports, if any, come from a stand-in", stack, reason)
			// A failed stack may still hold its exports in moto.
			if _, err := awsCLI(t, "cloudformation", "delete-stack", "--stack-name", name); err != nil {
				t.Logf("moto cannot delete the failed %s stack either (a 500 in its exports)", stack)
			}
			if !exports(templates(t)[stack]) {
				continue
			}
			standIn := filepath.Join(dir, stack+".yaml")
			if err := os.WriteFile(standIn, standInExports(templates(t)[stack]), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := createStack(t, name+"-stand-in", standIn, []string{"EnvName=ci"}); err != nil {
				t.Fatalf("the %s stand-in: %v", stack, err)
			}
			continue
		}
		var listed struct {
			StackResourceSummaries []struct{ LogicalResourceId, ResourceType string }
		}
		decode(t, mustAWS(t, "cloudformation", "list-stack-resources", "--stack-name", name), &listed)
		made := map[string]bool{}
		for _, r := range listed.StackResourceSummaries {
			made[r.LogicalResourceId] = true
		}
		skipped := map[string]bool{}
		for logical, r := range templates(t)[stack].Resources {
			if !made[logical] && !conditionFalse(stack, r.Condition) {
				skipped[r.Type] = true
			}
		}
		t.Logf("%s: moto created %d resources; skipped (unsupported) types: %v", stack, len(made), sortedKeys(skipped))
	}

	// What the stacks made, through the services' APIs.
	var repos struct {
		Repositories []struct {
			RepositoryName     string
			ImageTagMutability string
		}
	}
	decode(t, mustAWS(t, "ecr", "describe-repositories"), &repos)
	var names []string
	for _, r := range repos.Repositories {
		names = append(names, r.RepositoryName)
		// (moto ignores ScanOnPush from CloudFormation; TestRegistry checks it.)
		if r.ImageTagMutability != "IMMUTABLE" {
			t.Errorf("repository %s: %+v, want immutable tags", r.RepositoryName, r)
		}
	}
	slices.Sort(names)
	if !slices.Contains(names, "coffee-suppliers-ci/customer") || !slices.Contains(names, "coffee-suppliers-ci/employee") {
		t.Errorf("repositories %v, want one per service", names)
	}
}

// conditionFalse reports whether a resource's condition is false for the
// dev parameters, so its absence is expected (dev uses a NAT gateway, no
// certificate, CodeCommit, no alarm email).
func conditionFalse(stack, condition string) bool {
	off := map[string]bool{"network/UseEndpoints": true, "services/UseHttps": true, "pipelines/UseGitHub": true, "monitoring/HasAlarmEmail": true}
	return off[stack+"/"+condition]
}

// createStack creates a stack in moto and waits for it to settle.
func createStack(t *testing.T, name, body string, params []string) error {
	t.Helper()
	args := []string{"cloudformation", "create-stack", "--stack-name", name, "--template-body", "file://" + body,
		"--capabilities", "CAPABILITY_NAMED_IAM", "--parameters"}
	for _, w := range params {
		k, v, _ := strings.Cut(w, "=")
		args = append(args, "ParameterKey="+k+",ParameterValue="+v)
	}
	if _, err := awsCLI(t, args...); err != nil {
		return err
	}
	// moto creates stacks synchronously; this loop only guards against a
	// future moto that does not. Its bound is not an assertion on time.
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var d struct {
			Stacks []struct{ StackStatus, StackStatusReason string }
		}
		out, err := awsCLI(t, "cloudformation", "describe-stacks", "--stack-name", name)
		if err != nil {
			return err
		}
		decode(t, out, &d)
		switch s := d.Stacks[0].StackStatus; {
		case s == "CREATE_COMPLETE":
			return nil
		case !strings.HasSuffix(s, "_IN_PROGRESS"):
			return fmt.Errorf("stack %s: %s: %s", name, s, d.Stacks[0].StackStatusReason)
		}
	}
	return fmt.Errorf("stack %s did not settle", name)
}

// TestNetworkWithEndpointsInMoto: the VpcEndpoints choice gives the private
// subnets every AWS API the tasks and the migration step call, and no NAT
// gateway.
func TestNetworkWithEndpointsInMoto(t *testing.T) {
	t.Parallel()
	if err := createStack(t, "coffee-suppliers-endpt-network", filepath.Join("templates", "network.yaml"),
		[]string{"EnvName=endpt", "Egress=VpcEndpoints", "VpcCidr=10.41.0.0/16", "PublicSubnetACidr=10.41.0.0/20",
			"PublicSubnetBCidr=10.41.16.0/20", "PrivateSubnetACidr=10.41.32.0/20", "PrivateSubnetBCidr=10.41.48.0/20",
			"TestTrafficCidr=10.41.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	var vpcs struct{ Vpcs []struct{ VpcId string } }
	decode(t, mustAWS(t, "ec2", "describe-vpcs", "--filters", "Name=cidr,Values=10.41.0.0/16"), &vpcs)
	if len(vpcs.Vpcs) != 1 {
		t.Fatalf("VPCs on 10.41.0.0/16: %+v, want one", vpcs.Vpcs)
	}
	filter := "Name=vpc-id,Values=" + vpcs.Vpcs[0].VpcId
	var endpoints struct {
		VpcEndpoints []struct{ ServiceName string }
	}
	decode(t, mustAWS(t, "ec2", "describe-vpc-endpoints", "--filters", filter), &endpoints)
	var got []string
	for _, e := range endpoints.VpcEndpoints {
		got = append(got, strings.TrimPrefix(e.ServiceName, "com.amazonaws.us-east-1."))
	}
	slices.Sort(got)
	if want := []string{"codedeploy", "ec2", "ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager"}; !slices.Equal(got, want) {
		t.Errorf("the VPC's endpoints are %v, want %v", got, want)
	}
	var nat struct{ NatGateways []any }
	decode(t, mustAWS(t, "ec2", "describe-nat-gateways", "--filter", filter), &nat)
	if len(nat.NatGateways) != 0 {
		t.Errorf("a NAT gateway with the VpcEndpoints choice: %v", nat.NatGateways)
	}
}

package infra

// The lab's account (AWS Academy style) has its roles made in advance and
// refuses to create IAM resources: params/lab.json gives the stacks the
// roles' ARNs, and the stacks then create none and use the given ones.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
	"github.com/coffee-suppliers/coffee-suppliers/infra/plan"
)

// envStackParams is an environment's parameters for one stack as
// deploy.sh sends them: the file's, checked, the account's id put in, and
// values for what only deploy.sh gives (the name, the first images' tags).
func envStackParams(t *testing.T, env, stack string) map[string]string {
	t.Helper()
	words, err := cfn.Overrides(filepath.Join("params", env+".json"), filepath.Join("templates", stack+".yaml"), stack)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"EnvName": env}
	for _, w := range words {
		k, v, _ := strings.Cut(w, "=")
		if params[k], err = cfn.ResolveAccount(v, pseudoValues["AWS::AccountId"]); err != nil {
			t.Fatal(err)
		}
	}
	for name, p := range templates(t)[stack].Parameters {
		if _, given := params[name]; !given && p["Default"] == nil && strings.HasSuffix(name, "ImageTag") {
			params[name] = "0123456789ab"
		}
	}
	return params
}

// TestLabCreatesNoIAMResource: with lab.json, no stack creates an IAM
// resource of any kind, nor gives anything an inline policy.
func TestLabCreatesNoIAMResource(t *testing.T) {
	t.Parallel()
	for _, stack := range stacks {
		tpl := templates(t)[stack]
		s := resolveStack(t, tpl, envStackParams(t, "lab", stack))
		for _, name := range slices.Sorted(maps.Keys(s.Resources)) {
			if typ := tpl.Resources[name].Type; strings.HasPrefix(typ, "AWS::IAM::") {
				t.Errorf("%s: with lab.json, %s (%s) is still created; the lab's account may not create IAM resources", stack, name, typ)
			}
			if _, ok := s.Resources[name]["Policies"]; ok {
				t.Errorf("%s: with lab.json, %s still has inline Policies", stack, name)
			}
		}
	}
}

// roleKey matches the properties that name a role a service assumes.
var roleKey = regexp.MustCompile(`^(Role|ServiceRole|\w*RoleArn)$`)

// createdRole matches what the resolver makes of !GetAtt ROLE.Arn.
var createdRole = regexp.MustCompile(`^(\w+)@[0-9a-f]+\.Arn$`)

// TestRoleReferencesFollowTheParameters: every property naming a role, and
// every export of a role's ARN, is one of the given ARNs with lab.json and
// a role the stack creates with dev.json.
func TestRoleReferencesFollowTheParameters(t *testing.T) {
	t.Parallel()
	for _, env := range []string{"lab", "dev"} {
		seen := 0
		for _, stack := range stacks {
			tpl := templates(t)[stack]
			params := envStackParams(t, env, stack)
			var given []string
			for p := range cfn.RoleParameters(tpl) {
				if params[p] != "" {
					given = append(given, params[p])
				}
			}
			slices.Sort(given)
			given = slices.Compact(given)
			s := resolveStack(t, tpl, params)
			check := func(where string, v any) {
				seen++
				arn := cfn.Scalar(v)
				if env == "lab" {
					if !slices.Contains(given, arn) {
						t.Errorf("%s %s: %s names %q, not one of the roles lab.json gives (%s)", env, stack, where, arn, strings.Join(given, ", "))
					}
					return
				}
				m := createdRole.FindStringSubmatch(arn)
				if m == nil || tpl.Resources[m[1]].Type != "AWS::IAM::Role" {
					t.Errorf("%s %s: %s names %q, not a role the stack creates", env, stack, where, arn)
				}
			}
			for _, name := range slices.Sorted(maps.Keys(s.Resources)) {
				walkKeys(s.Resources[name], name, func(path, key string, v any) {
					if roleKey.MatchString(key) {
						check(path, v)
					}
				})
			}
			for name, v := range s.Exports {
				if strings.HasSuffix(name, "RoleArn") {
					check("export "+name, v)
				}
			}
		}
		// The task definitions (3 x 2), the function, the build projects
		// (3), the pipelines (2), the deployment groups (2), the push
		// rule's targets (2) and the services' role exports (4).
		if seen < 20 {
			t.Errorf("%s: %d role references found, want at least 20", env, seen)
		}
	}
}

// walkKeys calls fn for each map entry below v, with its path.
func walkKeys(v any, path string, fn func(path, key string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			fn(path+"."+k, k, e)
			walkKeys(e, path+"."+k, fn)
		}
	case []any:
		for i, e := range x {
			walkKeys(e, path+"["+cfn.Scalar(i)+"]", fn)
		}
	}
}

// roleOf is the role a property names when the stack creates its roles:
// ROLE.Arn of !If [CreateRoles, !GetAtt ROLE.Arn, !Ref ROLEArn].
func roleOf(v any) string {
	l := list(at(v, "Fn::If"))
	if len(l) != 3 || cfn.Scalar(l[0]) != "CreateRoles" || ref(l[2]) != strings.TrimSuffix(getAtt(l[1]), ".Arn")+"Arn" {
		return ""
	}
	return getAtt(l[1])
}

// trust is a role's trust policy letting services assume it.
func trust(services ...string) map[string]any {
	return map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": services}, "Action": "sts:AssumeRole"},
	}}
}

// labAccount is an empty lab account: its roles made in advance (LabRole
// and PipelineRole, trusted by the services the lab uses them for, and the
// service-linked roles of ECS), and no permission to create roles.
func labAccount(t *testing.T) *world {
	t.Helper()
	b, err := json.Marshal(emptyAccount())
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte("coffee-suppliers-dev"), []byte("coffee-suppliers-lab"))
	b = bytes.ReplaceAll(b, []byte("ecr-public-dev"), []byte("ecr-public-lab"))
	var w world
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	w.Env = "lab"
	denied := "An error occurred (AccessDenied) when calling the CreateServiceLinkedRole operation: User: arn:aws:sts::" + testAccount + ":assumed-role/voclabs/user1 is not authorized to perform: iam:CreateServiceLinkedRole"
	w.LinkedRoles = map[string]string{"ecs.amazonaws.com": denied, "ecs.application-autoscaling.amazonaws.com": denied}
	w.Roles = map[string]map[string]any{
		"LabRole":              trust("codebuild.amazonaws.com", "codedeploy.amazonaws.com", "events.amazonaws.com", "lambda.amazonaws.com", "ec2.amazonaws.com"),
		"PipelineRole":         trust("codepipeline.amazonaws.com", "ecs-tasks.amazonaws.com"),
		"AWSServiceRoleForECS": trust("ecs.amazonaws.com"),
		"AWSServiceRoleForApplicationAutoScaling_ECSService": trust("ecs.application-autoscaling.amazonaws.com"),
	}
	return &w
}

// TestLabDeployChecksTheRolesFirst: make deploy ENV=lab reads each given
// role before it touches a stack, and stops, naming the role (and the
// service), when one is missing or does not trust a service that needs it.
func TestLabDeployChecksTheRolesFirst(t *testing.T) {
	t.Parallel()
	stackCall := func(c call) bool { return c.has("aws", "cloudformation") }
	t.Run("all there", func(t *testing.T) {
		t.Parallel()
		r := deploySh(t, labAccount(t), nil, "deploy", "lab")
		r.mustSucceed(t)
		r.before(t, "aws iam get-role", func(c call) bool { return c.has("aws", "iam", "get-role") }, "the first stack call", stackCall)
		services := r.index(func(c call) bool {
			return c.has("aws", "cloudformation", "deploy") && first(c.flag("--stack-name")) == "coffee-suppliers-lab-services"
		})
		if services < 0 {
			t.Fatalf("no services stack; calls:\n%s", r.log())
		}
		overrides := r.calls[services].flag("--parameter-overrides")
		if !slices.Contains(overrides, "CustomerTaskRoleArn=arn:aws:iam::"+testAccount+":role/PipelineRole") ||
			!slices.Contains(overrides, "ReleaseCheckRoleArn=arn:aws:iam::"+testAccount+":role/LabRole") {
			t.Errorf("the services stack's roles are not the account's: %v", overrides)
		}
		for _, c := range r.calls {
			if strings.Contains(c.String(), "${") {
				t.Errorf("a placeholder reached AWS: %s", c)
			}
		}
	})
	t.Run("one missing", func(t *testing.T) {
		t.Parallel()
		w := labAccount(t)
		delete(w.Roles, "LabRole")
		r := deploySh(t, w, nil, "deploy", "lab")
		r.mustFail(t, "LabRole", "does not exist", "pipelines.CodeDeployRoleArn")
		if i := r.index(stackCall); i >= 0 {
			t.Errorf("a stack call after a missing role: %s", r.calls[i])
		}
	})
	t.Run("not trusted by a service", func(t *testing.T) {
		t.Parallel()
		w := labAccount(t)
		w.Roles["PipelineRole"] = trust("ecs-tasks.amazonaws.com")
		r := deploySh(t, w, nil, "deploy", "lab")
		r.mustFail(t, "PipelineRole", "cannot be assumed by codepipeline.amazonaws.com")
		if i := r.index(stackCall); i >= 0 {
			t.Errorf("a stack call after a role the pipelines cannot assume: %s", r.calls[i])
		}
	})
}

// TestLabPageCostIsCurrent: docs/lab.md's cost per month and per day are
// the estimate of lab.json's parameters (infra/plan, as make cost-estimate
// prices prod's), so a change of the templates, the prices or lab.json
// that moves them fails here until the page says so.
func TestLabPageCostIsCurrent(t *testing.T) {
	t.Parallel()
	src, err := plan.ReadSources("templates", "params", "lab")
	if err != nil {
		t.Fatal(err)
	}
	prices, err := plan.LoadPrices(filepath.Join("costs", "us-east-1.json"))
	if err != nil {
		t.Fatal(err)
	}
	assumptions, err := plan.LoadAssumptions(filepath.Join("costs", "assumptions.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := plan.BuildReport(plan.Inputs{Sources: src, Prices: prices, Assumptions: assumptions})
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(repoRoot, "docs", "lab.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The estimate's month is 730 hours.
	month := r.Baseline.Monthly
	for _, want := range []string{fmt.Sprintf("$%.2f a month", month), fmt.Sprintf("$%.2f a day", month*24/730)} {
		if !strings.Contains(string(page), want) {
			t.Errorf("docs/lab.md does not say %q (go run ./infra/cmd/plan -env lab -out /tmp/lab cost)", want)
		}
	}
}

// TestReleasesNameTheRolesInUse: a release's task definition names the
// roles the build project passes render.sh, which are the services
// stack's role exports: the created roles, or the given ones (lab.json),
// never a name that only the created roles have.
func TestReleasesNameTheRolesInUse(t *testing.T) {
	t.Parallel()
	for _, svc := range services {
		S := title(svc)
		b := resource(t, "pipelines", S+"BuildProject", "AWS::CodeBuild::Project")
		vars := map[string]string{}
		for _, e := range list(at(b.Properties, "Environment", "EnvironmentVariables")) {
			vars[cfn.Scalar(at(e, "Name"))] = importSub(at(e, "Value"))
		}
		for name, export := range map[string]string{"EXECUTION_ROLE_ARN": S + "ExecutionRoleArn", "TASK_ROLE_ARN": S + "TaskRoleArn"} {
			if want := "coffee-suppliers-${EnvName}-" + export; vars[name] != want {
				t.Errorf("the %s build project's %s imports %q, want %q", svc, name, vars[name], want)
			}
		}
		td := readTaskDef(t, svc)
		for _, want := range []string{`"executionRoleArn": "<EXECUTION_ROLE_ARN>"`, `"taskRoleArn": "<TASK_ROLE_ARN>"`} {
			if !strings.Contains(string(td), want) {
				t.Errorf("taskdef-%s.json does not say %s", svc, want)
			}
		}
	}
}

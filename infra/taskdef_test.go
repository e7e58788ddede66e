package infra

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// exportPlaceholders maps the stack exports a task definition uses to the
// placeholders deployment/render.sh fills in from the build project's
// variables (pipelines.yaml sets them from the same exports).
var exportPlaceholders = map[string]string{
	"DatabaseHost":                "<DB_HOST>",
	"CustomerDatabasePasswordArn": "<DB_PASSWORD_SECRET_ARN>",
	"EmployeeDatabasePasswordArn": "<DB_PASSWORD_SECRET_ARN>",
	"SessionKeyArn":               "<SESSION_KEY_SECRET_ARN>",
	"FirstAdministratorArn":       "<ADMIN_SECRET_ARN>",
	"CustomerRepositoryUri":       "<REPOSITORY_URI>",
	"EmployeeRepositoryUri":       "<REPOSITORY_URI>",
	"PublicSubnetCidrs":           "<TRUSTED_PROXIES>",
	"CustomerExecutionRoleArn":    "<EXECUTION_ROLE_ARN>",
	"EmployeeExecutionRoleArn":    "<EXECUTION_ROLE_ARN>",
	"CustomerTaskRoleArn":         "<TASK_ROLE_ARN>",
	"EmployeeTaskRoleArn":         "<TASK_ROLE_ARN>",
}

var pseudo = map[string]string{
	"EnvName": "<ENV_NAME>", "AWS::Region": "<AWS_REGION>", "AWS::AccountId": "<AWS_ACCOUNT_ID>",
	// The first images' tags; the deployment files take the build's image.
	"CustomerImageTag": "<IMAGE_TAG>", "EmployeeImageTag": "<IMAGE_TAG>",
	// The environment's pool size: the build project's copy of the
	// services stack's parameter.
	"DatabasePoolSize": "<DB_POOL_SIZE>",
	// The service's CPU architecture: render.sh's copy of the services
	// stack's parameter.
	"CustomerCpuArchitecture": "<CPU_ARCHITECTURE>", "EmployeeCpuArchitecture": "<CPU_ARCHITECTURE>",
}

// asDeployed renders a template value as deployment/'s files write it:
// property names in the API's camelCase, scalars as strings, and every
// reference to the environment, account or another stack as the
// placeholder the deployment file uses in its place.
func asDeployed(tpl *cfn.Template, v any) (any, error) {
	return toAPI(v, func(fn string, arg any) (any, error) { return intrinsic(tpl, fn, arg) },
		func(v any) any { return cfn.Scalar(v) })
}

var subVar = regexp.MustCompile(`\$\{([^}]+)\}`)

func intrinsic(tpl *cfn.Template, fn string, arg any) (string, error) {
	switch fn {
	case "Ref":
		name := cfn.Scalar(arg)
		if p, ok := pseudo[name]; ok {
			return p, nil
		}
		if r, ok := tpl.Resources[name]; ok && r.Type == "AWS::Logs::LogGroup" {
			return intrinsicValue(tpl, r.Properties["LogGroupName"])
		}
		return "", fmt.Errorf("!Ref %s has no deployment placeholder", name)
	case "Fn::Sub":
		text, vars := cfn.Scalar(arg), map[string]any{}
		if l := list(arg); l != nil {
			text = cfn.Scalar(l[0])
			vars, _ = l[1].(map[string]any)
		}
		var err error
		out := subVar.ReplaceAllStringFunc(text, func(m string) string {
			name := m[2 : len(m)-1]
			if v, ok := vars[name]; ok {
				s, e := intrinsicValue(tpl, v)
				if e != nil {
					err = e
				}
				return s
			}
			if p, ok := pseudo[name]; ok {
				return p
			}
			err = fmt.Errorf("${%s} has no deployment placeholder", name)
			return m
		})
		return out, err
	case "Fn::ImportValue":
		name := strings.TrimPrefix(importSub(map[string]any{fn: arg}), "coffee-suppliers-${EnvName}-")
		if p, ok := exportPlaceholders[name]; ok {
			return p, nil
		}
		return "", fmt.Errorf("the export %s has no deployment placeholder", name)
	case "Fn::If":
		// A role, created or given: either way the services stack exports
		// its ARN under the parameter's name, and the build project passes
		// the export on.
		l := list(arg)
		if len(l) == 3 && cfn.Scalar(l[0]) == "CreateRoles" {
			if p, ok := exportPlaceholders[ref(l[2])]; ok {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s %v has no deployment placeholder", fn, arg)
}

func intrinsicValue(tpl *cfn.Template, v any) (string, error) {
	r, err := asDeployed(tpl, v)
	if err != nil {
		return "", err
	}
	s, ok := r.(string)
	if !ok {
		return "", fmt.Errorf("want a string, got %v", r)
	}
	return s, nil
}

func camel(k string) string {
	if k == "" || strings.Contains(k, "-") {
		return k
	}
	r := []rune(k)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// normalize turns decoded JSON into the same shape: scalars as strings.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			out[k] = normalize(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = normalize(val)
		}
		return out
	}
	return cfn.Scalar(v)
}

// diff lists where a and b differ, by path.
func diff(path string, a, b any) []string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v in one, %v in the other", path, a, b)}
		}
		var out []string
		keys := sortedKeys(x)
		for _, k := range sortedKeys(y) {
			if _, ok := x[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			out = append(out, diff(path+"."+k, x[k], y[k])...)
		}
		return out
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return []string{fmt.Sprintf("%s: %v in one, %v in the other", path, a, b)}
		}
		var out []string
		for i := range x {
			out = append(out, diff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i])...)
		}
		return out
	}
	if a != b {
		return []string{fmt.Sprintf("%s: %q in one, %q in the other", path, a, b)}
	}
	return nil
}

// readTaskDef reads deployment/taskdef-SERVICE.json.
func readTaskDef(t *testing.T, svc string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "deployment", "taskdef-"+svc+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compareTaskDef lists how a deployment/ task definition departs from the
// services template's first revision of the same service.
func compareTaskDef(t *testing.T, svc string, deployed []byte) []string {
	t.Helper()
	var file any
	if err := json.Unmarshal(deployed, &file); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	file = normalize(file)
	tpl := templates(t)["services"]
	td := resource(t, "services", title(svc)+"TaskDefinition", "AWS::ECS::TaskDefinition")
	fromTemplate, err := asDeployed(tpl, td.Properties)
	if err != nil {
		t.Fatalf("services.yaml %sTaskDefinition: %v", title(svc), err)
	}
	// The image differs by design: CodeDeploy fills in <IMAGE1_NAME> with
	// the build's image; the template names the first image in the same
	// repository.
	var problems []string
	fileImage, tplImage := at(file, "containerDefinitions", 0, "image"), at(fromTemplate, "containerDefinitions", 0, "image")
	if fileImage != "<IMAGE1_NAME>" {
		problems = append(problems, fmt.Sprintf("the %s container's image is %v, want <IMAGE1_NAME>", svc, fileImage))
	}
	if s, _ := tplImage.(string); !strings.HasPrefix(s, "<REPOSITORY_URI>:") {
		problems = append(problems, fmt.Sprintf("the template's %s image is %v, want the service's repository", svc, tplImage))
	}
	for _, m := range []any{file, fromTemplate} {
		if c, ok := at(m, "containerDefinitions", 0).(map[string]any); ok {
			c["image"] = "(the service's image)"
		}
	}
	return append(problems, diff("taskdef-"+svc, file, fromTemplate)...)
}

// TestTaskDefinitionsMatchTheTemplate: what the pipeline registers on each
// release is what the template registered first — same containers, ports,
// sizes, logging, health check, secrets, roles.
func TestTaskDefinitionsMatchTheTemplate(t *testing.T) {
	t.Parallel()
	for _, svc := range services {
		for _, p := range compareTaskDef(t, svc, readTaskDef(t, svc)) {
			t.Errorf("deployment/taskdef-%s.json and services.yaml disagree: %s", svc, p)
		}
	}
}

// TestTaskDefinitionDriftIsCaught: each kind of drift the issue names makes
// the comparison above fail.
func TestTaskDefinitionDriftIsCaught(t *testing.T) {
	t.Parallel()
	mutants := map[string]func(td map[string]any){
		"container renamed": func(td map[string]any) { at(td, "containerDefinitions", 0).(map[string]any)["name"] = "web" },
		"port": func(td map[string]any) {
			at(td, "containerDefinitions", 0, "portMappings", 0).(map[string]any)["containerPort"] = 8081
		},
		"size": func(td map[string]any) { td["memory"] = "2048" },
		"a fixed CPU architecture": func(td map[string]any) {
			td["runtimePlatform"].(map[string]any)["cpuArchitecture"] = "X86_64"
		},
		"log group": func(td map[string]any) {
			at(td, "containerDefinitions", 0, "logConfiguration", "options").(map[string]any)["awslogs-group"] = "/ecs/x"
		},
		"health check": func(td map[string]any) {
			at(td, "containerDefinitions", 0, "healthCheck").(map[string]any)["command"] = []any{"CMD", "true"}
		},
		"secret dropped": func(td map[string]any) { at(td, "containerDefinitions", 0).(map[string]any)["secrets"] = []any{} },
		"a fixed image": func(td map[string]any) {
			at(td, "containerDefinitions", 0).(map[string]any)["image"] = "customer:latest"
		},
		"database TLS not verified": func(td map[string]any) {
			for _, e := range list(at(td, "containerDefinitions", 0, "environment")) {
				if m := e.(map[string]any); m["name"] == "APP_DB_TLS" {
					m["value"] = "skip-verify"
				}
			}
		},
		"writable root": func(td map[string]any) {
			at(td, "containerDefinitions", 0).(map[string]any)["readonlyRootFilesystem"] = false
		},
	}
	for name, mutate := range mutants {
		t.Run(name, func(t *testing.T) {
			var td map[string]any
			if err := json.Unmarshal(readTaskDef(t, "customer"), &td); err != nil {
				t.Fatal(err)
			}
			mutate(td)
			b, err := json.Marshal(td)
			if err != nil {
				t.Fatal(err)
			}
			if problems := compareTaskDef(t, "customer", b); len(problems) == 0 {
				t.Errorf("%s went unnoticed", name)
			}
		})
	}
}

// TestTaskDefinitionPlaceholders: the deployment files name only the
// placeholders render.sh and CodeDeploy fill in, and buildspec's projects
// provide every one.
func TestTaskDefinitionPlaceholders(t *testing.T) {
	t.Parallel()
	// render.sh reads DB_POOL_SIZE from the environment's parameter file
	// (TestRenderTakesThePoolSizeFromTheParameters), and CPU_ARCHITECTURE
	// too (TestRenderTakesTheCpuArchitectureFromTheParameters).
	provided := map[string]bool{"IMAGE1_NAME": true, "AWS_REGION": true, "DB_POOL_SIZE": true, "CPU_ARCHITECTURE": true}
	for _, svc := range services {
		b := resource(t, "pipelines", title(svc)+"BuildProject", "AWS::CodeBuild::Project")
		have := map[string]bool{"IMAGE1_NAME": true, "AWS_REGION": true, "DB_POOL_SIZE": true, "CPU_ARCHITECTURE": true}
		for _, e := range list(at(b.Properties, "Environment", "EnvironmentVariables")) {
			have[cfn.Scalar(at(e, "Name"))] = true
			provided[cfn.Scalar(at(e, "Name"))] = true
		}
		for _, m := range regexp.MustCompile(`<([A-Z][A-Z0-9_]*)>`).FindAllStringSubmatch(string(readTaskDef(t, svc)), -1) {
			if !have[m[1]] {
				t.Errorf("taskdef-%s.json needs <%s>, which the %s build project does not set", svc, m[1], svc)
			}
		}
	}
	if !slices.Contains(sortedKeys(provided), "DB_HOST") {
		t.Errorf("the build projects set %v, without DB_HOST", sortedKeys(provided))
	}
}

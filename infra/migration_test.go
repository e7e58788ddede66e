package infra

// The pieces of the templates deploy.sh relies on for the first
// deployment: the suppliersdb repository, the first migration's task, and
// every stack output the script reads.

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

func TestRegistryHoldsTheMigrationImage(t *testing.T) {
	t.Parallel()
	customer := resource(t, "registry", "CustomerRepository", "AWS::ECR::Repository").Properties
	migration := resource(t, "registry", "SuppliersdbRepository", "AWS::ECR::Repository").Properties
	want(t, "SuppliersdbRepository's name", at(migration, "RepositoryName", "Fn::Sub"), "coffee-suppliers-${EnvName}/suppliersdb")
	// The same settings as the services' repositories, but for the name and tags.
	for _, k := range sortedKeys(customer) {
		if k == "RepositoryName" || k == "Tags" {
			continue
		}
		a, _ := json.Marshal(customer[k])
		b, _ := json.Marshal(migration[k])
		if string(a) != string(b) {
			t.Errorf("SuppliersdbRepository.%s = %s, want the services' %s", k, b, a)
		}
	}
	outputs := templates(t)["registry"].Outputs
	for _, o := range []string{"SuppliersdbRepositoryUri", "SuppliersdbRepositoryArn"} {
		want(t, o+"'s export", at(outputs[o], "Export", "Name", "Fn::Sub"), "coffee-suppliers-${EnvName}-"+o)
	}
}

func TestFirstMigrationTask(t *testing.T) {
	t.Parallel()
	td := resource(t, "services", "MigrationTaskDefinition", "AWS::ECS::TaskDefinition").Properties
	want(t, "network mode", td["NetworkMode"], "awsvpc")
	want(t, "compatibility", strings.Join(strs(td["RequiresCompatibilities"]), ","), "FARGATE")
	// X86_64 whatever the services run on: the pipeline's migrate project
	// (x86 CodeBuild) runs the same binary, and deploy.sh builds the image
	// for the platform the task definition names.
	if p, err := cfn.Platforms(templates(t)["services"], map[string]string{"CustomerCpuArchitecture": "ARM64", "EmployeeCpuArchitecture": "ARM64"}); err != nil || p["suppliersdb"] != "linux/amd64" {
		t.Errorf("services.yaml: the migration's platform with the services on ARM64 is %q (%v), want linux/amd64", p["suppliersdb"], err)
	}
	c := at(td, "ContainerDefinitions", 0)
	if len(list(td["ContainerDefinitions"])) != 1 {
		t.Errorf("the migration task has %d containers, want suppliersdb alone", len(list(td["ContainerDefinitions"])))
	}
	want(t, "image", at(c, "Image", "Fn::Sub", 0), "${Repository}:${MigrationImageTag}")
	want(t, "image repository", importSub(at(c, "Image", "Fn::Sub", 1, "Repository")), "coffee-suppliers-${EnvName}-SuppliersdbRepositoryUri")
	want(t, "command", strings.Join(strs(at(c, "Command")), " "), "migrate")
	want(t, "read-only root", at(c, "ReadonlyRootFilesystem"), "true")
	want(t, "log group", ref(at(c, "LogConfiguration", "Options", "awslogs-group")), "MigrationLogGroup")
	want(t, "log group name", at(resource(t, "services", "MigrationLogGroup", "AWS::Logs::LogGroup").Properties, "LogGroupName", "Fn::Sub"),
		"/ecs/coffee-suppliers-${EnvName}/migration")
	want(t, "log stream prefix", at(c, "LogConfiguration", "Options", "awslogs-stream-prefix"), "migration")

	// The settings of the pipelines' migrate project, where ECS takes them
	// from: plain values and the same secrets.
	env := map[string]string{}
	for _, e := range list(at(c, "Environment")) {
		v := cfn.Scalar(at(e, "Value"))
		if s := importSub(at(e, "Value")); s != "" {
			v = s
		}
		env[cfn.Scalar(at(e, "Name"))] = v
	}
	for _, s := range list(at(c, "Secrets")) {
		v := importSub(at(s, "ValueFrom"))
		if v == "" { // "${Secret}:key::" of an export
			v = importSub(at(s, "ValueFrom", "Fn::Sub", 1, "Secret")) + strings.TrimPrefix(cfn.Scalar(at(s, "ValueFrom", "Fn::Sub", 0)), "${Secret}")
		}
		env[cfn.Scalar(at(s, "Name"))] = v
	}
	project := resource(t, "pipelines", "MigrateProject", "AWS::CodeBuild::Project").Properties
	for _, e := range list(at(project, "Environment", "EnvironmentVariables")) {
		name, v := cfn.Scalar(at(e, "Name")), cfn.Scalar(at(e, "Value"))
		if s := importSub(at(e, "Value")); s != "" {
			v = s
		}
		if s := importSub(at(e, "Value", "Fn::Sub", 1, "Secret")); s != "" { // "${Secret}:key"
			v = s + strings.TrimPrefix(cfn.Scalar(at(e, "Value", "Fn::Sub", 0)), "${Secret}") + "::"
		}
		if env[name] != v {
			t.Errorf("the migration task's %s is %q; the migrate project's is %q", name, env[name], v)
		}
	}
	want(t, "APP_DB_TLS", env["APP_DB_TLS"], "verify")

	// Least privilege: the task role may do nothing; the execution role
	// pulls the one image, writes the one log group, reads the secrets
	// above; both trust ECS tasks of this account only.
	for _, role := range []string{"MigrationTaskRole", "MigrationExecutionRole"} {
		r := resource(t, "services", role, "AWS::IAM::Role").Properties
		cond := at(r, "AssumeRolePolicyDocument", "Statement", 0, "Condition")
		want(t, role+" trusts", at(r, "AssumeRolePolicyDocument", "Statement", 0, "Principal", "Service"), "ecs-tasks.amazonaws.com")
		want(t, role+"'s aws:SourceAccount", ref(at(cond, "StringEquals", "aws:SourceAccount")), "AWS::AccountId")
	}
	if p := resource(t, "services", "MigrationTaskRole", "AWS::IAM::Role").Properties["Policies"]; p != nil {
		t.Errorf("the migration's task role has policies %v; the migration calls no AWS API", p)
	}
	exec := resource(t, "services", "MigrationExecutionRole", "AWS::IAM::Role").Properties
	want(t, "task definition's execution role", roleOf(td["ExecutionRoleArn"]), "MigrationExecutionRole.Arn")
	want(t, "task definition's task role", roleOf(td["TaskRoleArn"]), "MigrationTaskRole.Arn")
	var resources []string
	walk(exec["Policies"], func(m map[string]any) {
		if _, ok := m["Effect"]; !ok {
			return
		}
		rs := list(m["Resource"])
		if rs == nil {
			rs = []any{m["Resource"]}
		}
		for _, r := range rs {
			s := importSub(r)
			if s == "" {
				s, _ = at(r, "Fn::Sub").(string)
			}
			if s == "" {
				s = cfn.Scalar(r)
			}
			resources = append(resources, s)
		}
	})
	slices.Sort(resources)
	wantResources := []string{
		"${MigrationLogGroup.Arn}", "*",
		"coffee-suppliers-${EnvName}-CustomerDatabasePasswordArn",
		"coffee-suppliers-${EnvName}-DatabaseMasterSecretArn",
		"coffee-suppliers-${EnvName}-EmployeeDatabasePasswordArn",
		"coffee-suppliers-${EnvName}-SuppliersdbRepositoryArn",
	}
	slices.Sort(wantResources)
	if !slices.Equal(resources, wantResources) {
		t.Errorf("the migration's execution role reaches %v, want %v", resources, wantResources)
	}
	want(t, "MigrationTaskDefinitionArn output", ref(templates(t)["services"].Outputs["MigrationTaskDefinitionArn"]["Value"]), "MigrationTaskDefinition")
}

// TestDeployReadsOutputsThatExist: every `output STACK KEY` of deploy.sh
// names an output its stack's template declares (the stand-in answers
// whatever it is told, so this is where a renamed output is caught).
// CustomerServiceTaskDefinition and EmployeeServiceTaskDefinition are read
// only when present (a services stack older than them).
func TestDeployReadsOutputsThatExist(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("deploy.sh")
	if err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`\$\(output (\w+) (\w+)\)`).FindAllStringSubmatch(string(b), -1)
	if len(uses) < 5 {
		t.Fatalf("found only %d output reads in deploy.sh", len(uses))
	}
	for _, m := range uses {
		stack, key := m[1], m[2]
		tpl, ok := templates(t)[stack]
		if !ok {
			t.Errorf("deploy.sh reads an output of %q, which is no stack", stack)
			continue
		}
		if _, ok := tpl.Outputs[key]; !ok {
			t.Errorf("deploy.sh reads %s's output %s, which %s.yaml does not declare", stack, key, stack)
		}
	}
}

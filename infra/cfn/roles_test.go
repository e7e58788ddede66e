package cfn

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const rolesTemplate = `
Parameters:
  TaskRoleArn: {Type: String, Default: "", AllowedPattern: "^$|^arn:aws:iam::[0-9]{12}:role/[A-Za-z0-9_/-]+$"}
  BuildRoleArn: {Type: String, Default: "", AllowedPattern: "^$|^arn:aws:iam::[0-9]{12}:role/[A-Za-z0-9_/-]+$"}
Resources:
  TaskRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: sts:AssumeRole}]
  BuildRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: [codebuild.amazonaws.com]}, Action: [sts:AssumeRole]}]
`

func writeRoles(t *testing.T, params string) (paramsPath, dir string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(rolesTemplate), 0o600); err != nil {
		t.Fatal(err)
	}
	paramsPath = filepath.Join(dir, "p.json")
	if err := os.WriteFile(paramsPath, []byte(params), 0o600); err != nil {
		t.Fatal(err)
	}
	return paramsPath, dir
}

// TestAccountPlaceholderPassesTheChecks: a role named by the account
// placeholder passes the ARN pattern and stays a placeholder for deploy.sh;
// any other ${…} is refused.
func TestAccountPlaceholderPassesTheChecks(t *testing.T) {
	t.Parallel()
	p, dir := writeRoles(t, `{"s": {"TaskRoleArn": "arn:aws:iam::${AWS::AccountId}:role/PipelineRole", "BuildRoleArn": "arn:aws:iam::${AWS::AccountId}:role/LabRole"}}`)
	words, err := AllOverrides(p, dir, "lab", []string{"s"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(words["s"], "|"); got != "BuildRoleArn=arn:aws:iam::${AWS::AccountId}:role/LabRole|TaskRoleArn=arn:aws:iam::${AWS::AccountId}:role/PipelineRole" {
		t.Errorf("words = %s, want the placeholders kept", got)
	}
	if got, err := ResolveAccount("arn:aws:iam::${AWS::AccountId}:role/LabRole", "123456789012"); err != nil || got != "arn:aws:iam::123456789012:role/LabRole" {
		t.Errorf("ResolveAccount = %q, %v", got, err)
	}
	p, dir = writeRoles(t, `{"s": {"TaskRoleArn": "arn:aws:iam::${AWS::Account}:role/A", "BuildRoleArn": "arn:aws:iam::${AWS::AccountId}:role/B"}}`)
	if _, err := AllOverrides(p, dir, "lab", []string{"s"}); err == nil || !strings.Contains(err.Error(), "${AWS::Account}") {
		t.Errorf("an unknown placeholder: %v, want an error naming it", err)
	}
}

// TestPartialRoleSetIsRefused: a stack creates all its roles or none.
func TestPartialRoleSetIsRefused(t *testing.T) {
	t.Parallel()
	p, dir := writeRoles(t, `{"s": {"TaskRoleArn": "arn:aws:iam::123456789012:role/LabRole"}}`)
	_, err := AllOverrides(p, dir, "lab", []string{"s"})
	if err == nil || !strings.Contains(err.Error(), "but not BuildRoleArn") {
		t.Errorf("one role of two given: %v, want a refusal naming BuildRoleArn", err)
	}
}

// TestGivenRolesNeedTheServicesTheyReplace: one entry per role, with the
// services of every role it stands in for.
func TestGivenRolesNeedTheServicesTheyReplace(t *testing.T) {
	t.Parallel()
	tpl, err := Parse([]byte(rolesTemplate))
	if err != nil {
		t.Fatal(err)
	}
	given, err := GivenRoles(map[string]*Template{"s": tpl}, map[string][]string{"s": {
		"BuildRoleArn=arn:aws:iam::123456789012:role/LabRole", "TaskRoleArn=arn:aws:iam::123456789012:role/LabRole"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(given) != 1 || given[0].Name != "LabRole" ||
		!slices.Equal(given[0].Services, []string{"codebuild.amazonaws.com", "ecs-tasks.amazonaws.com"}) ||
		!slices.Equal(given[0].Users, []string{"s.BuildRoleArn", "s.TaskRoleArn"}) {
		t.Errorf("GivenRoles = %+v", given)
	}
	missing, err := MissingTrust([]byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"Service":["ecs-tasks.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"},
		{"Effect":"Deny","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		given[0].Services)
	if err != nil || !slices.Equal(missing, []string{"codebuild.amazonaws.com"}) {
		t.Errorf("MissingTrust = %v, %v; want codebuild.amazonaws.com", missing, err)
	}
}

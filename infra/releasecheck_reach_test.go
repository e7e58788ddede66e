package infra

import (
	"slices"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// TestReleaseChecksCanRun: the release-check hook (services.yaml's
// ReleaseCheckFunction, named by the AppSpecs' AfterAllowTestTraffic and
// AfterAllowTraffic hooks) can be invoked and can answer in both egress
// modes. CodeDeploy invokes a hook's function with the deployment group's
// service role, which must be allowed lambda:InvokeFunction on it
// (https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html#reference-appspec-file-structure-hooks-list-ecs
// and the AWSCodeDeployRoleForECS managed policy, which grants exactly that);
// without it every release fails at its first hook. The function runs in the
// private subnets and calls EC2 (the load balancer's addresses) and
// CodeDeploy (PutLifecycleEventHookExecutionStatus): with Egress=VpcEndpoints
// there is no NAT route, so both need interface endpoints
// (https://docs.aws.amazon.com/codedeploy/latest/userguide/vpc-endpoints.html).
func TestReleaseChecksCanRun(t *testing.T) {
	t.Parallel()
	role := resource(t, "pipelines", "CodeDeployRole", "AWS::IAM::Role")
	invokes := false
	for _, p := range list(role.Properties["Policies"]) {
		for _, st := range list(at(p, "PolicyDocument", "Statement")) {
			actions := append(strs(at(st, "Action")), cfn.Scalar(at(st, "Action")))
			if !slices.Contains(actions, "lambda:InvokeFunction") {
				continue
			}
			for _, r := range append(list(at(st, "Resource")), at(st, "Resource")) {
				if strings.HasSuffix(importSub(r), "-ReleaseCheckFunctionArn") {
					invokes = true
				}
			}
		}
	}
	if !invokes {
		t.Error("pipelines.yaml: CodeDeployRole may not lambda:InvokeFunction the imported ReleaseCheckFunctionArn: every release would fail at its first hook")
	}

	var endpoints []string
	for _, e := range ofType(t, "network", "AWS::EC2::VPCEndpoint") {
		if cfn.Scalar(e.Properties["VpcEndpointType"]) != "Interface" {
			continue
		}
		name := at(e.Properties, "ServiceName", "Fn::Sub")
		if s, ok := name.(string); ok {
			endpoints = append(endpoints, s[strings.LastIndex(s, "}.")+2:])
		}
	}
	for _, api := range []string{"ec2", "codedeploy"} {
		if !slices.Contains(endpoints, api) {
			t.Errorf("network.yaml: no %s interface endpoint (have %v): with Egress=VpcEndpoints the release checks cannot reach that API", api, endpoints)
		}
	}
}

package infra

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// servicesParams are the services stack's parameters as deploy.sh passes
// them on creation for an environment: its parameter file, the
// environment's name and the first images' tags.
func servicesParams(t *testing.T, env string, extra map[string]string) map[string]string {
	t.Helper()
	words, err := cfn.Overrides(filepath.Join("params", env+".json"), filepath.Join("templates", "services.yaml"), "services")
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"EnvName": "ci", "CustomerImageTag": "0123456789ab", "EmployeeImageTag": "0123456789ab", "MigrationImageTag": "0123456789ab"}
	for _, w := range words {
		k, v, _ := strings.Cut(w, "=")
		params[k] = v
	}
	maps.Copy(params, extra)
	return params
}

// loadServices parses services.yaml afresh, for a test that changes it.
func loadServices(t *testing.T) *cfn.Template {
	t.Helper()
	tpl, err := cfn.Load(filepath.Join("templates", "services.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

const testCertificate = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"

// listenersByPort lists a resolved stack's listeners by port.
func listenersByPort(s resolvedStack, tpl *cfn.Template) map[string]string {
	out := map[string]string{}
	for name, p := range s.Resources {
		if tpl.Resources[name].Type == "AWS::ElasticLoadBalancingV2::Listener" {
			out[cfn.Scalar(p["Port"])] = name
		}
	}
	return out
}

// hstsAttribute is the listener attribute with which an Application Load
// Balancer adds Strict-Transport-Security to every response of an HTTPS
// listener:
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/header-modification.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ListenerAttribute.html
const hstsAttribute = "routing.http.response.strict_transport_security.header_value"

// TestHTTPSFromDayOne: with a certificate, production answers on 443 with
// it, port 80 only redirects there (301), the test listener speaks HTTPS
// with the same certificate, and every HTTPS listener adds HSTS.
func TestHTTPSFromDayOne(t *testing.T) {
	t.Parallel()
	tpl := templates(t)["services"]
	s := resolveStack(t, tpl, servicesParams(t, "prod", map[string]string{"CertificateArn": testCertificate}))
	ports := listenersByPort(s, tpl)
	for _, port := range []string{"80", "443", "8080"} {
		if ports[port] == "" {
			t.Fatalf("with a certificate, no listener on %s (listeners by port: %v)", port, ports)
		}
	}
	for _, port := range []string{"443", "8080"} {
		l := s.Resources[ports[port]]
		want(t, port+" protocol", l["Protocol"], "HTTPS")
		want(t, port+" certificate", at(l, "Certificates", 0, "CertificateArn"), testCertificate)
		if p := cfn.Scalar(l["SslPolicy"]); !strings.HasPrefix(p, "ELBSecurityPolicy-TLS13-") {
			t.Errorf("listener %s: SslPolicy %q, want a TLS 1.3 policy", port, p)
		}
		hsts := ""
		for _, a := range list(l["ListenerAttributes"]) {
			if cfn.Scalar(at(a, "Key")) == hstsAttribute {
				hsts = cfn.Scalar(at(a, "Value"))
			}
		}
		var maxAge int
		if _, err := fmt.Sscanf(hsts, "max-age=%d", &maxAge); err != nil || maxAge < 31536000 {
			t.Errorf("listener %s: %s = %q, want max-age of a year or more", port, hstsAttribute, hsts)
		}
	}
	redirect := s.Resources[ports["80"]]
	want(t, "80 protocol", redirect["Protocol"], "HTTP")
	action := at(redirect, "DefaultActions", 0)
	if len(list(redirect["DefaultActions"])) != 1 || cfn.Scalar(at(action, "Type")) != "redirect" ||
		cfn.Scalar(at(action, "RedirectConfig", "Protocol")) != "HTTPS" || cfn.Scalar(at(action, "RedirectConfig", "Port")) != "443" ||
		cfn.Scalar(at(action, "RedirectConfig", "StatusCode")) != "HTTP_301" {
		t.Errorf("port 80 answers with %v, want only a 301 to HTTPS on 443", redirect["DefaultActions"])
	}
	// The /admin rules sit on the HTTPS listeners, never on the redirect.
	for name, r := range s.Resources {
		if tpl.Resources[name].Type != "AWS::ElasticLoadBalancingV2::ListenerRule" {
			continue
		}
		if l := cfn.Scalar(r["ListenerArn"]); l != s.Physical[ports["443"]] && l != s.Physical[ports["8080"]] {
			t.Errorf("rule %s is on %s, want the HTTPS production or test listener", name, l)
		}
	}
}

// TestCertificateLaterKeepsExports: adding a certificate to a running
// environment changes no value another stack imports. CloudFormation
// refuses to update an export that another stack imports ("Cannot update
// export … as it is in use by …"):
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html
// and a replaced resource (a create-only property changed) has a new ARN.
func TestCertificateLaterKeepsExports(t *testing.T) {
	t.Parallel()
	tpl := templates(t)["services"]
	for _, env := range []string{"dev", "prod"} {
		before := resolveStack(t, tpl, servicesParams(t, env, map[string]string{"CertificateArn": ""}))
		after := resolveStack(t, tpl, servicesParams(t, env, map[string]string{"CertificateArn": testCertificate}))
		for _, name := range sortedKeys(before.Exports) {
			b, _ := json.Marshal(before.Exports[name])
			a, _ := json.Marshal(after.Exports[name])
			if string(a) != string(b) {
				t.Errorf("%s: adding a certificate changes the export %s from %s to %s", env, name, b, a)
			}
		}
	}
}

// withExtraVariable returns services.yaml with one more environment
// variable in each service's task definition: a release's change that the
// next `make deploy` carries.
func withExtraVariable(t *testing.T) *cfn.Template {
	t.Helper()
	tpl := loadServices(t)
	for _, svc := range services {
		td := tpl.Resources[title(svc)+"TaskDefinition"]
		c := at(td.Properties, "ContainerDefinitions", 0).(map[string]any)
		c["Environment"] = append(list(c["Environment"]), map[string]any{"Name": "FEATURE_FLAG", "Value": "on"})
	}
	return tpl
}

// updatePolicies reads the UpdateReplacePolicy of services.yaml's
// resources (cfn.Template does not keep it).
func updatePolicies(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("templates", "services.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			UpdateReplacePolicy string `yaml:"UpdateReplacePolicy"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for name, r := range doc.Resources {
		out[name] = r.UpdateReplacePolicy
	}
	return out
}

// TestLaterDeployKeepsTheServices: a `make deploy` after a release, with
// a changed task definition in the template, resolves each ECS service
// exactly as its creation did, so CloudFormation leaves the CODE_DEPLOY
// services alone (it cannot change their task definition: "Unable to
// update task definition on services with a CODE_DEPLOY deployment
// controller",
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html
// and https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-bluegreen.html).
// deploy.sh passes back the outputs CustomerServiceTaskDefinition and
// EmployeeServiceTaskDefinition as CustomerTaskDefinitionArn and
// EmployeeTaskDefinitionArn on every update.
func TestLaterDeployKeepsTheServices(t *testing.T) {
	t.Parallel()
	created := resolveStack(t, loadServices(t), servicesParams(t, "prod", nil))
	passedBack := map[string]string{}
	for _, svc := range services {
		S := title(svc)
		out, ok := created.Outputs[S+"ServiceTaskDefinition"]
		if !ok {
			t.Errorf("no output %sServiceTaskDefinition for deploy.sh to pass back as %sTaskDefinitionArn", S, S)
			continue
		}
		passedBack[S+"TaskDefinitionArn"] = cfn.Scalar(out)
		if cfn.Scalar(out) != cfn.Scalar(created.Resources[S+"Service"]["TaskDefinition"]) {
			t.Errorf("output %sServiceTaskDefinition is %v, the service was given %v", S, out, created.Resources[S+"Service"]["TaskDefinition"])
		}
	}
	changed := withExtraVariable(t)
	updated := resolveStack(t, changed, servicesParams(t, "prod", passedBack))
	for _, svc := range services {
		S := title(svc)
		if created.Physical[S+"TaskDefinition"] == updated.Physical[S+"TaskDefinition"] {
			t.Fatalf("the changed %s task definition was not replaced: the test's change does not reach it", svc)
		}
		for _, d := range diff(S+"Service", created.Resources[S+"Service"], updated.Resources[S+"Service"]) {
			t.Errorf("a later deploy with a changed task definition changes the CODE_DEPLOY service: %s", d)
		}
		for name, out := range updated.Outputs {
			if strings.HasSuffix(name, "ServiceTaskDefinition") && cfn.Scalar(out) != cfn.Scalar(created.Outputs[name]) {
				t.Errorf("output %s moved from %v to %v: the next deploy would pass a new revision", name, created.Outputs[name], out)
			}
		}
	}
	// The replaced first revision of a service may still run (or be what
	// CodeDeploy rolls back to): CloudFormation must not deregister it. (The
	// one-off migration's task definition runs nowhere between deploys.)
	policies := updatePolicies(t)
	for _, name := range []string{"CustomerTaskDefinition", "EmployeeTaskDefinition"} {
		if policies[name] != "Retain" {
			t.Errorf("%s: UpdateReplacePolicy %q, want Retain so a replaced revision stays registered", name, policies[name])
		}
	}
}

// TestRequestScalingCountsBothColors: after a release, production traffic
// reaches the service through the other target group. A request-count
// policy pinned to one target group (ResourceLabel) then sees no requests
// and scales in. Target tracking with metric math can sum both groups:
// https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html
func TestRequestScalingCountsBothColors(t *testing.T) {
	t.Parallel()
	for name, p := range ofType(t, "services", "AWS::ApplicationAutoScaling::ScalingPolicy") {
		walk(p.Properties, func(m map[string]any) {
			if _, ok := m["ResourceLabel"]; ok {
				t.Errorf("%s is pinned to one target group's requests (ResourceLabel %v)", name, m["ResourceLabel"])
			}
		})
	}
	for _, svc := range services {
		S := title(svc)
		found := false
		for _, p := range ofType(t, "services", "AWS::ApplicationAutoScaling::ScalingPolicy") {
			if ref(p.Properties["ScalingTargetId"]) != S+"ScalableTarget" {
				continue
			}
			metrics := list(at(p.Properties, "TargetTrackingScalingPolicyConfiguration", "CustomizedMetricSpecification", "Metrics"))
			groups, returned := map[string]bool{}, 0
			for _, m := range metrics {
				if cfn.Scalar(at(m, "ReturnData")) == "true" {
					returned++
				}
				if cfn.Scalar(at(m, "MetricStat", "Metric", "MetricName")) != "RequestCount" {
					continue
				}
				walk(m, func(d map[string]any) {
					if g := getAtt(d); strings.HasSuffix(g, "TargetGroup.TargetGroupFullName") {
						groups[strings.TrimSuffix(g, ".TargetGroupFullName")] = true
					}
				})
			}
			if groups[S+"BlueTargetGroup"] && groups[S+"GreenTargetGroup"] && returned == 1 {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no target tracking policy on the requests of both its blue and green target groups", svc)
		}
	}
}

// taskEnvironment is a template task definition's first container's
// environment, by name.
func taskEnvironment(t *testing.T, svc string) map[string]any {
	t.Helper()
	td := resource(t, "services", title(svc)+"TaskDefinition", "AWS::ECS::TaskDefinition")
	env := map[string]any{}
	for _, e := range list(at(td.Properties, "ContainerDefinitions", 0, "Environment")) {
		env[cfn.Scalar(at(e, "Name"))] = at(e, "Value")
	}
	return env
}

// TestTaskDefinitionsSetTheDatabaseAndProxies: in AWS the services verify
// the database's certificate (the parameter group requires TLS), size
// their pool per environment (tasks × 2 colours × pool must fit the
// instance's max_connections: H3b's test over infra/params), and trust
// X-Forwarded-For only from the load balancer's subnets.
func TestTaskDefinitionsSetTheDatabaseAndProxies(t *testing.T) {
	t.Parallel()
	for _, svc := range services {
		env := taskEnvironment(t, svc)
		want(t, svc+" APP_DB_TLS", env["APP_DB_TLS"], "verify")
		want(t, svc+" APP_DB_MAX_OPEN_CONNS", ref(env["APP_DB_MAX_OPEN_CONNS"]), "DatabasePoolSize")
		if s := importSub(env["TRUSTED_PROXIES"]); s != "coffee-suppliers-${EnvName}-PublicSubnetCidrs" {
			t.Errorf("%s TRUSTED_PROXIES = %v, want the load balancer's subnets (the PublicSubnetCidrs export)", svc, env["TRUSTED_PROXIES"])
		}
	}
	for _, env := range []string{"dev", "prod"} {
		b, err := os.ReadFile(filepath.Join("params", env+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var all map[string]map[string]string
		if err := json.Unmarshal(b, &all); err != nil {
			t.Fatal(err)
		}
		if all["services"]["DatabasePoolSize"] == "" {
			t.Errorf("params/%s.json sets no services.DatabasePoolSize: each environment sizes its pool", env)
		}
	}
}

// TestServiceRolesNameTheAccount: a role an AWS service assumes admits that
// service only on behalf of this account (the confused deputy problem):
// https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
// ECS tasks send aws:SourceAccount and aws:SourceArn:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
// Lambda assumes a function's execution role without them (the AWS
// documentation gives its trust policy without conditions:
// https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html),
// so lambda.amazonaws.com is the one exception.
func TestServiceRolesNameTheAccount(t *testing.T) {
	t.Parallel()
	for name, r := range ofType(t, "services", "AWS::IAM::Role") {
		for _, st := range list(at(r.Properties, "AssumeRolePolicyDocument", "Statement")) {
			principal := cfn.Scalar(at(st, "Principal", "Service"))
			if principal == "" || principal == "lambda.amazonaws.com" {
				continue
			}
			if ref(at(st, "Condition", "StringEquals", "aws:SourceAccount")) != "AWS::AccountId" {
				t.Errorf("%s: %s may assume it for any account: want StringEquals aws:SourceAccount = !Ref AWS::AccountId", name, principal)
			}
		}
	}
}

package infra

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// TestEveryStackIsThere: one template per lifecycle layer, each importing
// only what the layers before it export.
func TestEveryStackIsThere(t *testing.T) {
	t.Parallel()
	got := sortedKeys(templates(t))
	if want := slices.Sorted(slices.Values(stacks)); !slices.Equal(got, want) {
		t.Fatalf("templates/ holds %v, want %v", got, want)
	}
	// deploy.sh deploys in this order (and deletes in the reverse).
	script, err := os.ReadFile("deploy.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^stacks=\(([^)]*)\)`).FindSubmatch(script)
	if m == nil || strings.Join(strings.Fields(string(m[1])), " ") != strings.Join(stacks, " ") {
		t.Errorf("deploy.sh's stacks are %q, want %v in this order", m, stacks)
	}
	exported := map[string]string{}
	for i, stack := range stacks {
		tpl := templates(t)[stack]
		var imports []string
		walk(tpl.Resources, func(v map[string]any) {
			if s := importSub(v); s != "" {
				imports = append(imports, s)
			}
		})
		walk(tpl.Outputs, func(v map[string]any) {
			if s := importSub(v); s != "" {
				imports = append(imports, s)
			}
		})
		for _, imp := range imports {
			from, ok := exported[imp]
			if !ok {
				t.Errorf("%s imports %s, which no stack before it (%v) exports", stack, imp, stacks[:i])
			} else if from == stack {
				t.Errorf("%s imports its own export %s", stack, imp)
			}
		}
		for name, o := range tpl.Outputs {
			if e, ok := at(o["Export"], "Name", "Fn::Sub").(string); ok {
				if prev, dup := exported[e]; dup {
					t.Errorf("%s and %s both export %s", prev, stack, e)
				}
				exported[e] = stack
			} else if o["Export"] != nil {
				t.Errorf("%s: output %s's export name is not !Sub coffee-suppliers-${EnvName}-…", stack, name)
			}
		}
	}
}

// walk calls f on every map inside v.
func walk(v any, f func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(x)
		for _, c := range x {
			walk(c, f)
		}
	case []any:
		for _, c := range x {
			walk(c, f)
		}
	default:
		// Typed maps of the template (resources, outputs) hold the rest.
		b, err := json.Marshal(v)
		if err != nil {
			return
		}
		var generic any
		if json.Unmarshal(b, &generic) == nil {
			if _, isMap := generic.(map[string]any); isMap {
				walk(generic, f)
			}
		}
	}
}

func TestNetwork(t *testing.T) {
	t.Parallel()
	tpl := templates(t)["network"]
	zones := map[string]string{}
	for _, name := range []string{"PublicSubnetA", "PublicSubnetB", "PrivateSubnetA", "PrivateSubnetB"} {
		s := resource(t, "network", name, "AWS::EC2::Subnet")
		want(t, name+".MapPublicIpOnLaunch", s.Properties["MapPublicIpOnLaunch"], "false")
		az, _ := json.Marshal(s.Properties["AvailabilityZone"])
		zones[name] = string(az)
	}
	if zones["PublicSubnetA"] == zones["PublicSubnetB"] || zones["PrivateSubnetA"] == zones["PrivateSubnetB"] {
		t.Errorf("subnets A and B must lie in two Availability Zones: %v", zones)
	}
	if zones["PublicSubnetA"] != zones["PrivateSubnetA"] {
		t.Errorf("each zone needs a public and a private subnet: %v", zones)
	}
	// Only the public route table reaches the internet gateway.
	for name, r := range ofType(t, "network", "AWS::EC2::Route") {
		if r.Properties["GatewayId"] != nil && ref(r.Properties["RouteTableId"]) != "PublicRouteTable" {
			t.Errorf("route %s sends %s to the internet gateway", name, ref(r.Properties["RouteTableId"]))
		}
	}
	egress := tpl.Parameters["Egress"]
	if got := list(egress["AllowedValues"]); len(got) != 2 || cfn.Scalar(got[0]) != "NatGateway" || cfn.Scalar(got[1]) != "VpcEndpoints" {
		t.Errorf("Egress parameter allows %v, want NatGateway and VpcEndpoints", got)
	}
	want(t, "NatGateway's condition", resource(t, "network", "NatGateway", "AWS::EC2::NatGateway").Condition, "UseNat")
	services := map[string]bool{}
	for name, e := range ofType(t, "network", "AWS::EC2::VPCEndpoint") {
		svc, _ := at(e.Properties, "ServiceName", "Fn::Sub").(string)
		svc = strings.TrimPrefix(svc, "com.amazonaws.${AWS::Region}.")
		services[svc] = true
		if cfn.Scalar(e.Properties["VpcEndpointType"]) == "Interface" && e.Condition != "UseEndpoints" {
			t.Errorf("interface endpoint %s is created without the VpcEndpoints choice (condition %q)", name, e.Condition)
		}
	}
	for _, svc := range []string{"ecr.api", "ecr.dkr", "logs", "secretsmanager", "s3"} {
		if !services[svc] {
			t.Errorf("no VPC endpoint for %s (have %v)", svc, sortedKeys(services))
		}
	}

	// The test listener's port admits only the configurable range.
	alb := resource(t, "network", "LoadBalancerSecurityGroup", "AWS::EC2::SecurityGroup")
	for _, rule := range list(alb.Properties["SecurityGroupIngress"]) {
		if cfn.Scalar(at(rule, "FromPort")) == "8080" && ref(at(rule, "CidrIp")) != "TestTrafficCidr" {
			t.Errorf("the load balancer's port 8080 is open to %v, want !Ref TestTrafficCidr", at(rule, "CidrIp"))
		}
	}
	// The database answers the services and the migration only.
	db := resource(t, "network", "DatabaseSecurityGroup", "AWS::EC2::SecurityGroup")
	var sources []string
	for _, rule := range list(db.Properties["SecurityGroupIngress"]) {
		want(t, "database ingress port", at(rule, "FromPort"), "3306")
		sources = append(sources, ref(at(rule, "SourceSecurityGroupId")))
	}
	slices.Sort(sources)
	if w := []string{"CustomerSecurityGroup", "EmployeeSecurityGroup", "MigrationSecurityGroup"}; !slices.Equal(sources, w) {
		t.Errorf("the database admits %v, want %v", sources, w)
	}
}

func TestData(t *testing.T) {
	t.Parallel()
	db := resource(t, "data", "Database", "AWS::RDS::DBInstance")
	p := db.Properties
	want(t, "Engine", p["Engine"], "mysql")
	if v := cfn.Scalar(p["EngineVersion"]); !strings.HasPrefix(v, "8.4") {
		t.Errorf("EngineVersion = %q, want MySQL 8.4", v)
	}
	want(t, "StorageEncrypted", p["StorageEncrypted"], "true")
	want(t, "PubliclyAccessible", p["PubliclyAccessible"], "false")
	want(t, "ManageMasterUserPassword", p["ManageMasterUserPassword"], "true")
	if p["MasterUserPassword"] != nil {
		t.Error("the database's password is in the template; RDS must generate it into Secrets Manager")
	}
	want(t, "MultiAZ", ref(p["MultiAZ"]), "MultiAZ")
	want(t, "DeletionProtection", ref(p["DeletionProtection"]), "DeletionProtection")
	want(t, "BackupRetentionPeriod", ref(p["BackupRetentionPeriod"]), "BackupRetentionDays")
	want(t, "DeletionPolicy", db.DeletionPolicy, "Snapshot")
	want(t, "DBSubnetGroupName", ref(p["DBSubnetGroupName"]), "DatabaseSubnets")
	subnets := resource(t, "data", "DatabaseSubnets", "AWS::RDS::DBSubnetGroup")
	if s := importSub(at(subnets.Properties, "SubnetIds", "Fn::Split", 1)); !strings.HasSuffix(s, "-PrivateSubnets") {
		t.Errorf("the database's subnets are %q, want the private ones", s)
	}
	secrets := ofType(t, "data", "AWS::SecretsManager::Secret")
	for _, name := range []string{"CustomerDatabasePassword", "EmployeeDatabasePassword", "SessionKey", "FirstAdministrator"} {
		s, ok := secrets[name]
		if !ok {
			t.Errorf("no secret %s", name)
			continue
		}
		if s.Properties["SecretString"] != nil || s.Properties["GenerateSecretString"] == nil {
			t.Errorf("secret %s must be generated, never written in the template", name)
		}
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	for _, svc := range services {
		r := resource(t, "registry", title(svc)+"Repository", "AWS::ECR::Repository")
		want(t, svc+" ImageTagMutability", r.Properties["ImageTagMutability"], "IMMUTABLE")
		want(t, svc+" ScanOnPush", at(r.Properties, "ImageScanningConfiguration", "ScanOnPush"), "true")
		text, _ := at(r.Properties, "LifecyclePolicy", "LifecyclePolicyText", "Fn::Sub").(string)
		text = strings.ReplaceAll(text, "${KeepImages}", "30")
		var policy struct {
			Rules []struct {
				Selection struct {
					CountType   string
					CountNumber int
				}
				Action struct{ Type string }
			}
		}
		if err := json.Unmarshal([]byte(text), &policy); err != nil {
			t.Errorf("%s's lifecycle policy is not JSON: %v", svc, err)
			continue
		}
		if len(policy.Rules) != 1 || policy.Rules[0].Selection.CountType != "imageCountMoreThan" || policy.Rules[0].Action.Type != "expire" {
			t.Errorf("%s's lifecycle policy %+v, want one rule expiring all but the last images", svc, policy)
		}
	}
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func TestLoadBalancer(t *testing.T) {
	t.Parallel()
	lb := resource(t, "services", "LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer")
	want(t, "Scheme", lb.Properties["Scheme"], "internet-facing")
	if s := importSub(at(lb.Properties, "Subnets", "Fn::Split", 1)); !strings.HasSuffix(s, "-PublicSubnets") {
		t.Errorf("the load balancer's subnets are %q, want the public ones", s)
	}
	tgs := ofType(t, "services", "AWS::ElasticLoadBalancingV2::TargetGroup")
	if len(tgs) != 4 {
		t.Errorf("%d target groups, want 4 (blue and green per service): %v", len(tgs), sortedKeys(tgs))
	}
	for _, svc := range services {
		for _, color := range []string{"Blue", "Green"} {
			name := title(svc) + color + "TargetGroup"
			tg := resource(t, "services", name, "AWS::ElasticLoadBalancingV2::TargetGroup")
			want(t, name+".TargetType", tg.Properties["TargetType"], "ip")
			want(t, name+".Port", tg.Properties["Port"], "8080")
			want(t, name+".HealthCheckPath", tg.Properties["HealthCheckPath"], "/healthz")
		}
	}
	// Production and test listeners always; port 80's redirect only with a
	// certificate (TestHTTPSFromDayOne checks the ports and protocols).
	listeners := ofType(t, "services", "AWS::ElasticLoadBalancingV2::Listener")
	if got := sortedKeys(listeners); !slices.Equal(got, []string{"HttpRedirectListener", "ProductionListener", "TestListener"}) {
		t.Errorf("listeners %v, want HttpRedirectListener, ProductionListener and TestListener", got)
	}
	redirect := resource(t, "services", "HttpRedirectListener", "AWS::ElasticLoadBalancingV2::Listener")
	want(t, "HttpRedirectListener's condition", redirect.Condition, "UseHttps")
	want(t, "HttpRedirectListener's action", at(redirect.Properties, "DefaultActions", 0, "Type"), "redirect")
	want(t, "… redirects to", at(redirect.Properties, "DefaultActions", 0, "RedirectConfig", "Port"), "443")
}

func TestECS(t *testing.T) {
	t.Parallel()
	cluster := resource(t, "services", "Cluster", "AWS::ECS::Cluster")
	settings, _ := json.Marshal(cluster.Properties["ClusterSettings"])
	if !strings.Contains(string(settings), `"Name":"containerInsights","Value":"enabled"`) {
		t.Errorf("Container Insights is off: %s", settings)
	}
	for _, svc := range services {
		S := title(svc)
		s := resource(t, "services", S+"Service", "AWS::ECS::Service").Properties
		want(t, svc+" deployment controller", at(s, "DeploymentController", "Type"), "CODE_DEPLOY")
		want(t, svc+" launch type", s["LaunchType"], "FARGATE")
		want(t, svc+" public IP", at(s, "NetworkConfiguration", "AwsvpcConfiguration", "AssignPublicIp"), "DISABLED")
		if sn := importSub(at(s, "NetworkConfiguration", "AwsvpcConfiguration", "Subnets", "Fn::Split", 1)); !strings.HasSuffix(sn, "-PrivateSubnets") {
			t.Errorf("%s's tasks run in %q, want the private subnets", svc, sn)
		}
		min := templates(t)["services"].Parameters[S+"MinTasks"]
		if ref(s["DesiredCount"]) != S+"MinTasks" || cfn.Scalar(min["MinValue"]) != "2" {
			t.Errorf("%s: DesiredCount %v with minimum %v, want at least two tasks (one per zone)", svc, s["DesiredCount"], min["MinValue"])
		}
		want(t, svc+" target group", ref(at(s, "LoadBalancers", 0, "TargetGroupArn")), S+"BlueTargetGroup")

		td := resource(t, "services", S+"TaskDefinition", "AWS::ECS::TaskDefinition").Properties
		if roleOf(td["TaskRoleArn"]) == roleOf(td["ExecutionRoleArn"]) {
			t.Errorf("%s: the task and execution roles must differ", svc)
		}
		app := at(td, "ContainerDefinitions", 0)
		want(t, svc+" container", at(app, "Name"), svc)
		want(t, svc+" read-only root", at(app, "ReadonlyRootFilesystem"), "true")
		if u := cfn.Scalar(at(app, "User")); u == "" || strings.HasPrefix(u, "0") || u == "root" {
			t.Errorf("%s runs as %q, want a non-root user", svc, u)
		}
		want(t, svc+" log driver", at(app, "LogConfiguration", "LogDriver"), "awslogs")
		group := ref(at(app, "LogConfiguration", "Options", "awslogs-group"))
		want(t, svc+" log group retention", ref(resource(t, "services", group, "AWS::Logs::LogGroup").Properties["RetentionInDays"]), "LogRetentionDays")
		want(t, svc+" health check", strings.Join(strs(at(app, "HealthCheck", "Command")), " "), "CMD /"+svc+" healthcheck")
		if len(list(at(app, "Secrets"))) == 0 {
			t.Errorf("%s takes no secrets from Secrets Manager", svc)
		}
		// The metrics sidecar scrapes METRICS_PORT.
		agent := at(td, "ContainerDefinitions", 1)
		want(t, svc+" sidecar", at(agent, "Name"), "cloudwatch-agent")
		if !strings.Contains(cfn.Scalar(at(agent, "Environment", 0, "Value")), "localhost:9090") {
			t.Errorf("%s's CloudWatch agent does not scrape the metrics port 9090", svc)
		}
	}
	// Sized per service: the employee hashes passwords with argon2id.
	c := resource(t, "services", "CustomerTaskDefinition", "AWS::ECS::TaskDefinition").Properties
	e := resource(t, "services", "EmployeeTaskDefinition", "AWS::ECS::TaskDefinition").Properties
	if cfn.Scalar(c["Memory"]) == cfn.Scalar(e["Memory"]) {
		t.Errorf("both services get %v MiB; the employee service needs more", c["Memory"])
	}
}

func TestAutoScaling(t *testing.T) {
	t.Parallel()
	for _, svc := range services {
		S := title(svc)
		target := resource(t, "services", S+"ScalableTarget", "AWS::ApplicationAutoScaling::ScalableTarget").Properties
		want(t, svc+" MinCapacity", ref(target["MinCapacity"]), S+"MinTasks")
		want(t, svc+" MaxCapacity", ref(target["MaxCapacity"]), S+"MaxTasks")
		// CPU by a predefined metric; requests per task by metric math over
		// both target groups (TestRequestScalingCountsBothColors).
		metrics := map[string]bool{}
		for _, p := range ofType(t, "services", "AWS::ApplicationAutoScaling::ScalingPolicy") {
			if ref(p.Properties["ScalingTargetId"]) == S+"ScalableTarget" {
				cfg := at(p.Properties, "TargetTrackingScalingPolicyConfiguration")
				metrics[cfn.Scalar(at(cfg, "PredefinedMetricSpecification", "PredefinedMetricType"))] = true
				for _, m := range list(at(cfg, "CustomizedMetricSpecification", "Metrics")) {
					metrics[cfn.Scalar(at(m, "MetricStat", "Metric", "MetricName"))] = true
				}
			}
		}
		for _, m := range []string{"ECSServiceAverageCPUUtilization", "RequestCount"} {
			if !metrics[m] {
				t.Errorf("%s: no target tracking on %s (have %v)", svc, m, sortedKeys(metrics))
			}
		}
	}
}

func TestPipelines(t *testing.T) {
	t.Parallel()
	tpl := templates(t)["pipelines"]
	want(t, "CodeCommit repository's condition", resource(t, "pipelines", "Repository", "AWS::CodeCommit::Repository").Condition, "UseCodeCommit")
	if tpl.Parameters["ConnectionArn"] == nil {
		t.Error("no ConnectionArn parameter for a GitHub source through CodeConnections")
	}
	for _, svc := range services {
		S := title(svc)
		p := resource(t, "pipelines", S+"Pipeline", "AWS::CodePipeline::Pipeline").Properties
		want(t, svc+" PipelineType", p["PipelineType"], "V2")
		var stages []string
		for _, s := range list(p["Stages"]) {
			stages = append(stages, cfn.Scalar(at(s, "Name")))
		}
		if w := []string{"Source", "Build", "Migrate", "Deploy"}; !slices.Equal(stages, w) {
			t.Errorf("%s pipeline stages %v, want %v", svc, stages, w)
		}
		// GitHub triggers start only the pipeline whose code changed.
		paths := strs(at(p, "Triggers", "Fn::If", 1, 0, "GitConfiguration", "Push", 0, "FilePaths", "Includes"))
		joined := strings.Join(paths, " ")
		if !strings.Contains(joined, "services/"+svc+"/**") || !strings.Contains(joined, "pkg/**") {
			t.Errorf("%s pipeline's trigger paths %v, want its service and the shared code", svc, paths)
		}
		for _, other := range services {
			if other != svc && strings.Contains(joined, "services/"+other) {
				t.Errorf("%s pipeline also starts on %s's code: %v", svc, other, paths)
			}
		}
		build := resource(t, "pipelines", S+"BuildProject", "AWS::CodeBuild::Project").Properties
		want(t, svc+" buildspec", at(build, "Source", "BuildSpec"), "buildspec.yml")
		want(t, svc+" privileged (docker build)", at(build, "Environment", "PrivilegedMode"), "true")
		env := map[string]string{}
		for _, e := range list(at(build, "Environment", "EnvironmentVariables")) {
			env[cfn.Scalar(at(e, "Name"))] = cfn.Scalar(at(e, "Value"))
		}
		want(t, svc+" SERVICE", env["SERVICE"], svc)

		deploy := at(p, "Stages", 3, "Actions", 0)
		want(t, svc+" deploy provider", at(deploy, "ActionTypeId", "Provider"), "CodeDeployToECS")
		want(t, svc+" image placeholder", at(deploy, "Configuration", "Image1ContainerName"), "IMAGE1_NAME")

		dg := resource(t, "pipelines", S+"DeploymentGroup", "AWS::CodeDeploy::DeploymentGroup").Properties
		want(t, svc+" deployment type", at(dg, "DeploymentStyle", "DeploymentType"), "BLUE_GREEN")
		want(t, svc+" traffic control", at(dg, "DeploymentStyle", "DeploymentOption"), "WITH_TRAFFIC_CONTROL")
		want(t, svc+" canary", dg["DeploymentConfigName"], "CodeDeployDefault.ECSCanary10Percent5Minutes")
		want(t, svc+" old tasks", at(dg, "BlueGreenDeploymentConfiguration", "TerminateBlueInstancesOnDeploymentSuccess", "Action"), "TERMINATE")
		events := strs(at(dg, "AutoRollbackConfiguration", "Events"))
		if !slices.Contains(events, "DEPLOYMENT_FAILURE") || !slices.Contains(events, "DEPLOYMENT_STOP_ON_ALARM") {
			t.Errorf("%s rolls back on %v, want failures and alarms", svc, events)
		}
		if len(list(at(dg, "AlarmConfiguration", "Alarms"))) == 0 {
			t.Errorf("%s: no alarms stop a release", svc)
		}
		if s := importSub(at(dg, "LoadBalancerInfo", "TargetGroupPairInfoList", 0, "TestTrafficRoute", "ListenerArns", 0)); !strings.HasSuffix(s, "-TestListenerArn") {
			t.Errorf("%s: test traffic route %q, want the test listener", svc, s)
		}
	}
	migrate := resource(t, "pipelines", "MigrateProject", "AWS::CodeBuild::Project").Properties
	if importSub(at(migrate, "VpcConfig", "VpcId")) == "" {
		t.Error("the migration project does not run in the VPC, so it cannot reach the database")
	}
}

func TestMonitoring(t *testing.T) {
	t.Parallel()
	metrics := map[string]int{}
	for name, a := range ofType(t, "monitoring", "AWS::CloudWatch::Alarm") {
		metrics[cfn.Scalar(a.Properties["Namespace"])+" "+cfn.Scalar(a.Properties["MetricName"])]++
		if ref(at(a.Properties, "AlarmActions", 0)) != "AlarmTopic" {
			t.Errorf("alarm %s notifies nobody", name)
		}
	}
	for m, n := range map[string]int{
		"AWS/ApplicationELB HTTPCode_Target_5XX_Count": 4, "AWS/ApplicationELB TargetResponseTime": 4,
		"AWS/ApplicationELB UnHealthyHostCount": 4, "AWS/ECS CPUUtilization": 2, "AWS/ECS MemoryUtilization": 2,
		"AWS/RDS CPUUtilization": 1, "AWS/RDS FreeStorageSpace": 1, "AWS/RDS DatabaseConnections": 1,
	} {
		if metrics[m] != n {
			t.Errorf("%d alarms on %s, want %d", metrics[m], m, n)
		}
	}
	p99 := resource(t, "monitoring", "CustomerBlueResponseTimeAlarm", "AWS::CloudWatch::Alarm")
	want(t, "response time statistic", p99.Properties["ExtendedStatistic"], "p99")
	resource(t, "monitoring", "AlarmTopic", "AWS::SNS::Topic")
	d := resource(t, "monitoring", "Dashboard", "AWS::CloudWatch::Dashboard")
	body, _ := at(d.Properties, "DashboardBody", "Fn::Sub", 0).(string)
	var dashboard struct{ Widgets []json.RawMessage }
	if err := json.Unmarshal([]byte(body), &dashboard); err != nil || len(dashboard.Widgets) == 0 {
		t.Errorf("the dashboard's body is not JSON with widgets: %v", err)
	}
}

// TestEveryResourceIsTagged: a resource whose type takes Tags (per
// cfn-lint's copy of the CloudFormation resource schemas) carries Project
// and Environment.
func TestEveryResourceIsTagged(t *testing.T) {
	t.Parallel()
	python := tool(t, "python3", "cfn-lint's schemas say which types take tags: pip install cfn-lint")
	types := map[string]bool{}
	for _, stack := range stacks {
		for _, r := range templates(t)[stack].Resources {
			types[r.Type] = true
		}
	}
	const script = `
import json, sys
from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER as m
print(json.dumps({t: "Tags" in m.get_resource_schema("us-east-1", t).schema.get("properties", {}) for t in sys.argv[1:]}))
`
	cmd := exec.CommandContext(t.Context(), python, append([]string{"-c", script}, sortedKeys(types)...)...)
	out, err := cmd.Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("reading cfn-lint's schemas: %v", err)
		}
		t.Skipf("SKIPPED: cfn-lint's schemas are not readable (%v): pip install cfn-lint", err)
	}
	var taggable map[string]bool
	if err := json.Unmarshal(out, &taggable); err != nil {
		t.Fatalf("cfn-lint's schemas: %v: %s", err, out)
	}
	if !taggable["AWS::ECS::Service"] || taggable["AWS::EC2::Route"] {
		t.Fatalf("the schemas' answer is implausible (ECS services take tags, routes do not): %v", taggable)
	}
	for _, stack := range stacks {
		for name, r := range templates(t)[stack].Resources {
			if !taggable[r.Type] {
				continue
			}
			tags, _ := json.Marshal(r.Properties["Tags"])
			for _, key := range []string{"Project", "Environment"} {
				if !strings.Contains(string(tags), `"Key":"`+key+`"`) {
					t.Errorf("%s: %s (%s) has no %s tag", stack, name, r.Type, key)
				}
			}
		}
	}
}

// noResourceLevel are the actions IAM cannot scope to a resource, the only
// ones a statement may grant on "*".
var noResourceLevel = map[string]bool{
	"ecr:GetAuthorizationToken": true, "ecs:RegisterTaskDefinition": true,
	"elasticloadbalancing:DescribeTargetGroups": true, "elasticloadbalancing:DescribeListeners": true,
	"elasticloadbalancing:DescribeRules": true, "cloudwatch:DescribeAlarms": true,
	"ec2:CreateNetworkInterface": true, "ec2:DescribeDhcpOptions": true, "ec2:DescribeNetworkInterfaces": true,
	"ec2:DeleteNetworkInterface": true, "ec2:DescribeSubnets": true, "ec2:DescribeSecurityGroups": true,
	"ec2:DescribeVpcs": true,
}

// TestIAMIsLeastPrivilege: no wildcard action, and "*" resources only for
// actions that have no resource-level permissions.
func TestIAMIsLeastPrivilege(t *testing.T) {
	t.Parallel()
	for _, stack := range stacks {
		for name, r := range ofType(t, stack, "AWS::IAM::Role") {
			walk(r.Properties["Policies"], func(m map[string]any) {
				if _, isStatement := m["Effect"]; !isStatement || cfn.Scalar(m["Effect"]) != "Allow" {
					return
				}
				actions := list(m["Action"])
				if actions == nil {
					actions = []any{m["Action"]}
				}
				for _, a := range actions {
					if strings.Contains(cfn.Scalar(a), "*") {
						t.Errorf("%s: role %s grants the wildcard action %s", stack, name, cfn.Scalar(a))
					}
					if cfn.Scalar(m["Resource"]) == "*" && !noResourceLevel[cfn.Scalar(a)] {
						t.Errorf("%s: role %s grants %s on every resource; name its ARN", stack, name, cfn.Scalar(a))
					}
				}
			})
		}
	}
}

// Package plan turns the CloudFormation templates of infra/templates, with
// an environment's parameters, into the lab's planning deliverables: the
// architecture diagram (Mermaid for the README, Graphviz for an SVG) and the
// 12-month cost estimate. Both read what the templates would deploy, so they
// change when the architecture does; tests fail when the committed copies
// are stale.
package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// Stacks are the templates, in deployment order; each file is
// infra/templates/NAME.yaml and its parameters the NAME entry of an
// environment's file.
var Stacks = []string{"network", "data", "registry", "services", "monitoring", "pipelines"}

// Platform is what the templates deploy for one environment, as far as the
// diagram and the estimate need it.
type Platform struct {
	Env         string
	AZs         int    // Availability Zones: one public and one private subnet each
	VpcCidr     string // the VPC's address range
	TestCidr    string // who may reach the test listener
	Egress      string // NatGateway or VpcEndpoints: how private subnets reach AWS
	NatGateways int
	ElasticIPs  int
	// InterfaceEndpoints and GatewayEndpoints are the VPC endpoints' AWS
	// services (ecr.api, logs, s3…).
	InterfaceEndpoints, GatewayEndpoints []string

	Listeners []Listener
	Services  []Service
	Database  Database
	Secrets   []string // Secrets Manager secrets the templates create
	// Repositories are the ECR repositories, each keeping KeepImages images.
	Repositories []string
	KeepImages   int
	LogGroups    []LogGroup

	Source        string // CodeCommit or GitHub (CodeConnections)
	Pipelines     []Pipeline
	BuildProjects []BuildProject
	// TerminationWaitMinutes is how long a release keeps the old tasks.
	TerminationWaitMinutes float64
	Alarms                 int
	Dashboards             int
	Topics                 int
	// KMSKeys are the customer managed keys of every stack (the alarm
	// topic's), each billed by the month.
	KMSKeys int
}

// Listener is a load balancer listener and the rules it applies.
type Listener struct {
	Port     int
	Protocol string
	Rules    []Rule // by priority; the last is the default action
}

// Rule sends requests whose path matches Paths (none: the default) to
// Service's target groups, or redirects them.
type Rule struct {
	Paths    []string
	Service  string // empty for a redirect
	Redirect string // e.g. "HTTPS:443"
}

// Service is an ECS service on Fargate and its task definition.
type Service struct {
	Name         string
	CPU          int    // CPU units, 1024 to a vCPU
	MemoryMiB    int    // task memory
	Arch         string // X86_64 or ARM64
	Containers   []string
	TargetGroups []string // blue, green
	MinTasks     int
	MaxTasks     int
	// CPUTarget is the target tracking CPU percentage; RequestsPerTask the
	// requests per task per minute the other policy aims for.
	CPUTarget       float64
	RequestsPerTask float64
	Deployment      string // CodeDeploy's deployment configuration
}

// VCPU is the task's vCPUs.
func (s Service) VCPU() float64 { return float64(s.CPU) / 1024 }

// MemoryGB is the task's memory in GB, as Fargate bills it.
func (s Service) MemoryGB() float64 { return float64(s.MemoryMiB) / 1024 }

// Database is the RDS instance.
type Database struct {
	Engine, Version, Class string
	StorageType            string
	StorageGB              int
	MultiAZ                bool
	BackupRetentionDays    int
	// ManagedMasterSecret: RDS keeps the master password in a secret of its
	// own, billed like the others.
	ManagedMasterSecret bool
}

// LogGroup is a CloudWatch Logs group and its retention.
type LogGroup struct {
	Resource      string
	RetentionDays int
}

// Pipeline is a CodePipeline pipeline and its stages.
type Pipeline struct {
	Name   string
	Type   string // V1 or V2
	Stages []string
}

// BuildProject is a CodeBuild project.
type BuildProject struct {
	Resource    string
	ComputeType string
	InVPC       bool
}

// stack is one template with its parameters resolved.
type stack struct {
	name   string
	t      *cfn.Template
	params map[string]string
	// unresolved is the first value the planner could not resolve (see
	// value); it fails the stack's read.
	unresolved error
}

// Sources are an environment's templates and parameters, read once: each
// Platform call applies its overrides to them.
type Sources struct {
	Env       string
	templates map[string]*cfn.Template
	params    map[string]map[string]string // env's file: stack → parameter → value
}

// ReadSources reads the templates in dir and the parameters of env's file
// in paramsDir (infra/params/ENV.json).
func ReadSources(dir, paramsDir, env string) (*Sources, error) {
	b, err := os.ReadFile(filepath.Join(paramsDir, env+".json"))
	if err != nil {
		return nil, fmt.Errorf("read the %s parameters: %w", env, err)
	}
	src := &Sources{Env: env, templates: map[string]*cfn.Template{}}
	if err := json.Unmarshal(b, &src.params); err != nil {
		return nil, fmt.Errorf("%s parameters: %w", env, err)
	}
	for _, name := range Stacks {
		if src.templates[name], err = cfn.Load(filepath.Join(dir, name+".yaml")); err != nil {
			return nil, err
		}
	}
	return src, nil
}

// Platform is what the templates deploy with the environment's parameters,
// then overrides (stack → parameter → value), as a deployment with those
// parameters would.
func (src *Sources) Platform(overrides map[string]map[string]string) (*Platform, error) {
	p := &Platform{Env: src.Env}
	for _, name := range Stacks {
		t := src.templates[name]
		s := &stack{name: name, t: t, params: map[string]string{"EnvName": src.Env}}
		for k, def := range t.Parameters {
			if v, ok := def["Default"]; ok {
				s.params[k] = cfn.Scalar(v)
			}
		}
		maps.Copy(s.params, src.params[name])
		maps.Copy(s.params, overrides[name])
		if err := p.read(s); err != nil {
			return nil, fmt.Errorf("%s stack: %w", name, err)
		}
	}
	return p, nil
}

// Load reads the sources and returns their Platform with overrides.
func Load(dir, paramsDir, env string, overrides map[string]map[string]string) (*Platform, error) {
	src, err := ReadSources(dir, paramsDir, env)
	if err != nil {
		return nil, err
	}
	return src.Platform(overrides)
}

// value resolves a literal, a !Ref to a parameter, or a !Sub of parameters
// (other variables, such as ${AWS::Region}, stay as written). Anything else
// (another intrinsic function, a !Ref to a resource or a pseudo parameter)
// would need AWS to evaluate: value returns "" and keeps the first such
// value in s.unresolved, so the plan fails instead of reading "".
func (s *stack) value(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return cfn.Scalar(v)
	}
	ref, isRef := m["Ref"].(string)
	if val, ok := s.params[ref]; isRef && ok {
		return val
	}
	if text, ok := m["Fn::Sub"].(string); ok {
		for k, val := range s.params {
			text = strings.ReplaceAll(text, "${"+k+"}", val)
		}
		return text
	}
	if s.unresolved == nil {
		what := strings.Join(slices.Sorted(maps.Keys(m)), ", ")
		if isRef {
			what = "Ref " + ref + " (not a parameter with a value)"
		}
		s.unresolved = fmt.Errorf("%s at %s: the planner cannot resolve it", what, s.locate(m))
	}
	return ""
}

// locate is where the value m sits in the template, such as
// "Resources.Database.Properties.StorageType".
func (s *stack) locate(m map[string]any) string {
	for _, name := range slices.Sorted(maps.Keys(s.t.Conditions)) {
		if path, ok := find(s.t.Conditions[name], m, "Conditions."+name); ok {
			return path
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.t.Resources)) {
		if path, ok := find(s.t.Resources[name].Properties, m, "Resources."+name+".Properties"); ok {
			return path
		}
	}
	return "an unknown place"
}

// find returns the path of target (the very map, not an equal one) within v.
func find(v any, target map[string]any, path string) (string, bool) {
	switch v := v.(type) {
	case map[string]any:
		if reflect.ValueOf(v).UnsafePointer() == reflect.ValueOf(target).UnsafePointer() {
			return path, true
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if p, ok := find(v[k], target, path+"."+k); ok {
				return p, true
			}
		}
	case []any:
		for i, e := range v {
			if p, ok := find(e, target, fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
	}
	return "", false
}

func (s *stack) number(v any) int {
	n, _ := strconv.Atoi(s.value(v))
	return n
}

// condition evaluates a template condition by name.
func (s *stack) condition(name string) (bool, error) {
	expr, ok := s.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %q", name)
	}
	return s.eval(expr)
}

func (s *stack) eval(expr any) (bool, error) {
	m, ok := expr.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("condition %v: want one function", expr)
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Condition":
			return s.condition(cfn.Scalar(arg))
		case "Fn::Equals":
			if len(args) != 2 {
				return false, fmt.Errorf("Fn::Equals %v: want two values", arg)
			}
			return s.value(args[0]) == s.value(args[1]), nil
		case "Fn::Not", "Fn::And", "Fn::Or":
			results := make([]bool, len(args))
			for i, a := range args {
				r, err := s.eval(a)
				if err != nil {
					return false, err
				}
				results[i] = r
			}
			switch {
			case fn == "Fn::Not" && len(results) == 1:
				return !results[0], nil
			case fn == "Fn::And":
				return !slices.Contains(results, false), nil
			case fn == "Fn::Or":
				return slices.Contains(results, true), nil
			}
		}
		return false, fmt.Errorf("condition function %s %v not understood", fn, arg)
	}
	panic("unreachable")
}

// resources are the stack's resources of type typ that it would create
// (their conditions hold), by logical name.
func (s *stack) resources(typ string) ([]string, error) {
	var names []string
	for _, name := range slices.Sorted(maps.Keys(s.t.Resources)) {
		r := s.t.Resources[name]
		if r.Type != typ {
			continue
		}
		if r.Condition != "" {
			ok, err := s.condition(r.Condition)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if !ok {
				continue
			}
		}
		names = append(names, name)
	}
	return names, nil
}

// ref is the logical name a !Ref or !GetAtt points at.
func ref(v any) string {
	m, _ := v.(map[string]any)
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if l, ok := m["Fn::GetAtt"].([]any); ok && len(l) > 0 {
		return cfn.Scalar(l[0])
	}
	return ""
}

func props(s *stack, name string) map[string]any { return s.t.Resources[name].Properties }

func (p *Platform) read(s *stack) error {
	var err error
	all := func(typ string) []string {
		if err != nil {
			return nil
		}
		var names []string
		names, err = s.resources(typ)
		return names
	}
	p.KMSKeys += len(all("AWS::KMS::Key"))
	switch s.name {
	case "network":
		p.VpcCidr, p.TestCidr, p.Egress = s.params["VpcCidr"], s.params["TestTrafficCidr"], s.params["Egress"]
		for _, sub := range all("AWS::EC2::Subnet") {
			if strings.HasPrefix(sub, "Private") {
				p.AZs++
			}
		}
		p.NatGateways = len(all("AWS::EC2::NatGateway"))
		p.ElasticIPs = len(all("AWS::EC2::EIP"))
		for _, e := range all("AWS::EC2::VPCEndpoint") {
			pr := props(s, e)
			svc := endpointService(pr["ServiceName"])
			if s.value(pr["VpcEndpointType"]) == "Interface" {
				p.InterfaceEndpoints = append(p.InterfaceEndpoints, svc)
			} else {
				p.GatewayEndpoints = append(p.GatewayEndpoints, svc)
			}
		}
	case "data":
		for _, db := range all("AWS::RDS::DBInstance") {
			pr := props(s, db)
			p.Database = Database{
				Engine: s.value(pr["Engine"]), Version: s.value(pr["EngineVersion"]),
				Class: s.value(pr["DBInstanceClass"]), StorageType: s.value(pr["StorageType"]),
				StorageGB: s.number(pr["AllocatedStorage"]), MultiAZ: s.value(pr["MultiAZ"]) == "true",
				BackupRetentionDays: s.number(pr["BackupRetentionPeriod"]),
				ManagedMasterSecret: s.value(pr["ManageMasterUserPassword"]) == "true",
			}
		}
		p.Secrets = append(p.Secrets, all("AWS::SecretsManager::Secret")...)
	case "registry":
		for _, r := range all("AWS::ECR::Repository") {
			p.Repositories = append(p.Repositories, s.value(props(s, r)["RepositoryName"]))
		}
		p.KeepImages, _ = strconv.Atoi(s.params["KeepImages"])
	case "services":
		err = p.readServices(s, all)
	case "pipelines":
		p.TerminationWaitMinutes, _ = strconv.ParseFloat(s.params["TerminationWaitMinutes"], 64)
		p.Source = "GitHub"
		if len(all("AWS::CodeCommit::Repository")) > 0 {
			p.Source = "CodeCommit"
		}
		for _, name := range all("AWS::CodePipeline::Pipeline") {
			pr := props(s, name)
			pl := Pipeline{Name: name, Type: s.value(pr["PipelineType"])}
			stages, _ := pr["Stages"].([]any)
			for _, st := range stages {
				m, _ := st.(map[string]any)
				pl.Stages = append(pl.Stages, cfn.Scalar(m["Name"]))
			}
			p.Pipelines = append(p.Pipelines, pl)
		}
		for _, name := range all("AWS::CodeBuild::Project") {
			pr := props(s, name)
			env, _ := pr["Environment"].(map[string]any)
			_, vpc := pr["VpcConfig"]
			p.BuildProjects = append(p.BuildProjects, BuildProject{Resource: name, ComputeType: s.value(env["ComputeType"]), InVPC: vpc})
		}
		for _, name := range all("AWS::CodeDeploy::DeploymentGroup") {
			cfg := s.value(props(s, name)["DeploymentConfigName"])
			for i := range p.Services {
				if strings.HasPrefix(strings.ToLower(name), p.Services[i].Name) {
					p.Services[i].Deployment = cfg
				}
			}
		}
		p.readLogGroups(s, all("AWS::Logs::LogGroup"))
	case "monitoring":
		p.Alarms = len(all("AWS::CloudWatch::Alarm"))
		p.Dashboards = len(all("AWS::CloudWatch::Dashboard"))
		p.Topics = len(all("AWS::SNS::Topic"))
	}
	return errors.Join(err, s.unresolved)
}

// endpointService is the AWS service of an endpoint's
// "com.amazonaws.${AWS::Region}.NAME".
func endpointService(v any) string {
	m, _ := v.(map[string]any)
	s := cfn.Scalar(m["Fn::Sub"])
	if s == "" {
		s = cfn.Scalar(v)
	}
	return s[strings.LastIndex(s, "}.")+2:]
}

func (p *Platform) readLogGroups(s *stack, names []string) {
	for _, name := range names {
		p.LogGroups = append(p.LogGroups, LogGroup{Resource: name, RetentionDays: s.number(props(s, name)["RetentionInDays"])})
	}
}

func (p *Platform) readServices(s *stack, all func(string) []string) error {
	targetService := map[string]string{} // target group → service
	for _, name := range all("AWS::ECS::Service") {
		pr := props(s, name)
		svc := Service{Name: s.value(pr["ServiceName"])}
		// The templates name a service's resources alike: CustomerService,
		// CustomerTaskDefinition, CustomerBlueTargetGroup, CustomerCpuScaling…
		prefix := strings.TrimSuffix(name, "Service")
		// The service takes the stack's first revision unless deploy.sh
		// passes back the one it was created with.
		td := props(s, ref(s.pick(pr["TaskDefinition"])))
		svc.CPU, svc.MemoryMiB = s.number(td["Cpu"]), s.number(td["Memory"])
		rp, _ := td["RuntimePlatform"].(map[string]any)
		svc.Arch = s.value(rp["CpuArchitecture"])
		containers, _ := td["ContainerDefinitions"].([]any)
		for _, c := range containers {
			m, _ := c.(map[string]any)
			svc.Containers = append(svc.Containers, cfn.Scalar(m["Name"]))
		}
		for _, tg := range all("AWS::ElasticLoadBalancingV2::TargetGroup") {
			if strings.HasPrefix(tg, prefix) {
				svc.TargetGroups = append(svc.TargetGroups, tg)
				targetService[tg] = svc.Name
			}
		}
		for _, st := range all("AWS::ApplicationAutoScaling::ScalableTarget") {
			stp := props(s, st)
			if strings.HasPrefix(st, prefix) {
				svc.MinTasks, svc.MaxTasks = s.number(stp["MinCapacity"]), s.number(stp["MaxCapacity"])
			}
		}
		for _, sp := range all("AWS::ApplicationAutoScaling::ScalingPolicy") {
			if !strings.HasPrefix(sp, prefix) {
				continue
			}
			cfg, _ := props(s, sp)["TargetTrackingScalingPolicyConfiguration"].(map[string]any)
			metric, _ := cfg["PredefinedMetricSpecification"].(map[string]any)
			target, _ := strconv.ParseFloat(s.value(cfg["TargetValue"]), 64)
			switch s.value(metric["PredefinedMetricType"]) {
			case "ECSServiceAverageCPUUtilization":
				svc.CPUTarget = target
			}
			// Requests per task: metric math over the blue and green target
			// groups' RequestCount.
			custom, _ := cfg["CustomizedMetricSpecification"].(map[string]any)
			queries, _ := custom["Metrics"].([]any)
			for _, q := range queries {
				stat, _ := q.(map[string]any)["MetricStat"].(map[string]any)
				m, _ := stat["Metric"].(map[string]any)
				if cfn.Scalar(m["MetricName"]) == "RequestCount" {
					svc.RequestsPerTask = target
				}
			}
		}
		p.Services = append(p.Services, svc)
	}
	if len(p.Services) == 0 {
		return fmt.Errorf("no ECS service")
	}

	rules := map[string][]Rule{} // listener → its path rules
	for _, name := range all("AWS::ElasticLoadBalancingV2::ListenerRule") {
		pr := props(s, name)
		var paths []string
		conds, _ := pr["Conditions"].([]any)
		for _, c := range conds {
			m, _ := c.(map[string]any)
			cfg, _ := m["PathPatternConfig"].(map[string]any)
			values, _ := cfg["Values"].([]any)
			for _, v := range values {
				paths = append(paths, cfn.Scalar(v))
			}
		}
		rule := Rule{Paths: paths}
		s.applyAction(&rule, pr["Actions"], targetService)
		l := ref(s.pick(pr["ListenerArn"]))
		rules[l] = append(rules[l], rule)
	}
	for _, name := range all("AWS::ElasticLoadBalancingV2::Listener") {
		pr := props(s, name)
		l := Listener{Port: s.number(s.pick(pr["Port"])), Protocol: s.value(s.pick(pr["Protocol"]))}
		l.Rules = rules[name]
		var def Rule
		s.applyAction(&def, pr["DefaultActions"], targetService)
		l.Rules = append(l.Rules, def)
		p.Listeners = append(p.Listeners, l)
	}
	slices.SortFunc(p.Listeners, func(a, b Listener) int { return a.Port - b.Port })
	p.readLogGroups(s, all("AWS::Logs::LogGroup"))
	return nil
}

// pick resolves a top-level Fn::If by its condition; any other value is
// returned as it is.
func (s *stack) pick(v any) any {
	m, _ := v.(map[string]any)
	branches, ok := m["Fn::If"].([]any)
	if !ok || len(branches) != 3 {
		return v
	}
	if yes, err := s.condition(cfn.Scalar(branches[0])); err == nil && yes {
		return s.pick(branches[1])
	}
	return s.pick(branches[2])
}

// applyAction reads a listener's (default) actions into r: a forward to a
// service's target group, or a redirect.
func (s *stack) applyAction(r *Rule, actions any, targetService map[string]string) {
	list, _ := s.pick(actions).([]any)
	for _, a := range list {
		m, _ := s.pick(a).(map[string]any)
		switch cfn.Scalar(m["Type"]) {
		case "forward":
			r.Service = targetService[ref(m["TargetGroupArn"])]
		case "redirect":
			cfg, _ := m["RedirectConfig"].(map[string]any)
			r.Redirect = cfn.Scalar(cfg["Protocol"]) + ":" + cfn.Scalar(cfg["Port"])
		}
	}
}

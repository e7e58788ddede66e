package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// deployConfig is what the pipelines template tells CodeDeploy: the canary
// share and bake time of the deployment configuration, and how long the
// old tasks stay after a release.
type deployConfig struct {
	Name            string
	CanaryPercent   int
	Bake            time.Duration
	TerminationWait time.Duration
}

// canaryConfig matches CodeDeploy's predefined canary configurations for
// ECS (https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html):
// CodeDeployDefault.ECSCanary10Percent5Minutes shifts 10 % for 5 minutes,
// then the rest.
var canaryConfig = regexp.MustCompile(`^CodeDeployDefault\.ECSCanary(\d+)Percent(\d+)Minutes$`)

// readDeployConfig reads the deployment group of service (customer or
// employee) in pipelines.yaml.
func readDeployConfig(path, service string) (deployConfig, error) {
	t, err := cfn.Load(path)
	if err != nil {
		return deployConfig{}, err
	}
	group := strings.ToUpper(service[:1]) + service[1:] + "DeploymentGroup"
	r, ok := t.Resources[group]
	if !ok {
		return deployConfig{}, fmt.Errorf("%s has no %s", path, group)
	}
	name := cfn.Scalar(r.Properties["DeploymentConfigName"])
	m := canaryConfig.FindStringSubmatch(name)
	if m == nil {
		return deployConfig{}, fmt.Errorf("%s: %s uses %q; the rehearsal knows the ECS canary configurations (CodeDeployDefault.ECSCanaryNPercentMMinutes)", path, group, name)
	}
	pct, _ := strconv.Atoi(m[1])
	minutes, _ := strconv.Atoi(m[2])
	cfg := deployConfig{Name: name, CanaryPercent: pct, Bake: time.Duration(minutes) * time.Minute}
	wait, err := lookup(r.Properties, "BlueGreenDeploymentConfiguration", "TerminateBlueInstancesOnDeploymentSuccess", "TerminationWaitTimeInMinutes")
	if err != nil {
		return deployConfig{}, fmt.Errorf("%s: %s: %w", path, group, err)
	}
	w, err := number(t, wait)
	if err != nil {
		return deployConfig{}, fmt.Errorf("%s: %s's termination wait: %w", path, group, err)
	}
	cfg.TerminationWait = time.Duration(w * float64(time.Minute))
	return cfg, nil
}

// lookup walks nested maps.
func lookup(v any, keys ...string) (any, error) {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok || m[k] == nil {
			return nil, fmt.Errorf("no %s", strings.Join(keys, "."))
		}
		v = m[k]
	}
	return v, nil
}

// number is a template value that is a number, or a Ref to a parameter
// whose default is one (the value a stack gets without an override).
func number(t *cfn.Template, v any) (float64, error) {
	if m, ok := v.(map[string]any); ok {
		ref, ok := m["Ref"].(string)
		if !ok {
			return 0, fmt.Errorf("want a number or a Ref, got %v", v)
		}
		p, ok := t.Parameters[ref]
		if !ok || p["Default"] == nil {
			return 0, fmt.Errorf("parameter %s has no default", ref)
		}
		v = p["Default"]
	}
	f, err := strconv.ParseFloat(cfn.Scalar(v), 64)
	if err != nil {
		return 0, fmt.Errorf("want a number, got %v", v)
	}
	return f, nil
}

// alarm is one of the alarms that roll a service's release back.
type alarm struct {
	Name        string // the AlarmName, as the template writes it
	Service     string
	TargetGroup string // blue or green: which target group it watches
	Metric      string // HTTPCode_Target_5XX_Count, TargetResponseTime, UnHealthyHostCount
	Statistic   string // Sum, Maximum, p99…
	Threshold   float64
	Period      time.Duration
	Evaluations int
}

// readAlarms reads the alarms monitoring.yaml exports as the service's
// rollback alarms (the list the deployment group watches).
func readAlarms(path, service string) ([]alarm, error) {
	t, err := cfn.Load(path)
	if err != nil {
		return nil, err
	}
	output := strings.ToUpper(service[:1]) + service[1:] + "RollbackAlarms"
	join, err := lookup(t.Outputs[output], "Value", "Fn::Join")
	if err != nil {
		return nil, fmt.Errorf("%s: output %s: %w", path, output, err)
	}
	parts, ok := join.([]any)
	if !ok || len(parts) != 2 {
		return nil, fmt.Errorf("%s: output %s: want !Join [\",\", [...]]", path, output)
	}
	refs, _ := parts[1].([]any)
	var alarms []alarm
	for _, ref := range refs {
		name, _ := lookup(ref, "Ref")
		res, ok := t.Resources[cfn.Scalar(name)]
		if !ok || res.Type != "AWS::CloudWatch::Alarm" {
			return nil, fmt.Errorf("%s: output %s names %v, not an alarm of the template", path, output, ref)
		}
		p := res.Properties
		a := alarm{Service: service, Metric: cfn.Scalar(p["MetricName"]), Statistic: cfn.Scalar(p["Statistic"])}
		if a.Statistic == "" {
			a.Statistic = cfn.Scalar(p["ExtendedStatistic"])
		}
		if s, err := lookup(p, "AlarmName", "Fn::Sub"); err == nil {
			a.Name = strings.ReplaceAll(cfn.Scalar(s), "${EnvName}", "rehearsal")
		}
		switch op := cfn.Scalar(p["ComparisonOperator"]); op {
		case "GreaterThanThreshold":
		default:
			return nil, fmt.Errorf("%s: %s compares with %s; the rehearsal evaluates GreaterThanThreshold only", path, a.Name, op)
		}
		if a.Threshold, err = number(t, p["Threshold"]); err != nil {
			return nil, fmt.Errorf("%s: %s's threshold: %w", path, a.Name, err)
		}
		period, err := number(t, p["Period"])
		if err != nil {
			return nil, fmt.Errorf("%s: %s's period: %w", path, a.Name, err)
		}
		a.Period = time.Duration(period) * time.Second
		evals, err := number(t, p["EvaluationPeriods"])
		if err != nil {
			return nil, fmt.Errorf("%s: %s's evaluation periods: %w", path, a.Name, err)
		}
		a.Evaluations = int(evals)
		dims, _ := p["Dimensions"].([]any)
		for _, d := range dims {
			if dn, _ := lookup(d, "Name"); cfn.Scalar(dn) != "TargetGroup" {
				continue
			}
			b, _ := json.Marshal(d)
			switch {
			case strings.Contains(string(b), "BlueTargetGroup"):
				a.TargetGroup = "blue"
			case strings.Contains(string(b), "GreenTargetGroup"):
				a.TargetGroup = "green"
			}
		}
		if a.TargetGroup == "" {
			return nil, fmt.Errorf("%s: %s watches no blue or green target group", path, a.Name)
		}
		switch a.Metric {
		case "HTTPCode_Target_5XX_Count", "TargetResponseTime", "UnHealthyHostCount":
		default:
			return nil, fmt.Errorf("%s: %s watches %s, which the rehearsal cannot measure", path, a.Name, a.Metric)
		}
		alarms = append(alarms, a)
	}
	if len(alarms) == 0 {
		return nil, fmt.Errorf("%s: output %s lists no alarm", path, output)
	}
	return alarms, nil
}

// check is one of the release checks the AfterAllowTestTraffic hook runs
// against the test listener (deployment/release-checks.json): the page at
// Path answers Status and contains Marker.
type check struct {
	Path   string `json:"path"`
	Status int    `json:"status"`
	Marker string `json:"marker"`
}

func readChecks(root string) ([]check, error) {
	b, err := os.ReadFile(filepath.Join(root, "deployment", "release-checks.json"))
	if err != nil {
		return nil, fmt.Errorf("the release checks: %w", err)
	}
	var checks []check
	if err := json.Unmarshal(b, &checks); err != nil {
		return nil, fmt.Errorf("deployment/release-checks.json: %w", err)
	}
	if len(checks) == 0 {
		return nil, fmt.Errorf("deployment/release-checks.json lists no check")
	}
	return checks, nil
}

// healthCheckPath is the path the service's target groups probe
// (services.yaml), which HAProxy's backends probe too.
func healthCheckPath(path, service string) (string, error) {
	t, err := cfn.Load(path)
	if err != nil {
		return "", err
	}
	for name, r := range t.Resources {
		if r.Type == "AWS::ElasticLoadBalancingV2::TargetGroup" && strings.HasPrefix(name, strings.ToUpper(service[:1])+service[1:]) {
			if p := cfn.Scalar(r.Properties["HealthCheckPath"]); p != "" {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s: no target group of %s with a HealthCheckPath", path, service)
}

// parameterDefault is the value a template's parameter takes when a stack
// is deployed without overriding it.
func parameterDefault(path, name string) (float64, error) {
	t, err := cfn.Load(path)
	if err != nil {
		return 0, err
	}
	n, err := number(t, map[string]any{"Ref": name})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

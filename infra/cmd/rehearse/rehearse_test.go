package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const templates = "../../templates"

// The rehearsal's canary and termination wait are the pipelines
// template's, whatever they are: a changed deployment configuration
// changes the rehearsal.
func TestDeployConfigFromTheTemplates(t *testing.T) {
	for _, svc := range services {
		cfg, err := readDeployConfig(filepath.Join(templates, "pipelines.yaml"), svc)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Name != "CodeDeployDefault.ECSCanary10Percent5Minutes" || cfg.CanaryPercent != 10 || cfg.Bake != 5*time.Minute {
			t.Errorf("%s: %+v, want the template's CodeDeployDefault.ECSCanary10Percent5Minutes: 10%% for 5m", svc, cfg)
		}
		if cfg.TerminationWait != 5*time.Minute {
			t.Errorf("%s: termination wait %v, want the TerminationWaitMinutes default (5)", svc, cfg.TerminationWait)
		}
	}
	tpl := writeTemplate(t, `
Resources:
  CustomerDeploymentGroup:
    Type: AWS::CodeDeploy::DeploymentGroup
    Properties:
      DeploymentConfigName: CodeDeployDefault.ECSAllAtOnce
`)
	if _, err := readDeployConfig(tpl, "customer"); err == nil || !strings.Contains(err.Error(), "ECSAllAtOnce") {
		t.Errorf("an all-at-once deployment was read as a canary (err %v)", err)
	}
}

// The rehearsal's alarms are the ones monitoring.yaml lists as the
// rollback alarms, with their thresholds (the parameters' defaults).
func TestRollbackAlarmsFromTheTemplates(t *testing.T) {
	for _, svc := range services {
		alarms, err := readAlarms(filepath.Join(templates, "monitoring.yaml"), svc)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]alarm{}
		for _, a := range alarms {
			got[a.TargetGroup+" "+a.Metric] = a
		}
		for _, want := range []alarm{
			{TargetGroup: "blue", Metric: "HTTPCode_Target_5XX_Count", Threshold: 5, Period: time.Minute, Evaluations: 2},
			{TargetGroup: "green", Metric: "HTTPCode_Target_5XX_Count", Threshold: 5, Period: time.Minute, Evaluations: 2},
			{TargetGroup: "blue", Metric: "TargetResponseTime", Threshold: 1, Period: time.Minute, Evaluations: 3},
			{TargetGroup: "green", Metric: "TargetResponseTime", Threshold: 1, Period: time.Minute, Evaluations: 3},
			{TargetGroup: "green", Metric: "UnHealthyHostCount", Threshold: 0, Period: time.Minute},
		} {
			a, ok := got[want.TargetGroup+" "+want.Metric]
			if !ok {
				t.Errorf("%s: no %s alarm on the %s target group among %+v", svc, want.Metric, want.TargetGroup, alarms)
				continue
			}
			if a.Threshold != want.Threshold || a.Period != want.Period || (want.Evaluations != 0 && a.Evaluations != want.Evaluations) {
				t.Errorf("%s: %s is > %g over %d × %v, want > %g over %d × %v", svc, a.Name, a.Threshold, a.Evaluations, a.Period,
					want.Threshold, want.Evaluations, want.Period)
			}
		}
	}
}

// readRelease takes the container and port from the AppSpec and the rest
// from the task definition, and refuses artifacts that disagree — so an
// inconsistent release fails in the rehearsal, not in AWS.
func TestReleaseArtifactsMustAgree(t *testing.T) {
	taskdef := `{"memory":"512","containerDefinitions":[{"name":"customer","image":"<IMAGE1_NAME>","user":"65532:65532",
	"readonlyRootFilesystem":true,"portMappings":[{"containerPort":8080}],"environment":[{"name":"PORT","value":"8080"}],
	"secrets":[{"name":"APP_DB_PASSWORD","valueFrom":"arn:db"}],
	"healthCheck":{"command":["CMD","/customer","healthcheck"],"interval":10,"timeout":3,"retries":3,"startPeriod":10},"stopTimeout":30}]}`
	appspec := func(name string, port int) string {
		return "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: <TASK_DEFINITION>\n" +
			"        LoadBalancerInfo:\n          ContainerName: " + name + "\n          ContainerPort: " + strconv.Itoa(port) + "\n"
	}
	write := func(taskdef, appspec string) string {
		dir := t.TempDir()
		for name, text := range map[string]string{"imageDetail.json": `{"ImageURI":"registry/customer:abc"}`, "taskdef.json": taskdef, "appspec.yaml": appspec} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	task, err := readRelease(write(taskdef, appspec("customer", 8080)), "customer")
	if err != nil {
		t.Fatal(err)
	}
	if task.Image != "registry/customer:abc" || task.Port != 8080 || task.StopTimeout != 30 || task.Secrets["APP_DB_PASSWORD"] != "arn:db" ||
		strings.Join(task.Health, " ") != "/customer healthcheck" || !task.ReadOnly {
		t.Errorf("read %+v from a consistent release", task)
	}
	for name, dir := range map[string]string{
		"the AppSpec names another container": write(taskdef, appspec("customers", 8080)),
		"the AppSpec names an unmapped port":  write(taskdef, appspec("customer", 9090)),
		"the task definition names no image":  write(strings.Replace(taskdef, "<IMAGE1_NAME>", "customer:latest", 1), appspec("customer", 8080)),
	} {
		if _, err := readRelease(dir, "customer"); err == nil {
			t.Errorf("%s: the release was accepted", name)
		}
	}
}

func writeTemplate(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The load balancer's canary: the share map sends share % of the
// requests to the candidate, which the configuration must say.
func TestHAProxyConfigRoutesByMaps(t *testing.T) {
	cfg := haproxyConfig(map[string]string{"customer": "/healthz", "employee": "/healthz"})
	for _, want := range []string{"map_str_int(" + shareMap, "map(" + candidateMap + ")", "map(" + productionMap + ")", "map(" + testMap + ")",
		"backend customer_blue", "backend customer_green", "backend employee_blue", "backend employee_green", "option httpchk GET /healthz"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("the rehearsal's HAProxy configuration lacks %q", want)
		}
	}
	if got := percentile([]time.Duration{3, 1, 2, 100}, 99); got != 100 {
		t.Errorf("p99 of 1,2,3,100 = %v, want 100", got)
	}
}

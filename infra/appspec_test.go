package infra

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// checkAppSpec lists how an AppSpec departs from what CodeDeploy's ECS
// blue/green needs and from the service's task definition and target
// groups.
func checkAppSpec(t *testing.T, svc string, appspec, taskdef []byte) []string {
	t.Helper()
	var spec struct {
		Version   yaml.Node `yaml:"version"`
		Resources []map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				TaskDefinition   string `yaml:"TaskDefinition"`
				LoadBalancerInfo struct {
					ContainerName string `yaml:"ContainerName"`
					ContainerPort int    `yaml:"ContainerPort"`
				} `yaml:"LoadBalancerInfo"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(appspec, &spec); err != nil {
		return []string{"not YAML: " + err.Error()}
	}
	var problems []string
	if spec.Version.Value != "0.0" {
		problems = append(problems, fmt.Sprintf("version %q, want 0.0", spec.Version.Value))
	}
	if len(spec.Resources) != 1 || len(spec.Resources[0]) != 1 {
		return append(problems, fmt.Sprintf("%d resources, want one ECS service target", len(spec.Resources)))
	}
	for _, target := range spec.Resources[0] {
		if target.Type != "AWS::ECS::Service" {
			problems = append(problems, fmt.Sprintf("target type %q, want AWS::ECS::Service", target.Type))
		}
		p := target.Properties
		if p.TaskDefinition != "<TASK_DEFINITION>" {
			problems = append(problems, fmt.Sprintf("TaskDefinition %q, want the placeholder <TASK_DEFINITION>", p.TaskDefinition))
		}
		var td struct {
			ContainerDefinitions []struct {
				Name         string
				PortMappings []struct{ ContainerPort int }
			}
		}
		if err := json.Unmarshal(taskdef, &td); err != nil {
			return append(problems, "task definition: "+err.Error())
		}
		found := false
		for _, c := range td.ContainerDefinitions {
			for _, pm := range c.PortMappings {
				found = found || c.Name == p.LoadBalancerInfo.ContainerName && pm.ContainerPort == p.LoadBalancerInfo.ContainerPort
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("container %s port %d is not in taskdef-%s.json", p.LoadBalancerInfo.ContainerName, p.LoadBalancerInfo.ContainerPort, svc))
		}
		S := title(svc)
		lb := at(resource(t, "services", S+"Service", "AWS::ECS::Service").Properties, "LoadBalancers", 0)
		if cfn.Scalar(at(lb, "ContainerName")) != p.LoadBalancerInfo.ContainerName || cfn.Scalar(at(lb, "ContainerPort")) != fmt.Sprint(p.LoadBalancerInfo.ContainerPort) {
			problems = append(problems, fmt.Sprintf("the service's load balancer sends to %v:%v, the AppSpec to %s:%d", at(lb, "ContainerName"), at(lb, "ContainerPort"), p.LoadBalancerInfo.ContainerName, p.LoadBalancerInfo.ContainerPort))
		}
		for _, color := range []string{"Blue", "Green"} {
			tg := resource(t, "services", S+color+"TargetGroup", "AWS::ElasticLoadBalancingV2::TargetGroup")
			if cfn.Scalar(tg.Properties["Port"]) != fmt.Sprint(p.LoadBalancerInfo.ContainerPort) {
				problems = append(problems, fmt.Sprintf("%s target group's port %v, the AppSpec's %d", color, tg.Properties["Port"], p.LoadBalancerInfo.ContainerPort))
			}
		}
	}
	return problems
}

func readDeployment(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "deployment", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppSpecs(t *testing.T) {
	t.Parallel()
	for _, svc := range services {
		for _, p := range checkAppSpec(t, svc, readDeployment(t, "appspec-"+svc+".yaml"), readDeployment(t, "taskdef-"+svc+".json")) {
			t.Errorf("deployment/appspec-%s.yaml: %s", svc, p)
		}
	}
}

func TestAppSpecDriftIsCaught(t *testing.T) {
	t.Parallel()
	spec := string(readDeployment(t, "appspec-customer.yaml"))
	td := readDeployment(t, "taskdef-customer.json")
	for name, m := range map[string][2]string{
		"version":        {"version: 0.0", "version: 1.0"},
		"placeholder":    {"TaskDefinition: <TASK_DEFINITION>", "TaskDefinition: arn:aws:ecs:us-east-1:123456789012:task-definition/x:1"},
		"container name": {"ContainerName: customer", "ContainerName: web"},
		"port":           {"ContainerPort: 8080", "ContainerPort: 9090"},
		"not ECS":        {"Type: AWS::ECS::Service", "Type: AWS::Lambda::Function"},
	} {
		if !strings.Contains(spec, m[0]) {
			t.Fatalf("appspec-customer.yaml no longer holds %q: update this test", m[0])
		}
		if len(checkAppSpec(t, "customer", []byte(strings.Replace(spec, m[0], m[1], 1)), td)) == 0 {
			t.Errorf("%s: replacing %q with %q went unnoticed", name, m[0], m[1])
		}
	}
}

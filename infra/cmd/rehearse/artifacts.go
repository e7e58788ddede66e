package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// task is what the rehearsal starts for one replica of a release: read
// from the Release artifact (imageDetail.json, taskdef.json, appspec.yaml)
// the way the CodeDeployToECS action and ECS read it.
type task struct {
	Service     string
	Image       string
	Container   string // the AppSpec's ContainerName
	Port        int    // the AppSpec's ContainerPort
	Env         []string
	Secrets     map[string]string // variable → valueFrom
	Health      []string          // the container's healthCheck command
	Interval    int
	Timeout     int
	Retries     int
	StartPeriod int
	StopTimeout int
	User        string
	ReadOnly    bool
	CapDrop     []string
	MemoryMiB   string
}

// readRelease reads one service's Release artifact from dir. Like the
// CodeDeployToECS action it puts imageDetail.json's ImageURI in place of
// <IMAGE1_NAME>, then takes the AppSpec's container and port from the task
// definition; any mismatch between the three files is an error here.
func readRelease(dir, service string) (task, error) {
	var detail struct{ ImageURI string }
	if err := readJSON(filepath.Join(dir, "imageDetail.json"), &detail); err != nil {
		return task{}, err
	}
	if detail.ImageURI == "" {
		return task{}, fmt.Errorf("%s/imageDetail.json names no ImageURI", dir)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "taskdef.json"))
	if err != nil {
		return task{}, fmt.Errorf("the Release artifact: %w", err)
	}
	if !strings.Contains(string(raw), "<IMAGE1_NAME>") {
		return task{}, fmt.Errorf("%s/taskdef.json has no <IMAGE1_NAME> for the image of imageDetail.json", dir)
	}
	raw = []byte(strings.ReplaceAll(string(raw), "<IMAGE1_NAME>", detail.ImageURI))
	var def struct {
		Memory               string `json:"memory"`
		ContainerDefinitions []struct {
			Name           string
			Image          string
			User           string
			ReadOnlyRootFS bool `json:"readonlyRootFilesystem"`
			Linux          struct {
				Capabilities struct{ Drop []string }
			} `json:"linuxParameters"`
			PortMappings []struct{ ContainerPort int }
			Environment  []struct{ Name, Value string }
			Secrets      []struct{ Name, ValueFrom string }
			HealthCheck  *struct {
				Command                                 []string
				Interval, Timeout, Retries, StartPeriod int
			}
			StopTimeout int
		}
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		return task{}, fmt.Errorf("%s/taskdef.json: %w", dir, err)
	}
	var spec struct {
		Resources []struct {
			TargetService struct {
				Type       string `yaml:"Type"`
				Properties struct {
					LoadBalancerInfo struct {
						ContainerName string `yaml:"ContainerName"`
						ContainerPort int    `yaml:"ContainerPort"`
					} `yaml:"LoadBalancerInfo"`
				} `yaml:"Properties"`
			} `yaml:"TargetService"`
		} `yaml:"Resources"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "appspec.yaml"))
	if err != nil {
		return task{}, fmt.Errorf("the Release artifact: %w", err)
	}
	if err := yaml.Unmarshal(b, &spec); err != nil {
		return task{}, fmt.Errorf("%s/appspec.yaml: %w", dir, err)
	}
	if len(spec.Resources) != 1 || spec.Resources[0].TargetService.Type != "AWS::ECS::Service" {
		return task{}, fmt.Errorf("%s/appspec.yaml: want one AWS::ECS::Service TargetService", dir)
	}
	lb := spec.Resources[0].TargetService.Properties.LoadBalancerInfo
	for _, c := range def.ContainerDefinitions {
		if c.Name != lb.ContainerName {
			continue
		}
		if c.Image != detail.ImageURI {
			return task{}, fmt.Errorf("%s: the container %s runs %q, not the build's image %s", dir, c.Name, c.Image, detail.ImageURI)
		}
		if !slices.ContainsFunc(c.PortMappings, func(p struct{ ContainerPort int }) bool { return p.ContainerPort == lb.ContainerPort }) {
			return task{}, fmt.Errorf("%s: the AppSpec sends traffic to %s:%d, a port the task definition does not map", dir, c.Name, lb.ContainerPort)
		}
		if c.HealthCheck == nil || len(c.HealthCheck.Command) < 2 || c.HealthCheck.Command[0] != "CMD" {
			return task{}, fmt.Errorf("%s: the container %s has no CMD health check", dir, c.Name)
		}
		t := task{Service: service, Image: c.Image, Container: c.Name, Port: lb.ContainerPort,
			Secrets: map[string]string{}, Health: c.HealthCheck.Command[1:],
			Interval: c.HealthCheck.Interval, Timeout: c.HealthCheck.Timeout, Retries: c.HealthCheck.Retries,
			StartPeriod: c.HealthCheck.StartPeriod, StopTimeout: c.StopTimeout, User: c.User,
			ReadOnly: c.ReadOnlyRootFS, CapDrop: c.Linux.Capabilities.Drop, MemoryMiB: def.Memory}
		for _, e := range c.Environment {
			t.Env = append(t.Env, e.Name+"="+e.Value)
		}
		for _, s := range c.Secrets {
			t.Secrets[s.Name] = s.ValueFrom
		}
		return t, nil
	}
	return task{}, fmt.Errorf("%s: the AppSpec names the container %q, which the task definition does not define", dir, lb.ContainerName)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("the Release artifact: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

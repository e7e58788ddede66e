package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestDevContainerHasTheLabsTools: the dev container (it cannot be built
// here) asks for what the later phases use — Docker inside the container
// for the images and the compose stack, the AWS CLI v2 for the deployment,
// and Chromium for the browser tests.
func TestDevContainerHasTheLabsTools(t *testing.T) {
	raw, err := os.ReadFile("../.devcontainer/devcontainer.json")
	if err != nil {
		t.Fatal(err)
	}
	// devcontainer.json is JSON with comments; this file keeps its
	// comments on lines of their own.
	var kept []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "//") {
			kept = append(kept, line)
		}
	}
	var config struct {
		Features          map[string]json.RawMessage `json:"features"`
		PostCreateCommand string                     `json:"postCreateCommand"`
	}
	if err := json.Unmarshal([]byte(strings.Join(kept, "\n")), &config); err != nil {
		t.Fatalf("devcontainer.json: %v", err)
	}
	// The features' references, as https://containers.dev/features lists them.
	for _, feature := range []string{
		"ghcr.io/devcontainers/features/docker-in-docker:",
		"ghcr.io/devcontainers/features/aws-cli:",
	} {
		found := false
		for ref := range config.Features {
			found = found || strings.HasPrefix(ref, feature)
		}
		if !found {
			t.Errorf("the dev container lacks the feature %s* (has %v)", feature, keys(config.Features))
		}
	}
	install := config.PostCreateCommand
	if !strings.Contains(install, "apt-get install") || !strings.Contains(install, " chromium") {
		t.Errorf("the dev container does not install Chromium for the browser tests: postCreateCommand is %q", install)
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

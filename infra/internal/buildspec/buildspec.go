// Package buildspec reads buildspec.yml as CodeBuild runs it, for the
// rehearsal and infra's tests, which run its phases on this machine.
package buildspec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Script is the commands of the named phases of root's buildspec.yml as
// one bash script that stops at the first failing command, as CodeBuild
// runs them with version 0.2 and env.shell bash. Another version or shell,
// or a named phase without commands, is an error: the script would not be
// what CodeBuild runs.
func Script(root string, phases ...string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "buildspec.yml"))
	if err != nil {
		return "", fmt.Errorf("read buildspec: %w", err)
	}
	var spec struct {
		Version string `yaml:"version"`
		Env     struct {
			Shell string `yaml:"shell"`
		} `yaml:"env"`
		Phases map[string]struct {
			Commands []string `yaml:"commands"`
		} `yaml:"phases"`
	}
	if err := yaml.Unmarshal(b, &spec); err != nil {
		return "", fmt.Errorf("buildspec.yml: %w", err)
	}
	if spec.Version != "0.2" {
		return "", fmt.Errorf("buildspec.yml version %q, want 0.2", spec.Version)
	}
	if spec.Env.Shell != "bash" {
		return "", fmt.Errorf("buildspec.yml's shell is %q; its commands use bash", spec.Env.Shell)
	}
	var commands []string
	for _, p := range phases {
		if len(spec.Phases[p].Commands) == 0 {
			return "", fmt.Errorf("buildspec.yml has no %s commands", p)
		}
		commands = append(commands, spec.Phases[p].Commands...)
	}
	return "set -eo pipefail\n" + strings.Join(commands, "\n"), nil
}

package infra

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// oldestAgent is the oldest CloudWatch agent release the sidecar may pin:
// 1.300062.0 (2025-11-06, the agent's RELEASE_NOTES,
// https://github.com/aws/amazon-cloudwatch-agent/blob/main/RELEASE_NOTES).
// The agent ships fixes for its log and metric pipelines every month; a pin
// older than a year misses them, and 1.247357.0 (2022) was pinned here.
var oldestAgent = [3]int{1, 300062, 0}

// agentTag is an ECR Public tag of the agent: its version, "b", its build
// (public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300072.0b1766); the
// bare tag is the multi-architecture image.
var agentTag = regexp.MustCompile(`cloudwatch-agent/cloudwatch-agent:((\d+)\.(\d+)\.(\d+)b\d+)"`)

// TestCloudWatchAgentIsCurrent: every task definition, the templates' and
// deployment/'s, pins the same agent tag, in ECR Public's tag format, and no
// older than oldestAgent.
func TestCloudWatchAgentIsCurrent(t *testing.T) {
	t.Parallel()
	files := []string{filepath.Join("templates", "services.yaml")}
	more, err := filepath.Glob(filepath.Join(repoRoot, "deployment", "taskdef-*.json"))
	if err != nil || len(more) == 0 {
		t.Fatalf("no deployment/taskdef-*.json: %v", err)
	}
	files = append(files, more...)
	tags := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := agentTag.FindAllStringSubmatch(string(b), -1)
		if len(m) == 0 {
			t.Errorf("%s names no agent image with a tag VERSIONbBUILD", f)
		}
		for _, g := range m {
			tags[g[1]] = f
			var v [3]int
			for i := range v {
				v[i], _ = strconv.Atoi(g[i+2])
			}
			if older(v, oldestAgent) {
				t.Errorf("%s pins the CloudWatch agent %s, older than %d.%d.%d", f, g[1], oldestAgent[0], oldestAgent[1], oldestAgent[2])
			}
		}
	}
	if len(tags) > 1 {
		t.Errorf("the task definitions pin different agent tags: %v", tags)
	}
}

func older(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

package infra

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// TestProductionBuildsCarryNoFault: the rehearsal's faulty releases
// (make rehearse, pkg/web/fault.go) are builds with the REHEARSAL_FAULT
// build argument. The Dockerfiles default it to empty, and nothing that
// builds production images sets it: no CodeBuild project of the
// pipelines, no make target but rehearse, not the compose stack, not
// deploy.sh. buildspec.yml passes it on only when the environment has it.
func TestProductionBuildsCarryNoFault(t *testing.T) {
	t.Parallel()
	for _, svc := range services {
		b, err := os.ReadFile(filepath.Join(repoRoot, "services", svc, "Dockerfile"))
		if err != nil {
			t.Fatal(err)
		}
		args := regexp.MustCompile(`(?m)^ARG REHEARSAL_FAULT(=.*)?$`).FindAllStringSubmatch(string(b), -1)
		if len(args) != 2 {
			t.Errorf("services/%s/Dockerfile declares ARG REHEARSAL_FAULT %d times, want twice (the build stage and the label)", svc, len(args))
		}
		for _, a := range args {
			if a[1] != "=" {
				t.Errorf("services/%s/Dockerfile: ARG REHEARSAL_FAULT%s, want an empty default", svc, a[1])
			}
		}
		if !strings.Contains(string(b), "pkg/web.rehearsalFault=${REHEARSAL_FAULT}") {
			t.Errorf("services/%s/Dockerfile does not link REHEARSAL_FAULT into pkg/web.rehearsalFault", svc)
		}
	}

	tpl, err := cfn.Load(filepath.Join(repoRoot, "infra", "templates", "pipelines.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	projects := 0
	for name, r := range tpl.Resources {
		if r.Type != "AWS::CodeBuild::Project" {
			continue
		}
		projects++
		env, _ := r.Properties["Environment"].(map[string]any)
		vars, _ := env["EnvironmentVariables"].([]any)
		for _, v := range vars {
			if m, _ := v.(map[string]any); cfn.Scalar(m["Name"]) == "REHEARSAL_FAULT" {
				t.Errorf("pipelines.yaml: the CodeBuild project %s sets REHEARSAL_FAULT: production images would carry a fault", name)
			}
		}
	}
	if projects == 0 {
		t.Fatal("pipelines.yaml has no CodeBuild project: the check read the wrong template")
	}
	for _, f := range []string{"infra/templates/pipelines.yaml", "docker-compose.yml", "infra/deploy.sh", ".env.example"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "REHEARSAL_FAULT") {
			t.Errorf("%s mentions REHEARSAL_FAULT; only make rehearse may build a faulty image", f)
		}
	}
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(makefile), "REHEARSAL_FAULT") {
		t.Error("the Makefile passes REHEARSAL_FAULT: make images and make push must build production images only")
	}
	buildspec, err := os.ReadFile(filepath.Join(repoRoot, "buildspec.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(buildspec), "REHEARSAL_FAULT"); n != 0 &&
		!strings.Contains(string(buildspec), `${REHEARSAL_FAULT:+--build-arg "REHEARSAL_FAULT=$REHEARSAL_FAULT"}`) {
		t.Error(`buildspec.yml uses REHEARSAL_FAULT other than ${REHEARSAL_FAULT:+--build-arg "REHEARSAL_FAULT=$REHEARSAL_FAULT"} (passed on only when set)`)
	}
}

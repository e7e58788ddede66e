package infra

// Graviton: each service's CPU architecture is a parameter of the services
// stack, and every path that builds or registers a task definition takes
// the same value: the template's first revision, deployment/'s files as
// the pipeline renders them, and the image the pipeline builds.

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// TestCpuArchitectureIsAParameterPerService: X86_64 unless the parameter
// file says ARM64, per service.
func TestCpuArchitectureIsAParameterPerService(t *testing.T) {
	t.Parallel()
	tpl := templates(t)["services"]
	for _, svc := range services {
		name := title(svc) + "CpuArchitecture"
		p, ok := tpl.Parameters[name]
		if !ok {
			t.Errorf("services.yaml declares no parameter %s", name)
			continue
		}
		var allowed []string
		for _, v := range list(p["AllowedValues"]) {
			allowed = append(allowed, cfn.Scalar(v))
		}
		if slices.Sort(allowed); !slices.Equal(allowed, []string{"ARM64", "X86_64"}) || cfn.Scalar(p["Default"]) != "X86_64" {
			t.Errorf("%s: AllowedValues %v, Default %v; want X86_64 and ARM64, default X86_64", name, allowed, p["Default"])
		}
		td := resource(t, "services", title(svc)+"TaskDefinition", "AWS::ECS::TaskDefinition")
		rp, _ := td.Properties["RuntimePlatform"].(map[string]any)
		if got := ref(rp["CpuArchitecture"]); got != name {
			t.Errorf("%sTaskDefinition's CpuArchitecture is %v, want !Ref %s", title(svc), rp["CpuArchitecture"], name)
		}
	}
}

// TestRenderTakesTheCpuArchitectureFromTheParameters: the pipeline's task
// definitions run on the architecture the environment's parameter file
// gives the service, X86_64 (the template's default) when it gives none.
func TestRenderTakesTheCpuArchitectureFromTheParameters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ env, svc, preset, want string }{
		{"dev", "customer", "", "X86_64"},
		{"graviton", "customer", "", "ARM64"},
		{"graviton", "employee", "", "ARM64"},
		{"dev", "employee", "ARM64", "ARM64"}, // the project's variable wins
	} {
		vars := maps.Clone(fakeAccount)
		vars["ENV_NAME"], vars["SERVICE"], vars["DB_PASSWORD_SECRET_ARN"] = tc.env, tc.svc, dbSecretArn(tc.svc)
		vars["SESSION_KEY_SECRET_ARN"], vars["ADMIN_SECRET_ARN"] = fakeAccount["SESSION_KEY_SECRET_ARN"], fakeAccount["ADMIN_SECRET_ARN"]
		vars["CPU_ARCHITECTURE"] = tc.preset
		out, err := render(t, "taskdef-"+tc.svc+".json", vars)
		if err != nil {
			t.Fatal(err)
		}
		var td struct {
			RuntimePlatform struct{ CpuArchitecture string }
		}
		decode(t, out, &td)
		if got := td.RuntimePlatform.CpuArchitecture; got != tc.want {
			t.Errorf("%s's %s task definition (CPU_ARCHITECTURE=%q): cpuArchitecture %q, want %q", tc.env, tc.svc, tc.preset, got, tc.want)
		}
	}
}

// TestRenderPlatformIsTheTaskDefinitionsArchitecture: the Docker platform
// buildspec.yml builds the service's image for is the architecture
// render.sh writes into its task definition.
func TestRenderPlatformIsTheTaskDefinitionsArchitecture(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ env, svc, want string }{
		{"dev", "employee", "linux/amd64"},
		{"graviton", "employee", "linux/arm64"},
	} {
		cmd := exec.CommandContext(t.Context(), "bash", filepath.Join(repoRoot, "deployment", "render.sh"), "--platform")
		cmd.Env = append(os.Environ(), "ENV_NAME="+tc.env, "SERVICE="+tc.svc, "CPU_ARCHITECTURE=")
		out, err := cmd.CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
			t.Errorf("%s %s: render.sh --platform = %q, %v; want %s", tc.env, tc.svc, got, err, tc.want)
		}
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "buildspec.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `platform=$(deployment/render.sh --platform)`) ||
		!strings.Contains(string(b), `docker build --platform "$platform" "${args[@]}" -f "services/$SERVICE/Dockerfile"`) {
		t.Errorf("buildspec.yml does not build the service's image for the platform render.sh names")
	}
}

// TestGravitonParametersAreProdOnARM64: infra/params/graviton.json is the
// cost estimate's Graviton variant, deployable: prod's parameters with
// both services on ARM64.
func TestGravitonParametersAreProdOnARM64(t *testing.T) {
	t.Parallel()
	read := func(env string) map[string]map[string]string {
		b, err := os.ReadFile(filepath.Join("params", env+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var p map[string]map[string]string
		decode(t, b, &p)
		return p
	}
	prod, graviton := read("prod"), read("graviton")
	for _, svc := range services {
		if got := graviton["services"][title(svc)+"CpuArchitecture"]; got != "ARM64" {
			t.Errorf("graviton.json: services.%sCpuArchitecture = %q, want ARM64", title(svc), got)
		}
		delete(graviton["services"], title(svc)+"CpuArchitecture")
	}
	for stack := range prod {
		if !maps.Equal(prod[stack], graviton[stack]) {
			t.Errorf("graviton.json's %s parameters %v differ from prod.json's %v beyond the architecture", stack, graviton[stack], prod[stack])
		}
	}
	if _, err := cfn.AllOverrides(filepath.Join("params", "graviton.json"), "templates", "graviton", stacks); err != nil {
		t.Errorf("graviton.json does not pass deploy.sh's parameter check: %v", err)
	}
}

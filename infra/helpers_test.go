package infra

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// stacks are the templates in deployment order: each imports only the
// exports of those before it.
var stacks = []string{"network", "data", "registry", "services", "monitoring", "pipelines"}

var services = []string{"customer", "employee"}

var (
	loadOnce  sync.Once
	loaded    map[string]*cfn.Template
	loadError error
)

// templates returns every template, parsed once per test binary.
func templates(t *testing.T) map[string]*cfn.Template {
	t.Helper()
	loadOnce.Do(func() {
		loaded = map[string]*cfn.Template{}
		files, err := filepath.Glob("templates/*.yaml")
		if err != nil {
			loadError = err
			return
		}
		for _, f := range files {
			tpl, err := cfn.Load(f)
			if err != nil {
				loadError = err
				return
			}
			loaded[strings.TrimSuffix(filepath.Base(f), ".yaml")] = tpl
		}
	})
	if loadError != nil {
		t.Fatal(loadError)
	}
	return loaded
}

// resource returns a template's resource, failing the test when it is missing
// or of another type.
func resource(t *testing.T, stack, name, typ string) cfn.Resource {
	t.Helper()
	r, ok := templates(t)[stack].Resources[name]
	if !ok {
		t.Fatalf("%s.yaml has no resource %s (%s)", stack, name, typ)
	}
	if r.Type != typ {
		t.Fatalf("%s.yaml: %s is a %s, want %s", stack, name, r.Type, typ)
	}
	return r
}

// ofType lists a template's resources of one type, by logical name.
func ofType(t *testing.T, stack, typ string) map[string]cfn.Resource {
	t.Helper()
	out := map[string]cfn.Resource{}
	for name, r := range templates(t)[stack].Resources {
		if r.Type == typ {
			out[name] = r
		}
	}
	return out
}

// at walks a value by map keys (string) and list indexes (int); nil when
// the path is absent.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// want records a failure when got differs from want, naming where.
func want(t *testing.T, where string, got any, want string) {
	t.Helper()
	if cfn.Scalar(got) != want {
		t.Errorf("%s = %q, want %q", where, cfn.Scalar(got), want)
	}
}

// ref, getAtt and importSub recognise the intrinsic functions the
// templates use to wire resources and stacks together.
func ref(v any) string {
	s, _ := at(v, "Ref").(string)
	return s
}

func getAtt(v any) string {
	l, _ := at(v, "Fn::GetAtt").([]any)
	if len(l) != 2 {
		return ""
	}
	return cfn.Scalar(l[0]) + "." + cfn.Scalar(l[1])
}

// importSub returns the export an {"Fn::ImportValue": {"Fn::Sub": …}}
// names, e.g. "coffee-suppliers-${EnvName}-VpcId".
func importSub(v any) string {
	s, _ := at(v, "Fn::ImportValue", "Fn::Sub").(string)
	return s
}

// list returns v as a list (nil when it is not one).
func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// strs returns a list of scalars as strings.
func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, cfn.Scalar(x))
	}
	return out
}

// tool finds a command-line tool the offline AWS checks need. Without it
// the test is skipped, loudly; under CI (CI=true), which installs them, it
// fails instead.
func tool(t *testing.T, name, hint string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not on PATH, and CI must run this check (%s)", name, hint)
	}
	t.Skipf("SKIPPED: %s is not on PATH, so this check did not run (%s)", name, hint)
	return ""
}

// repoRoot is the repository's top folder (the tests run in infra/).
const repoRoot = ".."

// sortedKeys lists a map's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

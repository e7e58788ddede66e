package cfn

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseTurnsShortFormsIntoLongForms(t *testing.T) {
	t.Parallel()
	tpl, err := Parse([]byte(`
Resources:
  R:
    Type: AWS::X::Y
    Properties:
      A: !Ref P
      B: !GetAtt Db.Endpoint.Address
      C: !Sub "x-${P}"
      D: { "Fn::ImportValue": !Sub "e-${P}" }
      E: !If [Cond, !Ref P, !Ref AWS::NoValue]
      F: 3
`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(tpl.Resources["R"].Properties)
	want := `{"A":{"Ref":"P"},"B":{"Fn::GetAtt":["Db","Endpoint.Address"]},"C":{"Fn::Sub":"x-${P}"},` +
		`"D":{"Fn::ImportValue":{"Fn::Sub":"e-${P}"}},"E":{"Fn::If":["Cond",{"Ref":"P"},{"Ref":"AWS::NoValue"}]},"F":3}`
	if string(got) != want {
		t.Errorf("parsed\n%s\nwant\n%s", got, want)
	}
}

func TestOverridesRefusesAnUnknownParameter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tpl := filepath.Join(dir, "t.yaml")
	params := filepath.Join(dir, "p.json")
	write := func(name, text string) {
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(tpl, "Parameters:\n  Size: {Type: Number}\n  Name: {Type: String}\nResources: {}\n")
	write(params, `{"s": {"Size": "3", "Name": "a b"}, "other": {"X": "1"}}`)
	words, err := Overrides(params, tpl, "s")
	if err != nil || strings.Join(words, "|") != "Name=a b|Size=3" {
		t.Errorf("Overrides = %q, %v; want the stack's parameters, sorted", words, err)
	}
	write(params, `{"s": {"Szie": "3"}}`)
	if _, err := Overrides(params, tpl, "s"); err == nil || !strings.Contains(err.Error(), `"Szie"`) {
		t.Errorf("a misspelt parameter: %v, want an error naming it", err)
	}
}

func TestCheckValueAppliesTheTemplatesConstraints(t *testing.T) {
	t.Parallel()
	tpl, err := Parse([]byte(`
Parameters:
  Egress: {Type: String, AllowedValues: [NatGateway, VpcEndpoints]}
  Keep: {Type: Number, MinValue: 5, MaxValue: 100}
  Email: {Type: String, AllowedPattern: "[^@]+@[^@]+"}
  Tag: {Type: String, MinLength: 1, MaxLength: 3}
  Free: {Type: String}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		param, value string
		ok           bool
	}{
		{"Egress", "NatGateway", true}, {"Egress", "Nat", false},
		{"Keep", "5", true}, {"Keep", "4", false}, {"Keep", "101", false}, {"Keep", "ten", false},
		{"Email", "a@b", true}, {"Email", "a", false}, {"Email", "x a@b", true}, {"Email", "a@b@c", false},
		{"Tag", "", false}, {"Tag", "abc", true}, {"Tag", "abcd", false},
		{"Free", "", true},
	} {
		err := CheckValue(tpl.Parameters[tc.param], tc.value)
		if (err == nil) != tc.ok {
			t.Errorf("%s=%q: %v, want ok %v", tc.param, tc.value, err, tc.ok)
		}
	}
}

func TestAllOverridesReportsEveryProblem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "Parameters:\n  EnvName: {Type: String, AllowedPattern: \"^[a-z]+$\"}\n  Size: {Type: Number, MaxValue: 3}\nResources: {}\n")
	write("b.yaml", "Parameters:\n  Name: {Type: String}\nResources: {}\n")
	write("p.json", `{"a": {"Size": "4"}, "b": {"Nmae": "x"}, "c": {}}`)
	_, err := AllOverrides(filepath.Join(dir, "p.json"), dir, "Dev", []string{"a", "b"})
	for _, want := range []string{`"Dev"`, "Size", `"Nmae"`, `no stack "c"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("AllOverrides: %v, want an error naming %s", err, want)
		}
	}
	write("p.json", `{"a": {"Size": "3"}}`)
	words, err := AllOverrides(filepath.Join(dir, "p.json"), dir, "dev", []string{"a", "b"})
	if err != nil || strings.Join(words["a"], "|") != "Size=3" || len(words["b"]) != 0 {
		t.Errorf("AllOverrides = %v, %v; want a's Size=3 and nothing for b", words, err)
	}
}

// taskDef is a template's task definition resource whose first container
// runs the image of the repository export REPO, on arch (a literal or a
// {Ref: …} in YAML).
func taskDef(name, repo, arch string) string {
	return "  " + name + ":\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      RuntimePlatform: {CpuArchitecture: " + arch + "}\n" +
		"      ContainerDefinitions:\n        - Image: !Sub [\"${R}:t\", {R: {\"Fn::ImportValue\": !Sub \"coffee-suppliers-${EnvName}-" + repo + "RepositoryUri\"}}]\n"
}

const archParam = "Parameters:\n  Arch: {Type: String, Default: X86_64, AllowedValues: [X86_64, ARM64]}\n"

func TestPlatformsOfTheImages(t *testing.T) {
	t.Parallel()
	tpl, err := Parse([]byte(archParam + "Resources:\n" + taskDef("A", "Customer", "!Ref Arch") + taskDef("B", "Suppliersdb", "X86_64") + "  S: {Type: AWS::S3::Bucket}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		params map[string]string
		want   string
	}{
		{nil, "customer=linux/amd64 suppliersdb=linux/amd64"},
		{map[string]string{"Arch": "ARM64"}, "customer=linux/arm64 suppliersdb=linux/amd64"},
	} {
		got, err := Platforms(tpl, tc.params)
		var words []string
		for _, image := range slices.Sorted(maps.Keys(got)) {
			words = append(words, image+"="+got[image])
		}
		if err != nil || strings.Join(words, " ") != tc.want {
			t.Errorf("Platforms with %v = %v, %v; want %s", tc.params, words, err, tc.want)
		}
	}
	bad, err := Parse([]byte("Resources:\n" + taskDef("A", "Customer", "SPARC")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Platforms(bad, nil); err == nil || !strings.Contains(err.Error(), "SPARC") {
		t.Errorf("Platforms of a SPARC task definition: %v, want an error naming it", err)
	}
}

// spotTemplate: a service on Fargate Spot (or not, by the Provider
// parameter) running a task definition on Arch.
const spotTemplate = archParam + "  Provider: {Type: String, Default: FARGATE_SPOT}\nResources:\n" +
	"  Svc:\n    Type: AWS::ECS::Service\n    Properties:\n      TaskDefinition: !Ref A\n      CapacityProviderStrategy:\n        - {CapacityProvider: !Ref Provider, Weight: 1}\n"

// TestSpotRefusesARM64: Fargate Spot runs X86_64 tasks only, so a Spot
// service on an ARM64 task definition is refused, in the template and
// through a parameter file (deploy.sh's check before any stack).
func TestSpotRefusesARM64(t *testing.T) {
	t.Parallel()
	tpl, err := Parse([]byte(spotTemplate + taskDef("A", "Customer", "!Ref Arch")))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		params  map[string]string
		refused bool
	}{
		{nil, false},
		{map[string]string{"Arch": "ARM64"}, true},
		{map[string]string{"Arch": "ARM64", "Provider": "FARGATE"}, false},
	} {
		err := CheckSpot(tpl, tc.params)
		if (err != nil) != tc.refused || (err != nil && !strings.Contains(err.Error(), "Fargate Spot")) {
			t.Errorf("CheckSpot with %v: %v, want refused %v", tc.params, err, tc.refused)
		}
	}
	literal, err := Parse([]byte(spotTemplate + taskDef("A", "Customer", "ARM64")))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSpot(literal, nil); err == nil {
		t.Errorf("CheckSpot passed a Spot service on a literal ARM64 task definition")
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "services.yaml"), []byte(spotTemplate+taskDef("A", "Customer", "!Ref Arch")), 0o600); err != nil {
		t.Fatal(err)
	}
	for params, refused := range map[string]bool{`{"services": {"Arch": "ARM64"}}`: true, `{"services": {"Arch": "X86_64"}}`: false} {
		if err := os.WriteFile(filepath.Join(dir, "p.json"), []byte(params), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := AllOverrides(filepath.Join(dir, "p.json"), dir, "dev", []string{"services"})
		if (err != nil) != refused {
			t.Errorf("AllOverrides with %s: %v, want refused %v", params, err, refused)
		}
	}
}

package cfn

import (
	"encoding/json"
	"os"
	"path/filepath"
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

func TestPlatformOfTheTaskDefinitions(t *testing.T) {
	t.Parallel()
	td := func(arch string) string {
		return "  T" + arch + ":\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      RuntimePlatform: {CpuArchitecture: " + arch + "}\n"
	}
	for _, tc := range []struct {
		resources, want string
	}{
		{td("X86_64"), "linux/amd64"},
		{td("ARM64"), "linux/arm64"},
		{td("X86_64") + td("ARM64"), ""},
		{"  B: {Type: AWS::S3::Bucket}\n", ""},
	} {
		tpl, err := Parse([]byte("Resources:\n" + tc.resources))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Platform(tpl)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("Platform of\n%s= %q, %v; want %q", tc.resources, got, err, tc.want)
		}
	}
}

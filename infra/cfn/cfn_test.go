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

// Package cfn reads the CloudFormation templates of infra/templates and the
// environments' parameter files: YAML with CloudFormation's short-form tags
// (!Ref, !Sub, !GetAtt…), turned into the long JSON forms ({"Ref": …},
// {"Fn::Sub": …}) so code can walk one shape.
package cfn

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed template; values are string, bool, int, float64,
// []any or map[string]any, intrinsic functions in their long form.
type Template struct {
	Parameters map[string]map[string]any
	Conditions map[string]any
	Resources  map[string]Resource
	Outputs    map[string]map[string]any
}

// Resource is one entry of Resources.
type Resource struct {
	Type           string
	Condition      string
	DependsOn      any
	DeletionPolicy string
	Properties     map[string]any
}

// Load reads and parses a template file.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template's YAML.
func Parse(b []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	if len(doc.Content) != 1 {
		return nil, fmt.Errorf("want one YAML document, got %d", len(doc.Content))
	}
	v, err := convert(doc.Content[0])
	if err != nil {
		return nil, err
	}
	// A JSON round trip puts the generic value into the typed fields.
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("re-encode template: %w", err)
	}
	var t Template
	if err := json.Unmarshal(j, &t); err != nil {
		return nil, fmt.Errorf("template shape: %w", err)
	}
	// The round trip made every number a float64; keep the YAML's values.
	m := v.(map[string]any)
	if res, ok := m["Resources"].(map[string]any); ok {
		for name, r := range res {
			rm, _ := r.(map[string]any)
			props, _ := rm["Properties"].(map[string]any)
			e := t.Resources[name]
			e.Properties = props
			t.Resources[name] = e
		}
	}
	return &t, nil
}

// convert turns a YAML node into plain values, short-form tags into their
// long forms.
func convert(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		return convert(n.Alias)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			val, err := convert(c)
			if err != nil {
				return nil, err
			}
			l = append(l, val)
		}
		v = l
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			v = n.Value
		} else if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	name := strings.TrimPrefix(n.Tag, "!")
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		// !GetAtt A.B is the list [A, B] in the long form.
		if s, ok := v.(string); ok {
			resource, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, s)
			}
			v = []any{resource, attr}
		}
	}
	return map[string]any{"Fn::" + name: v}, nil
}

// Scalar renders a template's scalar as the string CloudFormation would
// send: whole numbers without a decimal point, nil as empty.
func Scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprint(int64(x))
		}
	}
	return fmt.Sprint(v)
}

// Overrides reads an environment's parameter file (a JSON object of stack
// name to parameter name to value) and returns the stack's parameters as
// sorted Key=Value words, failing on a parameter the template does not
// declare.
func Overrides(paramsPath, templatePath, stack string) ([]string, error) {
	b, err := os.ReadFile(paramsPath)
	if err != nil {
		return nil, fmt.Errorf("read parameters: %w", err)
	}
	var all map[string]map[string]string
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("%s: want {\"stack\": {\"Parameter\": \"value\"}}: %w", paramsPath, err)
	}
	t, err := Load(templatePath)
	if err != nil {
		return nil, err
	}
	var words []string
	for _, k := range slices.Sorted(maps.Keys(all[stack])) {
		if _, ok := t.Parameters[k]; !ok {
			return nil, fmt.Errorf("%s: stack %s: %s declares no parameter %q (it has %s)",
				paramsPath, stack, templatePath, k, strings.Join(slices.Sorted(maps.Keys(t.Parameters)), ", "))
		}
		words = append(words, k+"="+all[stack][k])
	}
	return words, nil
}

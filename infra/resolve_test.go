package infra

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

// A stack as CloudFormation records it for one set of parameters:
// conditions decided, Fn::If branches taken, AWS::NoValue dropped, and
// every reference replaced by a value standing for what CloudFormation
// would resolve. CloudFormation decides what an update changes by
// comparing a resource's resolved properties with the ones it recorded
// last time, and replaces a resource whose create-only properties change
// (which gives it a new physical ID, so whatever refers to it changes
// too):
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html
type resolvedStack struct {
	Resources map[string]map[string]any // logical ID → resolved properties
	Outputs   map[string]any            // output name → resolved value
	Exports   map[string]any            // export name → resolved value
	Physical  map[string]string         // logical ID → what its Ref gives
}

// resolver resolves one template with one set of parameters.
type resolver struct {
	tpl        *cfn.Template
	params     map[string]string
	createOnly map[string][]string // resource type → create-only property names
	physical   map[string]string   // logical ID → physical ID, memoised
	busy       map[string]bool     // cycle guard
	conditions map[string]bool
}

// resolveStack resolves tpl with params (unset parameters take their
// defaults).
func resolveStack(t *testing.T, tpl *cfn.Template, params map[string]string) resolvedStack {
	t.Helper()
	r := &resolver{tpl: tpl, params: map[string]string{}, createOnly: createOnlyProperties(t),
		physical: map[string]string{}, busy: map[string]bool{}, conditions: map[string]bool{}}
	for name, p := range tpl.Parameters {
		if d, ok := p["Default"]; ok {
			r.params[name] = cfn.Scalar(d)
		}
	}
	maps.Copy(r.params, params)
	for name := range tpl.Parameters {
		if _, ok := r.params[name]; !ok {
			t.Fatalf("parameter %s has no default and no value", name)
		}
	}
	out := resolvedStack{Resources: map[string]map[string]any{}, Outputs: map[string]any{}, Exports: map[string]any{}, Physical: map[string]string{}}
	for name, res := range tpl.Resources {
		if !r.condition(t, res.Condition) {
			continue
		}
		props, _ := r.value(t, res.Properties).(map[string]any)
		out.Resources[name] = props
		out.Physical[name] = r.physicalID(t, name)
	}
	for name, o := range tpl.Outputs {
		if c, _ := o["Condition"].(string); !r.condition(t, c) {
			continue
		}
		v := r.value(t, o["Value"])
		out.Outputs[name] = v
		if e := o["Export"]; e != nil {
			out.Exports[cfn.Scalar(r.value(t, at(e, "Name")))] = v
		}
	}
	return out
}

// condition evaluates a named condition ("" is true).
func (r *resolver) condition(t *testing.T, name string) bool {
	t.Helper()
	if name == "" {
		return true
	}
	if v, ok := r.conditions[name]; ok {
		return v
	}
	expr, ok := r.tpl.Conditions[name]
	if !ok {
		t.Fatalf("no condition %q", name)
	}
	v := r.eval(t, expr)
	r.conditions[name] = v
	return v
}

func (r *resolver) eval(t *testing.T, expr any) bool {
	t.Helper()
	m, _ := expr.(map[string]any)
	for fn, arg := range m {
		args := list(arg)
		switch fn {
		case "Condition":
			return r.condition(t, cfn.Scalar(arg))
		case "Fn::Equals":
			return fmt.Sprint(r.value(t, args[0])) == fmt.Sprint(r.value(t, args[1]))
		case "Fn::Not":
			return !r.eval(t, args[0])
		case "Fn::And", "Fn::Or":
			all, anyTrue := true, false
			for _, a := range args {
				v := r.eval(t, a)
				all, anyTrue = all && v, anyTrue || v
			}
			if fn == "Fn::And" {
				return all
			}
			return anyTrue
		}
	}
	t.Fatalf("condition %v: not a condition function", expr)
	return false
}

// noValue stands for AWS::NoValue until its property or item is dropped.
type noValue struct{}

var pseudoValues = map[string]string{
	"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
	"AWS::StackName": "coffee-suppliers-ci-services", "AWS::URLSuffix": "amazonaws.com",
}

var subVariable = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// value resolves a template value.
func (r *resolver) value(t *testing.T, v any) any {
	t.Helper()
	switch x := v.(type) {
	case []any:
		out := []any{}
		for _, item := range x {
			if rv := r.value(t, item); rv != (noValue{}) {
				out = append(out, rv)
			}
		}
		return out
	case map[string]any:
		if len(x) == 1 {
			for fn, arg := range x {
				if fn == "Ref" || strings.HasPrefix(fn, "Fn::") {
					return r.intrinsic(t, fn, arg)
				}
			}
		}
		out := map[string]any{}
		for k, item := range x {
			if rv := r.value(t, item); rv != (noValue{}) {
				out[k] = rv
			}
		}
		return out
	}
	return cfn.Scalar(v)
}

func (r *resolver) intrinsic(t *testing.T, fn string, arg any) any {
	t.Helper()
	args := list(arg)
	switch fn {
	case "Ref":
		if cfn.Scalar(arg) == "AWS::NoValue" {
			return noValue{}
		}
		return r.ref(t, cfn.Scalar(arg))
	case "Fn::GetAtt":
		return r.ref(t, cfn.Scalar(args[0])) + "." + cfn.Scalar(args[1])
	case "Fn::If":
		if r.condition(t, cfn.Scalar(args[0])) {
			return r.value(t, args[1])
		}
		return r.value(t, args[2])
	case "Fn::Sub":
		text, vars := cfn.Scalar(arg), map[string]any{}
		if args != nil {
			text = cfn.Scalar(args[0])
			m, _ := args[1].(map[string]any)
			for k, v := range m {
				vars[k] = r.value(t, v)
			}
		}
		return subVariable.ReplaceAllStringFunc(text, func(m string) string {
			name := m[2 : len(m)-1]
			if v, ok := vars[name]; ok {
				return fmt.Sprint(v)
			}
			if resource, attr, ok := strings.Cut(name, "."); ok {
				return r.ref(t, resource) + "." + attr
			}
			return r.ref(t, name)
		})
	case "Fn::ImportValue":
		return "import(" + fmt.Sprint(r.value(t, arg)) + ")"
	case "Fn::FindInMap":
		return r.value(t, r.tpl.Mappings[cfn.Scalar(r.value(t, args[0]))][cfn.Scalar(r.value(t, args[1]))][cfn.Scalar(r.value(t, args[2]))])
	case "Fn::GetAZs":
		return "azs(" + fmt.Sprint(r.value(t, arg)) + ")"
	case "Fn::Split":
		return "split(" + fmt.Sprint(r.value(t, args[0])) + "," + fmt.Sprint(r.value(t, args[1])) + ")"
	case "Fn::Select":
		return "select(" + fmt.Sprint(r.value(t, args[0])) + "," + fmt.Sprint(r.value(t, args[1])) + ")"
	case "Fn::Join":
		var parts []string
		for _, p := range list(r.value(t, args[1])) {
			parts = append(parts, fmt.Sprint(p))
		}
		return strings.Join(parts, cfn.Scalar(args[0]))
	}
	t.Fatalf("the resolver does not know %s", fn)
	return nil
}

// ref resolves a Ref: a parameter's value, a pseudo parameter, or a
// resource's physical ID.
func (r *resolver) ref(t *testing.T, name string) string {
	t.Helper()
	if name == "AWS::NoValue" {
		t.Fatal("AWS::NoValue inside a string")
	}
	if v, ok := r.params[name]; ok {
		return v
	}
	if v, ok := pseudoValues[name]; ok {
		return v
	}
	return r.physicalID(t, name)
}

// physicalID stands for a resource's physical ID: its logical ID and a
// digest of its resolved create-only properties, so a replacement shows
// as a new ID.
func (r *resolver) physicalID(t *testing.T, name string) string {
	t.Helper()
	if id, ok := r.physical[name]; ok {
		return id
	}
	res, ok := r.tpl.Resources[name]
	if !ok {
		t.Fatalf("a reference to %s, which is neither a parameter nor a resource", name)
	}
	if !r.condition(t, res.Condition) {
		t.Errorf("a reference to %s, which these parameters do not create (condition %s)", name, res.Condition)
	}
	if r.busy[name] {
		t.Fatalf("circular reference through %s", name)
	}
	r.busy[name] = true
	defer delete(r.busy, name)
	fixed := map[string]any{}
	for _, p := range r.createOnly[res.Type] {
		if v, ok := res.Properties[p]; ok {
			if rv := r.value(t, v); rv != (noValue{}) {
				fixed[p] = rv
			}
		}
	}
	b, err := json.Marshal(fixed)
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("%s@%x", name, sha256.Sum256(b))[:len(name)+13]
	r.physical[name] = id
	return id
}

var (
	createOnlyOnce sync.Once
	createOnlyMap  map[string][]string
	createOnlyErr  error
)

// createOnlyProperties reads, from cfn-lint's copy of the CloudFormation
// resource schemas, which top-level properties of each type the templates
// use cannot change without replacing the resource.
func createOnlyProperties(t *testing.T) map[string][]string {
	t.Helper()
	python := tool(t, "python3", "cfn-lint's schemas say which properties force a replacement: pip install cfn-lint")
	createOnlyOnce.Do(func() {
		types := map[string]bool{}
		files, _ := filepath.Glob("templates/*.yaml")
		for _, f := range files {
			tpl, err := cfn.Load(f)
			if err != nil {
				createOnlyErr = err
				return
			}
			for _, r := range tpl.Resources {
				types[r.Type] = true
			}
		}
		const script = `
import json, sys
from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER as m
out = {}
for t in sys.argv[1:]:
    s = m.get_resource_schema("us-east-1", t).schema
    out[t] = sorted({p.split("/")[2] for p in s.get("createOnlyProperties", [])})
print(json.dumps(out))
`
		cmd := exec.Command(python, append([]string{"-c", script}, slices.Sorted(maps.Keys(types))...)...)
		b, err := cmd.Output()
		if err != nil {
			createOnlyErr = fmt.Errorf("reading cfn-lint's schemas: %w", err)
			return
		}
		createOnlyErr = json.Unmarshal(b, &createOnlyMap)
	})
	if createOnlyErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(createOnlyErr)
		}
		t.Skipf("SKIPPED: %v: pip install cfn-lint", createOnlyErr)
	}
	return createOnlyMap
}

// Package cfn reads the CloudFormation templates of infra/templates and the
// environments' parameter files: YAML with CloudFormation's short-form tags
// (!Ref, !Sub, !GetAtt…), turned into the long JSON forms ({"Ref": …},
// {"Fn::Sub": …}) so code can walk one shape.
package cfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed template; values are string, bool, int, float64,
// []any or map[string]any, intrinsic functions in their long form.
type Template struct {
	Parameters map[string]map[string]any
	Conditions map[string]any
	Mappings   map[string]map[string]map[string]any
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
// declare or a value it does not allow.
func Overrides(paramsPath, templatePath, stack string) ([]string, error) {
	all, err := readParams(paramsPath)
	if err != nil {
		return nil, err
	}
	t, err := Load(templatePath)
	if err != nil {
		return nil, err
	}
	return overrides(all[stack], t, fmt.Sprintf("%s: stack %s", paramsPath, stack))
}

// AllOverrides checks a whole parameter file against the templates of
// dir (STACK.yaml for each of stacks) and the environment's name against
// each template's EnvName: every stack the file names must be one of
// stacks, every parameter declared, every value allowed, no ARM64 task
// definition on Fargate Spot (CheckSpot). It returns each
// stack's Key=Value words, or every problem found at once.
func AllOverrides(paramsPath, dir, env string, stacks []string) (map[string][]string, error) {
	all, err := readParams(paramsPath)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(all)) {
		if !slices.Contains(stacks, name) {
			errs = append(errs, fmt.Errorf("%s: no stack %q (the stacks are %s)", paramsPath, name, strings.Join(stacks, ", ")))
		}
	}
	words := map[string][]string{}
	for _, stack := range stacks {
		t, err := Load(filepath.Join(dir, stack+".yaml"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p, ok := t.Parameters["EnvName"]; ok {
			if err := CheckValue(p, env); err != nil {
				errs = append(errs, fmt.Errorf("environment name %q: %w", env, err))
			}
		}
		w, err := overrides(all[stack], t, fmt.Sprintf("%s: stack %s", paramsPath, stack))
		if err != nil {
			errs = append(errs, err)
		} else if err := CheckSpot(t, all[stack]); err != nil {
			errs = append(errs, fmt.Errorf("%s: stack %s: %w", paramsPath, stack, err))
		}
		words[stack] = w
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return words, nil
}

// StackParams is one stack's parameters in an environment's parameter file.
func StackParams(paramsPath, stack string) (map[string]string, error) {
	all, err := readParams(paramsPath)
	if err != nil {
		return nil, err
	}
	return all[stack], nil
}

func readParams(paramsPath string) (map[string]map[string]string, error) {
	b, err := os.ReadFile(paramsPath)
	if err != nil {
		return nil, fmt.Errorf("read parameters: %w", err)
	}
	var all map[string]map[string]string
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("%s: want {\"stack\": {\"Parameter\": \"value\"}}: %w", paramsPath, err)
	}
	return all, nil
}

func overrides(given map[string]string, t *Template, where string) ([]string, error) {
	var words []string
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(given)) {
		p, ok := t.Parameters[k]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: the template declares no parameter %q (it has %s)",
				where, k, strings.Join(slices.Sorted(maps.Keys(t.Parameters)), ", ")))
			continue
		}
		// The account's id stays a placeholder in the words; deploy.sh
		// resolves it.
		value, err := ResolveAccount(given[k], checkAccount)
		if err == nil {
			err = CheckValue(p, value)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", where, k, err))
			continue
		}
		words = append(words, k+"="+given[k])
	}
	if err := checkRoleSet(given, t); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", where, err))
	}
	return words, errors.Join(errs...)
}

// CheckValue reports why CloudFormation would refuse value for the
// parameter p: its AllowedValues, AllowedPattern (the whole value must
// match), MinLength/MaxLength, and for a Number its MinValue/MaxValue.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
func CheckValue(p map[string]any, value string) error {
	if allowed, ok := p["AllowedValues"].([]any); ok {
		var as []string
		for _, a := range allowed {
			as = append(as, Scalar(a))
		}
		if !slices.Contains(as, value) {
			return fmt.Errorf("%q is not one of %s", value, strings.Join(as, ", "))
		}
	}
	if pat, ok := p["AllowedPattern"].(string); ok {
		re, err := regexp.Compile("^(?:" + pat + ")$")
		if err != nil {
			return fmt.Errorf("AllowedPattern %q: %w", pat, err)
		}
		if !re.MatchString(value) {
			return fmt.Errorf("%q does not match %s", value, pat)
		}
	}
	bound := func(key string) (float64, bool) {
		v, ok := p[key]
		if !ok {
			return 0, false
		}
		f, err := strconv.ParseFloat(Scalar(v), 64)
		return f, err == nil
	}
	if n, ok := bound("MinLength"); ok && float64(len(value)) < n {
		return fmt.Errorf("%q is shorter than %v characters", value, n)
	}
	if n, ok := bound("MaxLength"); ok && float64(len(value)) > n {
		return fmt.Errorf("%q is longer than %v characters", value, n)
	}
	if Scalar(p["Type"]) == "Number" {
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", value)
		}
		if n, ok := bound("MinValue"); ok && f < n {
			return fmt.Errorf("%s is below the minimum %v", value, n)
		}
		if n, ok := bound("MaxValue"); ok && f > n {
			return fmt.Errorf("%s is above the maximum %v", value, n)
		}
	}
	return nil
}

// dockerPlatforms are the Docker platforms of ECS's CPU architectures.
var dockerPlatforms = map[string]string{"X86_64": "linux/amd64", "ARM64": "linux/arm64"}

// resolve is a scalar property's value with params: a literal, or a
// {"Ref": parameter} as params gives it, else the parameter's Default.
func resolve(t *Template, params map[string]string, v any) (string, bool) {
	m, isMap := v.(map[string]any)
	if !isMap {
		return Scalar(v), v != nil
	}
	name, _ := m["Ref"].(string)
	p, ok := t.Parameters[name]
	if len(m) != 1 || !ok {
		return "", false
	}
	if value, given := params[name]; given {
		return value, true
	}
	d, ok := p["Default"]
	return Scalar(d), ok
}

// architecture is a task definition's CpuArchitecture with params.
func architecture(t *Template, params map[string]string, name string) (string, error) {
	rp, _ := t.Resources[name].Properties["RuntimePlatform"].(map[string]any)
	arch, ok := resolve(t, params, rp["CpuArchitecture"])
	if !ok {
		return "", fmt.Errorf("task definition %s: no RuntimePlatform.CpuArchitecture (a value or a parameter)", name)
	}
	if _, known := dockerPlatforms[arch]; !known {
		return "", fmt.Errorf("task definition %s: unknown CpuArchitecture %q", name, arch)
	}
	return arch, nil
}

var repositoryExport = regexp.MustCompile(`-([A-Z][a-z]+)RepositoryUri"`)

// Platforms maps each image the template's task definitions run (customer,
// employee, suppliersdb: named by the repository export of the first
// container's image) to the Docker platform (linux/amd64, linux/arm64) of
// its task definition's CPU architecture, parameters resolved with params.
func Platforms(t *Template, params map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[name]
		if r.Type != "AWS::ECS::TaskDefinition" {
			continue
		}
		arch, err := architecture(t, params, name)
		if err != nil {
			return nil, err
		}
		containers, _ := r.Properties["ContainerDefinitions"].([]any)
		image := ""
		if len(containers) > 0 {
			b, _ := json.Marshal(containers[0].(map[string]any)["Image"])
			if m := repositoryExport.FindStringSubmatch(string(b)); m != nil {
				image = strings.ToLower(m[1])
			}
		}
		if image == "" {
			return nil, fmt.Errorf("task definition %s: its first container's image names no repository export (…RepositoryUri)", name)
		}
		if p, seen := out[image]; seen && p != dockerPlatforms[arch] {
			return nil, fmt.Errorf("the %s image runs on both %s and %s", image, p, dockerPlatforms[arch])
		}
		out[image] = dockerPlatforms[arch]
	}
	return out, nil
}

// CheckSpot refuses an ECS service whose capacity provider strategy names
// FARGATE_SPOT while its task definition is ARM64 (params resolved):
// "Linux tasks with the ARM64 architecture don't support the Fargate Spot
// capacity provider. Fargate Spot only supports Linux tasks with the X86_64
// architecture."
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
func CheckSpot(t *Template, params map[string]string) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[name]
		if r.Type != "AWS::ECS::Service" {
			continue
		}
		spot := false
		strategy, _ := r.Properties["CapacityProviderStrategy"].([]any)
		for _, item := range strategy {
			m, _ := item.(map[string]any)
			if p, _ := resolve(t, params, m["CapacityProvider"]); p == "FARGATE_SPOT" {
				spot = true
			}
		}
		if !spot {
			continue
		}
		for _, td := range refsTo(t, r.Properties["TaskDefinition"], "AWS::ECS::TaskDefinition") {
			arch, err := architecture(t, params, td)
			if err != nil {
				errs = append(errs, err)
			} else if arch != "X86_64" {
				errs = append(errs, fmt.Errorf("service %s runs on Fargate Spot, which takes X86_64 tasks only, but its task definition %s is %s: "+
					"keep the service X86_64 or take it off Spot", name, td, arch))
			}
		}
	}
	return errors.Join(errs...)
}

// refsTo lists the resources of type typ that v refers to with Ref,
// anywhere inside it (an Fn::If's branches included).
func refsTo(t *Template, v any, typ string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if name, ok := x["Ref"].(string); ok && len(x) == 1 && t.Resources[name].Type == typ {
			return []string{name}
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			out = append(out, refsTo(t, x[k], typ)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, refsTo(t, e, typ)...)
		}
	}
	return out
}

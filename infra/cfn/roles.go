package cfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// AccountPlaceholder is what a parameter file writes where the account's
// id belongs (infra/params/lab.json names the lab's roles by it):
// deploy.sh puts in the id `aws sts get-caller-identity` answers before
// any value reaches CloudFormation. It is the only placeholder.
const AccountPlaceholder = "${AWS::AccountId}"

// checkAccount is the account id a value's placeholder stands for while
// its constraints are checked: any twelve digits pass what a real id does.
const checkAccount = "000000000000"

var placeholder = regexp.MustCompile(`\$\{[^}]*\}`)

// ResolveAccount puts account in place of each AccountPlaceholder of
// value; any other ${…} is an error (deploy.sh would pass it on verbatim).
func ResolveAccount(value, account string) (string, error) {
	for _, p := range placeholder.FindAllString(value, -1) {
		if p != AccountPlaceholder {
			return "", fmt.Errorf("%q: %s is no placeholder; the only one is %s", value, p, AccountPlaceholder)
		}
	}
	return strings.ReplaceAll(value, AccountPlaceholder, account), nil
}

// RoleParameters maps each parameter that stands for a role the template
// otherwise creates to that role's logical ID: parameter XArn for the
// AWS::IAM::Role X. Given (an ARN), the template creates none of its
// roles and uses the ARNs; empty, it creates them.
func RoleParameters(t *Template) map[string]string {
	out := map[string]string{}
	for name := range t.Parameters {
		role, ok := strings.CutSuffix(name, "Arn")
		if ok && t.Resources[role].Type == "AWS::IAM::Role" {
			out[name] = role
		}
	}
	return out
}

// checkRoleSet refuses a parameter set that gives some of a template's
// roles but not all: the template either creates every role or none.
func checkRoleSet(given map[string]string, t *Template) error {
	var have, missing []string
	for _, p := range slices.Sorted(maps.Keys(RoleParameters(t))) {
		if given[p] != "" {
			have = append(have, p)
		} else {
			missing = append(missing, p)
		}
	}
	if len(have) == 0 || len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("gives the roles %s but not %s: give every role's ARN (an account that cannot create roles) or none (the stack creates them)",
		strings.Join(have, ", "), strings.Join(missing, ", "))
}

// TrustedServices lists the AWS services (…amazonaws.com) a role's trust
// policy lets assume it: an Allow statement for sts:AssumeRole (or a
// wildcard covering it) whose Principal.Service names them.
func TrustedServices(doc map[string]any) []string {
	var out []string
	statements, ok := doc["Statement"].([]any)
	if !ok {
		statements = []any{doc["Statement"]}
	}
	for _, s := range statements {
		st, _ := s.(map[string]any)
		if st["Effect"] != "Allow" || !slices.ContainsFunc(strings1(st["Action"]), assumes) {
			continue
		}
		principal, _ := st["Principal"].(map[string]any)
		for _, svc := range strings1(principal["Service"]) {
			if !slices.Contains(out, svc) {
				out = append(out, svc)
			}
		}
	}
	slices.Sort(out)
	return out
}

func assumes(action string) bool {
	return action == "sts:AssumeRole" || action == "sts:*" || action == "*"
}

// strings1 reads a policy value that is one string or a list of them.
func strings1(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// GivenRole is a role an environment gives instead of one a stack would
// create: its name, the services that must be able to assume it, and the
// parameters (stack.Parameter) that name it.
type GivenRole struct {
	Name     string
	Services []string
	Users    []string
}

// GivenRoles lists the roles the parameter words (each stack's Key=Value,
// as AllOverrides returns them) give, one entry per role however many
// parameters name it, with the services the roles they replace trust.
func GivenRoles(templates map[string]*Template, words map[string][]string) ([]GivenRole, error) {
	byArn := map[string]*GivenRole{}
	var errs []error
	for _, stack := range slices.Sorted(maps.Keys(words)) {
		t := templates[stack]
		roles := RoleParameters(t)
		for _, w := range words[stack] {
			k, arn, _ := strings.Cut(w, "=")
			role, ok := roles[k]
			if !ok || arn == "" {
				continue
			}
			name := arn[strings.LastIndex(arn, "/")+1:]
			g := byArn[arn]
			if g == nil {
				g = &GivenRole{Name: name}
				byArn[arn] = g
			}
			g.Users = append(g.Users, stack+"."+k)
			doc, _ := t.Resources[role].Properties["AssumeRolePolicyDocument"].(map[string]any)
			services := TrustedServices(doc)
			if len(services) == 0 {
				errs = append(errs, fmt.Errorf("%s: the role %s it replaces names no service that assumes it", k, role))
			}
			for _, s := range services {
				if !slices.Contains(g.Services, s) {
					g.Services = append(g.Services, s)
				}
			}
		}
	}
	var out []GivenRole
	for _, arn := range slices.Sorted(maps.Keys(byArn)) {
		g := byArn[arn]
		slices.Sort(g.Services)
		out = append(out, *g)
	}
	return out, errors.Join(errs...)
}

// MissingTrust lists which of services the trust policy document (JSON,
// as `aws iam get-role --query Role.AssumeRolePolicyDocument --output
// json` prints it) does not let assume the role.
func MissingTrust(docJSON []byte, services []string) ([]string, error) {
	var doc map[string]any
	if err := json.Unmarshal(docJSON, &doc); err != nil {
		return nil, fmt.Errorf("trust policy: %w", err)
	}
	trusted := TrustedServices(doc)
	var missing []string
	for _, s := range services {
		if !slices.Contains(trusted, s) {
			missing = append(missing, s)
		}
	}
	return missing, nil
}

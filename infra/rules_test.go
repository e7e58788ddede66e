package infra

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
	"github.com/coffee-suppliers/coffee-suppliers/local/gateway"
)

// targetGroups maps the template's target groups to the gateway's targets:
// CodeDeploy swaps blue and green, both belong to the same service.
var targetGroups = map[string]gateway.Target{
	"CustomerBlueTargetGroup": gateway.Customer, "CustomerGreenTargetGroup": gateway.Customer,
	"EmployeeBlueTargetGroup": gateway.Employee, "EmployeeGreenTargetGroup": gateway.Employee,
}

// albListeners are the listeners that must apply the rules: production
// (HTTP on 80, or HTTPS on 443 when a certificate is given; the same
// resource either way) and the blue/green test listener. Port 80's
// redirect to HTTPS has no rules.
var albListeners = map[string][]string{
	"production": {"ProductionListener"},
	"test":       {"TestListener"},
}

// listenerOf names the listener a rule's ListenerArn points to; a rule on
// an !If whose branches are the same listener serves that listener.
func listenerOf(v any) string {
	if r := ref(v); r != "" {
		for name, ls := range albListeners {
			if slices.Contains(ls, r) {
				return name
			}
		}
		return r
	}
	if l := list(at(v, "Fn::If")); len(l) == 3 {
		a, b := listenerOf(l[1]), listenerOf(l[2])
		if a == b {
			return a
		}
	}
	return fmt.Sprint(v)
}

// forwardTarget is where a forward action sends requests.
func forwardTarget(action any) (gateway.Target, bool) {
	if cfn.Scalar(at(action, "Type")) != "forward" {
		return "", false
	}
	t, ok := targetGroups[ref(at(action, "TargetGroupArn"))]
	return t, ok
}

// checkListenerRules lists every way the template's listeners depart from
// gateway.Rules and gateway.DefaultTarget.
func checkListenerRules(tpl *cfn.Template) []string {
	var problems []string
	rules := map[string][]gateway.Rule{}
	for name, r := range tpl.Resources {
		if r.Type != "AWS::ElasticLoadBalancingV2::ListenerRule" {
			continue
		}
		listener := listenerOf(r.Properties["ListenerArn"])
		rule := gateway.Rule{}
		fmt.Sscan(cfn.Scalar(r.Properties["Priority"]), &rule.Priority)
		for _, c := range list(r.Properties["Conditions"]) {
			if cfn.Scalar(at(c, "Field")) != "path-pattern" {
				problems = append(problems, fmt.Sprintf("%s: a %s condition; the gateway's rules match paths only", name, cfn.Scalar(at(c, "Field"))))
			}
			rule.PathPatterns = append(rule.PathPatterns, strs(at(c, "PathPatternConfig", "Values"))...)
		}
		actions := list(r.Properties["Actions"])
		target, ok := forwardTarget(at(actions, 0))
		if len(actions) != 1 || !ok {
			problems = append(problems, fmt.Sprintf("%s: actions %v, want one forward to a service's target group", name, actions))
		}
		rule.Target = target
		rules[listener] = append(rules[listener], rule)
	}
	for listener, names := range albListeners {
		got := rules[listener]
		slices.SortFunc(got, func(a, b gateway.Rule) int { return a.Priority - b.Priority })
		if len(got) != len(gateway.Rules) {
			problems = append(problems, fmt.Sprintf("%s listener: %d rules, gateway.Rules has %d", listener, len(got), len(gateway.Rules)))
		} else {
			for i, w := range gateway.Rules {
				g := got[i]
				gp, wp := slices.Sorted(slices.Values(g.PathPatterns)), slices.Sorted(slices.Values(w.PathPatterns))
				if g.Priority != w.Priority || g.Target != w.Target || !slices.Equal(gp, wp) {
					problems = append(problems, fmt.Sprintf("%s listener: rule %d is %+v, gateway.Rules has %+v", listener, i+1, g, w))
				}
			}
		}
		for _, name := range names {
			l, ok := tpl.Resources[name]
			if !ok {
				problems = append(problems, "no listener "+name)
				continue
			}
			action := at(l.Properties, "DefaultActions", 0)
			// HTTP's default redirects to HTTPS when a certificate is given,
			// and forwards otherwise.
			if branches := list(at(action, "Fn::If")); len(branches) == 3 {
				if cfn.Scalar(at(branches[1], "Type")) != "redirect" {
					problems = append(problems, name+": with a certificate its default action should redirect to HTTPS")
				}
				action = branches[2]
			}
			if target, ok := forwardTarget(action); !ok || target != gateway.DefaultTarget {
				problems = append(problems, fmt.Sprintf("%s: the default action goes to %q, gateway.DefaultTarget is %s", name, target, gateway.DefaultTarget))
			}
		}
	}
	slices.Sort(problems)
	return problems
}

// TestListenerRulesMatchTheGateway: the load balancer routes exactly as
// local/gateway (and so HAProxy, whose test compares it with the same
// Rules) on both listeners.
func TestListenerRulesMatchTheGateway(t *testing.T) {
	t.Parallel()
	for _, p := range checkListenerRules(templates(t)["services"]) {
		t.Errorf("services.yaml drifted from gateway.Rules: %s", p)
	}
}

// TestListenerRuleDriftIsCaught: each kind of drift fails the check above.
func TestListenerRuleDriftIsCaught(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("templates/services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	mutants := map[string][2]string{
		"exact /admin dropped":     {`Values: ["/admin", "/admin/*"]`, `Values: ["/admin/*"]`},
		"prefix without the slash": {`Values: ["/admin", "/admin/*"]`, `Values: ["/admin", "/admin*"]`},
		"rule to customer":         {"          TargetGroupArn: !Ref EmployeeBlueTargetGroup", "          TargetGroupArn: !Ref CustomerBlueTargetGroup"},
		"default to employee":      {"        - Type: forward\n          TargetGroupArn: !Ref CustomerBlueTargetGroup", "        - Type: forward\n          TargetGroupArn: !Ref EmployeeBlueTargetGroup"},
		"priority":                 {"      Priority: 10", "      Priority: 20"},
		"host condition":           {"        - Field: path-pattern", "        - Field: host-header"},
	}
	for name, m := range mutants {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(text, m[0]) {
				t.Fatalf("services.yaml no longer holds %q: update this test", m[0])
			}
			tpl, err := cfn.Parse([]byte(strings.Replace(text, m[0], m[1], 1)))
			if err != nil {
				t.Fatal(err)
			}
			if len(checkListenerRules(tpl)) == 0 {
				t.Errorf("replacing %q with %q went unnoticed", m[0], m[1])
			}
		})
	}
}

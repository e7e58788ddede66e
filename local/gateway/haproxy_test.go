package gateway

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// haproxyConfig is the compose stack's load balancer configuration, which
// must implement Rules exactly.
const haproxyConfig = "../../loadbalancer/haproxy.cfg"

// The listeners of DESIGN.md: the production listener and the blue/green
// test listener, both applying the same rules.
var haproxyListeners = map[string]string{"production": ":80", "test": ":8080"}

// haproxySection is one section of an HAProxy configuration: its keyword
// (global, defaults, frontend, backend…), its name and its lines, split into
// fields, without comments.
type haproxySection struct {
	kind, name string
	lines      [][]string
}

func parseHAProxy(text string) []haproxySection {
	var sections []haproxySection
	for line := range strings.Lines(text) {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "global", "defaults", "frontend", "backend", "listen", "resolvers", "peers", "userlist", "cache", "program", "http-errors", "ring", "mailers":
			s := haproxySection{kind: fields[0]}
			if len(fields) > 1 {
				s.name = fields[1]
			}
			sections = append(sections, s)
			continue
		}
		if len(sections) > 0 {
			last := &sections[len(sections)-1]
			last.lines = append(last.lines, fields)
		}
	}
	return sections
}

// with returns the section's lines that start with keyword (one or more
// fields, e.g. "option", "httpchk").
func (s haproxySection) with(keyword ...string) [][]string {
	var out [][]string
	for _, l := range s.lines {
		if len(l) >= len(keyword) && slices.Equal(l[:len(keyword)], keyword) {
			out = append(out, l)
		}
	}
	return out
}

func find(sections []haproxySection, kind, name string) (haproxySection, bool) {
	for _, s := range sections {
		if s.kind == kind && s.name == name {
			return s, true
		}
	}
	return haproxySection{}, false
}

// frontendRules reads a frontend's routing as ALB rules: each
// `use_backend B if ACL`, in order, becomes a rule whose patterns are the
// ACL's `path X` (X) and `path_beg X` (X*) lines. Anything else it cannot
// translate is a problem: a rule the table does not have.
func frontendRules(fe haproxySection) (rules []Rule, def Target, problems []string) {
	acls := map[string][]string{}
	for _, l := range fe.with("acl") {
		if len(l) != 4 {
			problems = append(problems, fmt.Sprintf("frontend %s: acl %q: want `acl NAME path|path_beg VALUE`", fe.name, strings.Join(l, " ")))
			continue
		}
		switch l[2] {
		case "path":
			acls[l[1]] = append(acls[l[1]], l[3])
		case "path_beg":
			acls[l[1]] = append(acls[l[1]], l[3]+"*")
		default:
			problems = append(problems, fmt.Sprintf("frontend %s: acl %q: only path and path_beg translate to ALB path patterns", fe.name, strings.Join(l, " ")))
		}
	}
	for _, l := range fe.with("use_backend") {
		if len(l) != 4 || l[2] != "if" {
			problems = append(problems, fmt.Sprintf("frontend %s: %q: want `use_backend BACKEND if ACL`", fe.name, strings.Join(l, " ")))
			continue
		}
		patterns, ok := acls[l[3]]
		if !ok {
			problems = append(problems, fmt.Sprintf("frontend %s: use_backend %s names no acl %q", fe.name, l[1], l[3]))
		}
		rules = append(rules, Rule{PathPatterns: patterns, Target: Target(l[1])})
	}
	defs := fe.with("default_backend")
	if len(defs) != 1 || len(defs[0]) != 2 {
		problems = append(problems, fmt.Sprintf("frontend %s: want exactly one `default_backend NAME`, got %q", fe.name, defs))
	} else {
		def = Target(defs[0][1])
	}
	return rules, def, problems
}

// routeHAProxy routes p as HAProxy would with these rules: path is an
// exact match, path_beg (a pattern ending in *) a prefix.
func routeHAProxy(rules []Rule, def Target, p string) Target {
	for _, r := range rules {
		for _, pattern := range r.PathPatterns {
			if prefix, ok := strings.CutSuffix(pattern, "*"); ok && strings.HasPrefix(p, prefix) || pattern == p {
				return r.Target
			}
		}
	}
	return def
}

// samplePaths are the paths whose routing both must agree on, beyond the
// patterns themselves.
var samplePaths = []string{
	"/", "/suppliers", "/api/suppliers", "/healthz", "/static/style.css",
	"/admin", "/admin/", "/admin/suppliers", "/admin/supplier-update/7", "/admin/static/style.css",
	"/administrator", "/admins", "/Admin", "/ADMIN/suppliers", "/api/admin", "/x/admin/", "/admin?x=1",
}

// checkHAProxy lists every way the configuration departs from Rules,
// DefaultTarget and the health-check contract.
func checkHAProxy(text string) []string {
	sections := parseHAProxy(text)
	var problems []string
	for name, bind := range haproxyListeners {
		fe, ok := find(sections, "frontend", name)
		if !ok {
			problems = append(problems, "no frontend "+name)
			continue
		}
		if binds := fe.with("bind"); len(binds) != 1 || len(binds[0]) < 2 || binds[0][1] != bind {
			problems = append(problems, fmt.Sprintf("frontend %s: binds %q, want bind %s", name, binds, bind))
		}
		rules, def, p := frontendRules(fe)
		problems = append(problems, p...)
		if def != DefaultTarget {
			problems = append(problems, fmt.Sprintf("frontend %s: default_backend %q, want %q (gateway.DefaultTarget)", name, def, DefaultTarget))
		}
		if len(rules) != len(Rules) {
			problems = append(problems, fmt.Sprintf("frontend %s: %d use_backend rules, want %d as in gateway.Rules", name, len(rules), len(Rules)))
		} else {
			for i, want := range Rules {
				got := rules[i]
				gp, wp := slices.Sorted(slices.Values(got.PathPatterns)), slices.Sorted(slices.Values(want.PathPatterns))
				if got.Target != want.Target || !slices.Equal(gp, wp) {
					problems = append(problems, fmt.Sprintf("frontend %s: rule %d sends %q to %s, gateway.Rules sends %q to %s", name, i+1, gp, got.Target, wp, want.Target))
				}
			}
		}
		for _, p := range samplePaths {
			if got, want := routeHAProxy(rules, def, p), Route(p); got != want {
				problems = append(problems, fmt.Sprintf("frontend %s: %s goes to %s, gateway.Route says %s", name, p, got, want))
			}
		}
	}

	defaults, _ := find(sections, "defaults", "")
	for _, target := range []Target{Customer, Employee} {
		be, ok := find(sections, "backend", string(target))
		if !ok {
			problems = append(problems, "no backend "+string(target))
			continue
		}
		if chk := be.with("option", "httpchk"); len(chk) != 1 || !slices.Equal(chk[0], []string{"option", "httpchk", "GET", "/healthz"}) {
			problems = append(problems, fmt.Sprintf("backend %s: health check %q, want `option httpchk GET /healthz`", target, chk))
		}
		if exp := be.with("http-check", "expect"); len(exp) != 1 || !slices.Equal(exp[0], []string{"http-check", "expect", "status", "200"}) {
			problems = append(problems, fmt.Sprintf("backend %s: %q, want `http-check expect status 200`", target, exp))
		}
		servers := be.with("server-template")
		if len(servers) != 1 || len(servers[0]) < 4 || servers[0][3] != string(target)+":8080" {
			problems = append(problems, fmt.Sprintf("backend %s: %q, want one `server-template NAME N %s:8080` (compose's service name, every replica)", target, servers, target))
			continue
		}
		checked := slices.Contains(servers[0], "check")
		for _, d := range defaults.with("default-server") {
			checked = checked || slices.Contains(d, "check")
		}
		if !checked {
			problems = append(problems, fmt.Sprintf("backend %s: its servers are not health-checked (no `check`)", target))
		}
	}
	for _, want := range [][]string{{"option", "redispatch"}, {"retries"}} {
		if len(defaults.with(want...)) == 0 {
			problems = append(problems, fmt.Sprintf("defaults: no %q", strings.Join(want, " ")))
		}
	}
	if global, _ := find(sections, "global", ""); len(global.with("hard-stop-after")) != 1 {
		problems = append(problems, "global: no hard-stop-after")
	}
	slices.Sort(problems)
	return problems
}

func readHAProxyConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(haproxyConfig)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHAProxyAppliesTheRules: loadbalancer/haproxy.cfg routes exactly as
// Rules on both listeners and health-checks every replica on /healthz.
func TestHAProxyAppliesTheRules(t *testing.T) {
	t.Parallel()
	for _, p := range checkHAProxy(readHAProxyConfig(t)) {
		t.Errorf("%s drifted from gateway.Rules: %s", haproxyConfig, p)
	}
}

// TestHAProxyDriftIsCaught: the check above fails on each kind of drift.
func TestHAProxyDriftIsCaught(t *testing.T) {
	t.Parallel()
	cfg := readHAProxyConfig(t)
	mutants := map[string][2]string{
		"prefix without the slash": {"path_beg /admin/", "path_beg /admin"},
		"exact /admin dropped":     {"acl employee_path path /admin\n", ""},
		"default to employee":      {"default_backend customer", "default_backend employee"},
		"rule to customer":         {"use_backend employee if", "use_backend customer if"},
		"another health path":      {"option httpchk GET /healthz", "option httpchk GET /readyz"},
		"test listener moved":      {"bind :8080", "bind :8081"},
		"case-insensitive match":   {"path_beg /admin/", "path_beg -i /admin/"},
	}
	for name, m := range mutants {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(cfg, m[0]) {
				t.Fatalf("the configuration no longer holds %q: update this test", m[0])
			}
			if problems := checkHAProxy(strings.Replace(cfg, m[0], m[1], 1)); len(problems) == 0 {
				t.Errorf("replacing %q with %q went unnoticed", m[0], m[1])
			}
		})
	}
}

// TestGatewayHasHAProxysLimits: `make run`'s gateway waits on clients and
// backends as long as HAProxy does in the compose stack, and serves as many
// connections at once: HAProxy is read from loadbalancer/haproxy.cfg.
func TestGatewayHasHAProxysLimits(t *testing.T) {
	t.Parallel()
	defaults, ok := find(parseHAProxy(readHAProxyConfig(t)), "defaults", "")
	if !ok {
		t.Fatal("no defaults section")
	}
	setting := func(keyword ...string) string {
		lines := defaults.with(keyword...)
		if len(lines) != 1 || len(lines[0]) != len(keyword)+1 {
			t.Errorf("defaults: want one %q line with a value, got %q", strings.Join(keyword, " "), lines)
			return ""
		}
		return lines[0][len(keyword)]
	}
	for _, tc := range []struct {
		keyword string
		want    time.Duration
	}{
		{"http-request", HAProxy.Timeouts.Header},
		{"client", HAProxy.Timeouts.Body},
		{"client", HAProxy.Timeouts.Write},
		{"http-keep-alive", HAProxy.Timeouts.Idle},
		{"server", HAProxy.Timeouts.Server},
		{"connect", HAProxy.Timeouts.Connect},
	} {
		// The configuration writes every timeout with a unit (10s, 2s).
		if got, err := time.ParseDuration(setting("timeout", tc.keyword)); err != nil || got != tc.want {
			t.Errorf("timeout %s = %v (%v) in %s, the gateway has %v", tc.keyword, got, err, haproxyConfig, tc.want)
		}
	}
	if got := setting("maxconn"); got != strconv.Itoa(HAProxy.MaxConns) {
		t.Errorf("maxconn = %q in %s, the gateway has %d", got, haproxyConfig, HAProxy.MaxConns)
	}
}

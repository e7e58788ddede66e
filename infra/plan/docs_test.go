package plan

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/coffee-suppliers/coffee-suppliers/local/gateway"
)

// The repository's files, from this package's folder.
const (
	root        = "../.."
	templates   = root + "/infra/templates"
	params      = root + "/infra/params"
	pricesFile  = root + "/infra/costs/us-east-1.json"
	assumeFile  = root + "/infra/costs/assumptions.json"
	docs        = root + "/docs/"
	readmeFile  = root + "/README.md"
	regenerate  = "run make diagram and make cost-estimate, and commit the result"
	environment = "prod"
)

func loadPlatform(t *testing.T, env string, overrides map[string]map[string]string) *Platform {
	t.Helper()
	p, err := Load(templates, params, env, overrides)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPlatformFromTemplates: what the diagram and the estimate read is what
// the templates deploy, conditions and parameters applied.
func TestPlatformFromTemplates(t *testing.T) {
	prod := loadPlatform(t, "prod", nil)
	if prod.AZs != 2 || prod.Egress != "NatGateway" || prod.NatGateways != 1 || len(prod.InterfaceEndpoints) != 0 {
		t.Errorf("prod network: %d zones, egress %s, %d NAT gateways, endpoints %v; want 2 zones behind one NAT gateway, no interface endpoints",
			prod.AZs, prod.Egress, prod.NatGateways, prod.InterfaceEndpoints)
	}
	endpoints := loadPlatform(t, "prod", map[string]map[string]string{"network": {"Egress": "VpcEndpoints"}})
	if endpoints.NatGateways != 0 || endpoints.ElasticIPs != 0 || !slices.Contains(endpoints.InterfaceEndpoints, "ecr.dkr") || !slices.Contains(endpoints.GatewayEndpoints, "s3") {
		t.Errorf("Egress=VpcEndpoints: %d NAT gateways, %d addresses, interface %v, gateway %v; want no NAT, ECR's endpoints, S3's gateway",
			endpoints.NatGateways, endpoints.ElasticIPs, endpoints.InterfaceEndpoints, endpoints.GatewayEndpoints)
	}
	if !prod.Database.MultiAZ || prod.Database.Engine != "mysql" || !strings.HasPrefix(prod.Database.Version, "8.4") {
		t.Errorf("prod database %+v, want MySQL 8.4, Multi-AZ (infra/params/prod.json)", prod.Database)
	}
	// Each environment as its parameter file says.
	for _, env := range []string{"dev", "prod"} {
		var file map[string]map[string]string
		if err := json.Unmarshal([]byte(readFile(t, params+"/"+env+".json")), &file); err != nil {
			t.Fatal(err)
		}
		p := loadPlatform(t, env, nil)
		if want := file["data"]["MultiAZ"] == "true"; p.Database.MultiAZ != want || p.Database.Class != file["data"]["InstanceClass"] {
			t.Errorf("%s: database %s Multi-AZ %v, want %s Multi-AZ %v (infra/params/%s.json)", env, p.Database.Class, p.Database.MultiAZ, file["data"]["InstanceClass"], want, env)
		}
		if p.Egress != file["network"]["Egress"] {
			t.Errorf("%s: egress %s, want %s (infra/params/%s.json)", env, p.Egress, file["network"]["Egress"], env)
		}
	}
	// The alarm topic's customer managed key (monitoring.yaml): $1 a month.
	if prod.KMSKeys != 1 {
		t.Errorf("prod: %d KMS keys, want 1 (the alarm topic's)", prod.KMSKeys)
	}
	for _, s := range prod.Services {
		if s.CPU == 0 || s.MemoryMiB == 0 || s.MinTasks < 2 || s.MaxTasks < s.MinTasks || s.RequestsPerTask == 0 || s.CPUTarget == 0 || len(s.TargetGroups) != 2 {
			t.Errorf("service %+v: want its task size, at least two tasks, both scaling policies and blue/green target groups", s)
		}
	}
	if len(prod.Services) != 2 || len(prod.Pipelines) != 2 || prod.Alarms == 0 || len(prod.Repositories) != 3 {
		t.Errorf("prod: %d services, %d pipelines, %d alarms, %d repositories; want 2, 2, some, 3 (the services' and the migration's)",
			len(prod.Services), len(prod.Pipelines), prod.Alarms, len(prod.Repositories))
	}
}

// TestListenersApplyTheGatewayRules: both listeners route as gateway.Rules,
// the one source of the load balancer's rules, so the diagram shows them.
func TestListenersApplyTheGatewayRules(t *testing.T) {
	p := loadPlatform(t, "prod", nil)
	if len(p.Listeners) != 2 {
		t.Fatalf("listeners %+v, want production and test", p.Listeners)
	}
	for _, l := range p.Listeners {
		for _, r := range gateway.Rules {
			found := false
			for _, lr := range l.Rules {
				found = found || (lr.Service == string(r.Target) && slices.Equal(lr.Paths, r.PathPatterns))
			}
			if !found {
				t.Errorf("listener :%d has no rule sending %v to %s: %+v", l.Port, r.PathPatterns, r.Target, l.Rules)
			}
		}
		if def := l.Rules[len(l.Rules)-1]; def.Service != string(gateway.DefaultTarget) || len(def.Paths) != 0 {
			t.Errorf("listener :%d's default goes to %q, want %s", l.Port, def.Service, gateway.DefaultTarget)
		}
	}
}

// TestCommittedDiagramIsCurrent fails when the templates changed and the
// committed diagram did not.
func TestCommittedDiagramIsCurrent(t *testing.T) {
	d := NewDiagram(loadPlatform(t, environment, nil))
	mermaid, dot := d.Mermaid(), d.DOT()
	if readFile(t, docs+"architecture.mmd") != mermaid {
		t.Errorf("docs/architecture.mmd is stale: %s", regenerate)
	}
	if readFile(t, docs+"architecture.dot") != dot {
		t.Errorf("docs/architecture.dot is stale: %s", regenerate)
	}
	if !strings.Contains(readFile(t, docs+"architecture.svg"), SourceStamp(dot)) {
		t.Errorf("docs/architecture.svg was not made from the current docs/architecture.dot: %s", regenerate)
	}
	readme := readFile(t, readmeFile)
	if want, err := EmbedInReadme(readme, mermaid); err != nil || want != readme {
		t.Errorf("the README's architecture diagram is stale (%v): %s", err, regenerate)
	}
	for _, want := range []string{"Application Load Balancer", "customer service", "employee service", "RDS for MySQL", "ECR", "Secrets Manager",
		"CloudWatch", "SNS", "CodeDeploy blue/green", "CodeBuild: migrate", "Private subnets", "Public subnets", `"/admin, /admin/*"`} {
		if !strings.Contains(mermaid, want) {
			t.Errorf("the diagram lacks %q", want)
		}
	}
}

// TestDiagramRenders: Graphviz draws the committed source (CI installs it).
func TestDiagramRenders(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set, so this cannot be skipped: no Graphviz dot: %v", err)
		}
		t.Skip("SKIPPED: no Graphviz dot (apt-get install graphviz)")
	}
	cmd := exec.Command("dot", "-Tsvg", docs+"architecture.dot")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "</svg>") {
		t.Fatalf("dot -Tsvg docs/architecture.dot: %v\n%.500s", err, out)
	}
}

// TestCommittedEstimateIsCurrent fails when the templates, assumptions or
// prices changed and the committed estimate did not.
func TestCommittedEstimateIsCurrent(t *testing.T) {
	prices, err := LoadPrices(pricesFile)
	if err != nil {
		t.Fatal(err)
	}
	assumptions, err := LoadAssumptions(assumeFile)
	if err != nil {
		t.Fatal(err)
	}
	src, err := ReadSources(templates, params, environment)
	if err != nil {
		t.Fatal(err)
	}
	r, err := BuildReport(Inputs{Sources: src, Prices: prices, Assumptions: assumptions})
	if err != nil {
		t.Fatal(err)
	}
	if readFile(t, docs+"cost-estimate.md") != r.Markdown("make cost-estimate") {
		t.Errorf("docs/cost-estimate.md is stale: %s", regenerate)
	}
	j, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if readFile(t, docs+"cost-estimate.json") != string(j) {
		t.Errorf("docs/cost-estimate.json is stale: %s", regenerate)
	}
	// The cheapest configuration is no dearer than any other, and keeps
	// two tasks per service.
	for _, o := range r.Options {
		if o.Monthly < r.Cheapest.Monthly {
			t.Errorf("%s costs %.2f, less than the cheapest %s at %.2f", o.Variant.Name, o.Monthly, r.Cheapest.Variant.Name, r.Cheapest.Monthly)
		}
	}
	for svc, tasks := range r.Cheapest.Tasks {
		if tasks < 2 {
			t.Errorf("the cheapest configuration runs %.1f %s tasks, want at least two", tasks, svc)
		}
	}
	t.Logf("baseline %.2f USD a month, %.2f for 12 months; cheapest %s: %.2f a month",
		r.Baseline.Monthly, r.Baseline.Yearly(), r.Cheapest.Variant.Name, r.Cheapest.Monthly)
}

// report builds the estimate of an environment's parameter file with the
// committed prices and assumptions.
func report(t *testing.T, env string) *Report {
	t.Helper()
	prices, err := LoadPrices(pricesFile)
	if err != nil {
		t.Fatal(err)
	}
	assumptions, err := LoadAssumptions(assumeFile)
	if err != nil {
		t.Fatal(err)
	}
	src, err := ReadSources(templates, params, env)
	if err != nil {
		t.Fatal(err)
	}
	r, err := BuildReport(Inputs{Sources: src, Prices: prices, Assumptions: assumptions})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestGravitonVariantIsDeployable: the estimate's Graviton variant is what
// infra/params/graviton.json deploys (both services ARM64, priced so), and
// the estimate says where that file is.
func TestGravitonVariantIsDeployable(t *testing.T) {
	t.Parallel()
	for env, want := range map[string]string{"prod": "X86_64", "graviton": "ARM64"} {
		for _, s := range loadPlatform(t, env, nil).Services {
			if s.Arch != want {
				t.Errorf("%s: the %s tasks run on %q, want %s", env, s.Name, s.Arch, want)
			}
		}
	}
	prod, graviton := report(t, "prod"), report(t, "graviton")
	var variant *Estimate
	for _, e := range prod.Variants {
		if e.Variant.Graviton {
			variant = e
		}
	}
	if variant == nil {
		t.Fatal("the estimate has no Graviton variant")
	}
	if d := graviton.Baseline.Monthly - variant.Monthly; d > 0.005 || d < -0.005 {
		t.Errorf("graviton.json's deployment costs %.2f a month, the estimate's Graviton variant %.2f", graviton.Baseline.Monthly, variant.Monthly)
	}
	md := prod.Markdown("make cost-estimate")
	if !strings.Contains(md, "`infra/params/graviton.json`") || !strings.Contains(md, "`CustomerCpuArchitecture`") {
		t.Errorf("the estimate does not say how to deploy its Graviton variant (infra/params/graviton.json, CustomerCpuArchitecture)")
	}
}

// readmeBudget is the README's size limit in bytes: it is the front door
// (what the project is, a picture, how to start, where each lab phase
// lives), and everything else has its page in docs/ (issue 14).
const readmeBudget = 12_000

// TestReadmeIsAFrontDoor fails when the README grows past its budget: a
// new topic gets a page in docs/ and a link, not a section here.
func TestReadmeIsAFrontDoor(t *testing.T) {
	if n := len(readFile(t, readmeFile)); n > readmeBudget {
		t.Errorf("README.md is %d bytes, over its budget of %d: move the detail to a page in docs/ and link it", n, readmeBudget)
	}
}

// TestDocLinksResolve: every relative link in the README and docs/*.md
// names a file that exists and, with a #fragment into a Markdown file, a
// heading of that file, so moving a section never leaves a link behind.
func TestDocLinksResolve(t *testing.T) {
	pages, err := filepath.Glob(docs + "*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, readmeFile)
	anchors := map[string]map[string]bool{} // Markdown file → its headings' anchors
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		a := headingAnchors(readFile(t, path))
		anchors[path] = a
		return a
	}
	for _, page := range pages {
		for _, target := range relativeLinks(readFile(t, page)) {
			file, fragment, _ := strings.Cut(target, "#")
			path := page // "#fragment" alone: a heading of the page itself
			if file != "" {
				path = filepath.Join(filepath.Dir(page), file)
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s links %q, which does not exist", filepath.Base(page), target)
					continue
				}
			}
			if fragment != "" && strings.HasSuffix(path, ".md") && !anchorsOf(path)[fragment] {
				t.Errorf("%s links %q: %s has no heading with the anchor #%s", filepath.Base(page), target, filepath.Base(path), fragment)
			}
		}
	}
}

var (
	fencedCode = regexp.MustCompile("(?ms)^```.*?^```[ \t]*$")
	inlineCode = regexp.MustCompile("`[^`\n]*`")
	linkTarget = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	heading    = regexp.MustCompile(`(?m)^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$`)
)

// relativeLinks are the targets of a Markdown text's links and images that
// lead into the repository (no scheme), outside code.
func relativeLinks(markdown string) []string {
	prose := inlineCode.ReplaceAllString(fencedCode.ReplaceAllString(markdown, ""), "")
	var targets []string
	for _, m := range linkTarget.FindAllStringSubmatch(prose, -1) {
		if target := m[1]; !strings.Contains(target, "://") && !strings.HasPrefix(target, "mailto:") {
			targets = append(targets, target)
		}
	}
	return targets
}

// headingAnchors are the anchors a code host gives a Markdown text's
// headings, as GitHub makes them: lower case, punctuation dropped, spaces
// to hyphens, and -1, -2… after a repeat.
func headingAnchors(markdown string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, m := range heading.FindAllStringSubmatch(fencedCode.ReplaceAllString(markdown, ""), -1) {
		var slug strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				slug.WriteRune(r)
			case r == ' ':
				slug.WriteByte('-')
			}
		}
		anchor := slug.String()
		if n := seen[anchor]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", anchor, n)] = true
		} else {
			anchors[anchor] = true
		}
		seen[anchor]++
	}
	return anchors
}

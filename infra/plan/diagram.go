package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// shape is how a node is drawn.
type shape int

const (
	box shape = iota
	database
	person
)

type node struct {
	id, label string // label lines are separated by \n
	shape     shape
}

type edge struct {
	from, to, label string
	dashed          bool // a supporting flow (images, secrets, telemetry), not a request's path
}

// group is a box around nodes and other groups: the VPC, its subnets…
type group struct {
	id, label string
	nodes     []node
	groups    []*group
}

// Diagram is the architecture as a graph both renderers draw.
type Diagram struct {
	root  group // its label is unused; its members are top level
	edges []edge
}

func (g *group) add(id, label string, s shape) string {
	g.nodes = append(g.nodes, node{id: id, label: label, shape: s})
	return id
}

func (g *group) sub(id, label string) *group {
	c := &group{id: id, label: label}
	g.groups = append(g.groups, c)
	return c
}

func (d *Diagram) link(from, to, label string) {
	d.edges = append(d.edges, edge{from, to, label, false})
}
func (d *Diagram) flow(from, to, label string) {
	d.edges = append(d.edges, edge{from, to, label, true})
}

// NewDiagram draws what the platform deploys: who reaches the load
// balancer on which listener, its rules, the services and their target
// groups, the database, where images, secrets and telemetry come from and
// go, and the pipelines.
func NewDiagram(p *Platform) *Diagram {
	d := &Diagram{}
	top := &d.root
	users := top.add("users", "Visitors and employees", person)
	testers := top.add("testers", "Release testers\n"+p.TestCidr, person)

	aws := top.sub("aws", "AWS account")
	vpc := aws.sub("vpc", fmt.Sprintf("VPC %s, %d Availability Zones", p.VpcCidr, p.AZs))
	public := vpc.sub("public", fmt.Sprintf("Public subnets x%d", p.AZs))
	var prodPorts, testPorts []string
	for _, l := range p.Listeners {
		port := fmt.Sprintf("%s :%d", l.Protocol, l.Port)
		if l.Port == 8080 {
			testPorts = append(testPorts, port)
		} else {
			prodPorts = append(prodPorts, port)
		}
	}
	alb := public.add("alb", "Application Load Balancer\nproduction "+strings.Join(prodPorts, ", ")+"\ntest "+strings.Join(testPorts, ", "), box)
	if p.NatGateways > 0 {
		public.add("nat", fmt.Sprintf("NAT gateway x%d", p.NatGateways), box)
	}
	private := vpc.sub("private", fmt.Sprintf("Private subnets x%d, no public addresses", p.AZs))
	cluster := private.sub("ecs", "ECS cluster on Fargate, Container Insights")
	db := p.Database
	rds := private.add("rds", fmt.Sprintf("RDS for MySQL %s\n%s, %s, %d GB %s\nbackups %d days",
		db.Version, db.Class, map[bool]string{true: "Multi-AZ", false: "single-AZ"}[db.MultiAZ], db.StorageGB, db.StorageType, db.BackupRetentionDays), database)
	if len(p.InterfaceEndpoints) > 0 {
		private.add("endpoints", "VPC endpoints\n"+strings.Join(p.InterfaceEndpoints, ", ")+"\n"+strings.Join(p.GatewayEndpoints, ", ")+" (gateway)", box)
	}
	migrate := private.add("migrate", "CodeBuild: migrate\nsuppliersdb migrate, in the VPC", box)

	ecr := aws.add("ecr", fmt.Sprintf("ECR\n%s\nscan on push, last %d images", strings.Join(p.Repositories, ", "), p.KeepImages), box)
	secrets := aws.add("secrets", fmt.Sprintf("Secrets Manager\n%d secrets", len(p.Secrets)+boolInt(db.ManagedMasterSecret)), box)
	cw := aws.add("cloudwatch", fmt.Sprintf("CloudWatch\nlogs, metrics, %d alarms, %d dashboard", p.Alarms, p.Dashboards), box)
	sns := aws.add("sns", "SNS alarm topic", box)
	scaling := aws.add("scaling", "Application Auto Scaling\nCPU and requests per task", box)

	d.link(users, alb, strings.Join(prodPorts, ", "))
	d.link(testers, alb, strings.Join(testPorts, ", "))
	for _, s := range p.Services {
		tg := vpc.add("tg_"+s.Name, s.Name+" target groups\nblue / green, /healthz", box)
		svc := cluster.add("svc_"+s.Name, fmt.Sprintf("%s service\n%g vCPU, %g GB, %d-%d tasks\n+ CloudWatch agent", s.Name, s.VCPU(), s.MemoryGB(), s.MinTasks, s.MaxTasks), box)
		var paths []string
		for _, r := range p.Listeners[0].Rules {
			if r.Service != s.Name {
				continue
			}
			if len(r.Paths) == 0 {
				paths = append(paths, "default")
			}
			paths = append(paths, r.Paths...)
		}
		d.link(alb, tg, strings.Join(paths, ", "))
		d.link(tg, svc, ":8080")
		d.link(svc, rds, "MySQL, own account")
		d.flow(ecr, svc, "image")
		d.flow(secrets, svc, "secrets")
		d.flow(svc, cw, "logs, metrics")
		d.flow(scaling, svc, fmt.Sprintf("%d-%d tasks", s.MinTasks, s.MaxTasks))
	}
	d.flow(cw, sns, "alarms")
	d.flow(migrate, rds, "schema, accounts")
	d.flow(secrets, migrate, "")

	delivery := aws.sub("delivery", fmt.Sprintf("Delivery: %d CodePipeline %s pipelines, one per service", len(p.Pipelines), pipelineType(p)))
	source := delivery.add("source", p.Source+"\nsource", box)
	build := delivery.add("build", "CodeBuild: build\ntests, image, push", box)
	deploy := delivery.add("deploy", "CodeDeploy blue/green\n"+deploymentConfig(p)+"\ntest traffic on :8080, rollback on alarms", box)
	stages := map[string]string{"Source": source, "Build": build, "Migrate": migrate, "Deploy": deploy}
	if len(p.Pipelines) > 0 {
		names := p.Pipelines[0].Stages
		for i := 1; i < len(names); i++ {
			d.link(stages[names[i-1]], stages[names[i]], names[i])
		}
	}
	d.flow(build, ecr, "push image:commit")
	d.flow(deploy, alb, "shift traffic")
	return d
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func pipelineType(p *Platform) string {
	if len(p.Pipelines) == 0 {
		return ""
	}
	return p.Pipelines[0].Type
}

func deploymentConfig(p *Platform) string {
	if len(p.Services) == 0 {
		return ""
	}
	return strings.TrimPrefix(p.Services[0].Deployment, "CodeDeployDefault.")
}

// Mermaid renders the diagram as a Mermaid flowchart.
func (d *Diagram) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	var walk func(g *group, indent string)
	walk = func(g *group, indent string) {
		for _, n := range g.nodes {
			label := strings.ReplaceAll(n.label, "\n", "<br/>")
			switch n.shape {
			case database:
				fmt.Fprintf(&b, "%s%s[(\"%s\")]\n", indent, n.id, label)
			case person:
				fmt.Fprintf(&b, "%s%s([\"%s\"])\n", indent, n.id, label)
			default:
				fmt.Fprintf(&b, "%s%s[\"%s\"]\n", indent, n.id, label)
			}
		}
		for _, c := range g.groups {
			fmt.Fprintf(&b, "%ssubgraph %s[\"%s\"]\n", indent, c.id, c.label)
			walk(c, indent+"  ")
			fmt.Fprintf(&b, "%send\n", indent)
		}
	}
	walk(&d.root, "  ")
	for _, e := range d.edges {
		arrow := "-->"
		if e.dashed {
			arrow = "-.->"
		}
		if e.label == "" {
			fmt.Fprintf(&b, "  %s %s %s\n", e.from, arrow, e.to)
		} else {
			fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", e.from, arrow, e.label, e.to)
		}
	}
	return b.String()
}

// DOT renders the diagram for Graphviz.
func (d *Diagram) DOT() string {
	var b strings.Builder
	b.WriteString("// Generated by `make diagram` from infra/templates: do not edit.\n")
	b.WriteString("digraph architecture {\n  rankdir=LR;\n  newrank=true;\n  fontname=\"Helvetica\";\n")
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#fff8e7\", fontname=\"Helvetica\", fontsize=11];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=9];\n")
	quote := func(s string) string {
		return "\"" + strings.ReplaceAll(strings.ReplaceAll(s, "\"", "\\\""), "\n", "\\n") + "\""
	}
	var walk func(g *group, indent string)
	walk = func(g *group, indent string) {
		for _, n := range g.nodes {
			attrs := "label=" + quote(n.label)
			switch n.shape {
			case database:
				attrs += ", shape=cylinder, fillcolor=\"#e7f0ff\""
			case person:
				attrs += ", shape=ellipse, fillcolor=\"#eeeeee\""
			}
			fmt.Fprintf(&b, "%s%s [%s];\n", indent, n.id, attrs)
		}
		for _, c := range g.groups {
			fmt.Fprintf(&b, "%ssubgraph cluster_%s {\n%s  label=%s; style=\"rounded,dashed\"; color=\"#888888\";\n", indent, c.id, indent, quote(c.label))
			walk(c, indent+"  ")
			fmt.Fprintf(&b, "%s}\n", indent)
		}
	}
	walk(&d.root, "  ")
	for _, e := range d.edges {
		attrs := []string{}
		if e.label != "" {
			attrs = append(attrs, "label="+quote(e.label))
		}
		if e.dashed {
			attrs = append(attrs, "style=dashed", "color=\"#777777\"")
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", e.from, e.to, strings.Join(attrs, ", "))
	}
	b.WriteString("}\n")
	return b.String()
}

// SourceStamp is the comment an SVG made from dot carries, so a test can
// tell the SVG is stale without running Graphviz.
func SourceStamp(dot string) string {
	sum := sha256.Sum256([]byte(dot))
	return "<!-- made by Graphviz from docs/architecture.dot, sha256 " + hex.EncodeToString(sum[:]) + " -->"
}

// StampSVG puts dot's SourceStamp after the SVG's XML declaration.
func StampSVG(svg, dot string) string {
	decl, rest, ok := strings.Cut(svg, "?>\n")
	if !ok || !strings.HasPrefix(decl, "<?xml") {
		return SourceStamp(dot) + "\n" + svg
	}
	return decl + "?>\n" + SourceStamp(dot) + "\n" + rest
}

// README markers around the embedded Mermaid copy.
const (
	ReadmeBegin = "<!-- architecture:begin (make diagram writes this block) -->"
	ReadmeEnd   = "<!-- architecture:end -->"
)

// EmbedInReadme replaces the block between the markers with the Mermaid
// diagram in a fenced block.
func EmbedInReadme(readme, mermaid string) (string, error) {
	before, rest, ok := strings.Cut(readme, ReadmeBegin)
	if !ok {
		return "", fmt.Errorf("the README has no %q line", ReadmeBegin)
	}
	_, after, ok := strings.Cut(rest, ReadmeEnd)
	if !ok {
		return "", fmt.Errorf("the README has no %q line", ReadmeEnd)
	}
	return before + ReadmeBegin + "\n```mermaid\n" + mermaid + "```\n" + ReadmeEnd + after, nil
}

package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// shape is how a node is drawn in Mermaid (Graphviz draws every node as
// its icon with the label beneath, as AWS architecture diagrams do).
type shape int

const (
	box shape = iota
	database
	person
)

// IconsPackage is the npm package whose official AWS Architecture Icons
// the SVG draws (MIT licensed; `make diagram` fetches it into a cache).
const IconsPackage = "aws-icons@3.3.0"

// The icons, by their path under the package's icons/ folder.
const (
	iconUsers      = "resource/Users.svg"
	iconUser       = "resource/User.svg"
	iconALB        = "resource/ElasticLoadBalancingApplicationLoadBalancer.svg"
	iconNAT        = "resource/AmazonVPCNATGateway.svg"
	iconEndpoints  = "resource/AmazonVPCEndpoints.svg"
	iconECS        = "architecture-service/AmazonElasticContainerService.svg"
	iconRDS        = "architecture-service/AmazonRDS.svg"
	iconECR        = "architecture-service/AmazonElasticContainerRegistry.svg"
	iconSecrets    = "architecture-service/AWSSecretsManager.svg"
	iconCloudWatch = "architecture-service/AmazonCloudWatch.svg"
	iconSNS        = "architecture-service/AmazonSimpleNotificationService.svg"
	iconScaling    = "architecture-service/AWSApplicationAutoScaling.svg"
	iconCodeCommit = "architecture-service/AWSCodeCommit.svg"
	iconGit        = "resource/GitRepository.svg"
	iconCodeBuild  = "architecture-service/AWSCodeBuild.svg"
	iconCodeDeploy = "architecture-service/AWSCodeDeploy.svg"
)

type node struct {
	id, label string // label lines are separated by \n; the first is the name
	shape     shape
	icon      string // under the icons package's icons/ folder
}

type edge struct {
	from, to, label string // from and to name nodes or groups
	dashed          bool   // a supporting flow (images, secrets, telemetry), not a request's path
}

// group is a box around nodes and other groups: the VPC, its subnets…
type group struct {
	id, label string
	style     groupStyle
	nodes     []node
	groups    []*group
}

// groupStyle is how Graphviz draws a group, in the colours of AWS's own
// group boxes.
type groupStyle struct{ color, fill, dashed string }

var (
	cloudStyle    = groupStyle{"#232f3e", "#ffffff", ""}
	vpcStyle      = groupStyle{"#8c4fff", "#ffffff", ""}
	zoneStyle     = groupStyle{"#147eba", "#ffffff", "dashed"}
	publicStyle   = groupStyle{"#7aa116", "#f2f6e8", ""}
	privateStyle  = groupStyle{"#00a4a6", "#e6f6f7", ""}
	clusterStyle  = groupStyle{"#ed7100", "#fff8f0", "dashed"}
	regionalStyle = groupStyle{"#7d8998", "#fafafa", "dashed"}
	deliveryStyle = groupStyle{"#c925d1", "#fbf4fc", "dashed"}
)

// Diagram is the architecture as a graph both renderers draw.
type Diagram struct {
	root    group // its label is unused; its members are top level
	edges   []edge
	columns [][]string // nodes Graphviz puts one above the other
}

func (g *group) add(id, label string, s shape, icon string) string {
	g.nodes = append(g.nodes, node{id: id, label: label, shape: s, icon: icon})
	return id
}

func (g *group) sub(id, label string, style groupStyle) *group {
	c := &group{id: id, label: label, style: style}
	g.groups = append(g.groups, c)
	return c
}

func (d *Diagram) link(from, to, label string) {
	d.edges = append(d.edges, edge{from, to, label, false})
}
func (d *Diagram) flow(from, to, label string) {
	d.edges = append(d.edges, edge{from, to, label, true})
}

// column puts nodes in one column, left to right being the request's way.
func (d *Diagram) column(ids ...string) { d.columns = append(d.columns, ids) }

// NewDiagram draws what the platform deploys as AWS diagrams are drawn: the
// request's way left to right (people, load balancer, services, database)
// in the VPC's zones and subnets, the regional services below it, and the
// delivery pipeline beneath.
func NewDiagram(p *Platform) *Diagram {
	d := &Diagram{}
	top := &d.root
	users := top.add("users", "Visitors and employees", person, iconUsers)
	testers := top.add("testers", "Release testers\n"+p.TestCidr, person, iconUser)

	aws := top.sub("aws", "AWS Cloud", cloudStyle)
	vpc := aws.sub("vpc", "VPC "+p.VpcCidr, vpcStyle)
	zones := vpc.sub("zones", fmt.Sprintf("%d Availability Zones, a public and a private subnet in each", p.AZs), zoneStyle)
	public := zones.sub("public", fmt.Sprintf("Public subnets ×%d", p.AZs), publicStyle)
	var prodPorts, testPorts []string
	for _, l := range p.Listeners {
		port := fmt.Sprintf("%s :%d", l.Protocol, l.Port)
		if l.Port == 8080 {
			testPorts = append(testPorts, port)
		} else {
			prodPorts = append(prodPorts, port)
		}
	}
	alb := public.add("alb", "Application Load Balancer\n"+strings.Join(prodPorts, ", ")+", test "+strings.Join(testPorts, ", ")+
		"\nblue/green target groups", box, iconALB)
	column := []string{alb}
	if p.NatGateways > 0 {
		column = append(column, public.add("nat", fmt.Sprintf("NAT gateway ×%d", p.NatGateways), box, iconNAT))
	}
	private := zones.sub("private", fmt.Sprintf("Private subnets ×%d, no public addresses", p.AZs), privateStyle)
	cluster := private.sub("ecs", "ECS cluster on Fargate", clusterStyle)
	db := p.Database
	rds := private.add("rds", fmt.Sprintf("RDS for MySQL %s\n%s, %s\n%d GB %s, backups %d days",
		db.Version, db.Class, map[bool]string{true: "Multi-AZ", false: "single-AZ"}[db.MultiAZ], db.StorageGB, db.StorageType, db.BackupRetentionDays), database, iconRDS)
	rdsColumn := []string{rds}
	if len(p.InterfaceEndpoints) > 0 {
		rdsColumn = append(rdsColumn, private.add("endpoints", "VPC endpoints\n"+strings.Join(p.InterfaceEndpoints, ", ")+
			"\n"+strings.Join(p.GatewayEndpoints, ", ")+" (gateway)", box, iconEndpoints))
	}

	regional := aws.sub("regional", "Regional services", regionalStyle)
	ecr := regional.add("ecr", fmt.Sprintf("ECR\n%d repositories\nscan on push, last %d images", len(p.Repositories), p.KeepImages), box, iconECR)
	secrets := regional.add("secrets", fmt.Sprintf("Secrets Manager\n%d secrets for the tasks", len(p.Secrets)+boolInt(db.ManagedMasterSecret)), box, iconSecrets)
	cw := regional.add("cloudwatch", fmt.Sprintf("CloudWatch\nlogs, metrics\n%d alarms, %d dashboard", p.Alarms, p.Dashboards), box, iconCloudWatch)
	sns := regional.add("sns", "SNS\nalarm topic", box, iconSNS)
	scaling := regional.add("scaling", "Application Auto Scaling\nthe services' tasks, by CPU\nand requests per task", box, iconScaling)

	d.link(users, alb, strings.Join(prodPorts, ", "))
	d.link(testers, alb, strings.Join(testPorts, ", "))
	var services []string
	for _, s := range p.Services {
		svc := cluster.add("svc_"+s.Name, fmt.Sprintf("%s service\n%g vCPU, %g GB\n%d-%d tasks", s.Name, s.VCPU(), s.MemoryGB(), s.MinTasks, s.MaxTasks), box, iconECS)
		services = append(services, svc)
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
		d.link(alb, svc, strings.Join(paths, ", "))
		d.link(svc, rds, "MySQL")
	}
	d.flow(ecr, cluster.id, "images")
	d.flow(secrets, cluster.id, "")
	d.flow(cluster.id, cw, "") // CloudWatch's own label says what flows
	d.flow(scaling, cluster.id, "")
	d.flow(cw, sns, "alarms")

	delivery := aws.sub("delivery", fmt.Sprintf("Delivery: %d CodePipeline %s pipelines, one per service", len(p.Pipelines), pipelineType(p)), deliveryStyle)
	sourceIcon := iconGit
	if p.Source == "CodeCommit" {
		sourceIcon = iconCodeCommit
	}
	source := delivery.add("source", p.Source+"\nsource", box, sourceIcon)
	build := delivery.add("build", "CodeBuild: build\ntests, image, push", box, iconCodeBuild)
	migrate := delivery.add("migrate", "CodeBuild: migrate\nsuppliersdb migrate\nin the private subnets", box, iconCodeBuild)
	deploy := delivery.add("deploy", "CodeDeploy blue/green\n"+deploymentConfig(p)+"\nshifts the ALB's traffic\nrolls back on alarms", box, iconCodeDeploy)
	stages := map[string]string{"Source": source, "Build": build, "Migrate": migrate, "Deploy": deploy}
	if len(p.Pipelines) > 0 {
		names := p.Pipelines[0].Stages
		for i := 1; i < len(names); i++ {
			if stages[names[i-1]] != "" && stages[names[i]] != "" {
				d.link(stages[names[i-1]], stages[names[i]], "")
			}
		}
	}
	d.flow(build, ecr, "push")
	d.flow(migrate, rds, "schema")

	// The columns, left to right: the request's way on top, the regional
	// services beneath it, the pipeline's stages at the bottom.
	d.column(users, testers)
	d.column(append(column, scaling, secrets, source)...)
	d.column(append(services, ecr, build)...)
	d.column(append(rdsColumn, cw, sns, migrate)...)
	d.column(deploy)
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

// walk visits every group, parents first, with its nesting depth.
func (d *Diagram) walk(visit func(g *group, depth int)) {
	var rec func(g *group, depth int)
	rec = func(g *group, depth int) {
		visit(g, depth)
		for _, c := range g.groups {
			rec(c, depth+1)
		}
	}
	rec(&d.root, 0)
}

// group returns the group named id, or nil when id names a node.
func (d *Diagram) group(id string) *group {
	var found *group
	d.walk(func(g *group, _ int) {
		if g.id == id && g != &d.root {
			found = g
		}
	})
	return found
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

// iconCell is the colour of the empty cell Graphviz leaves for a node's
// icon; InlineIcons draws the icon there.
const iconCell = "#fe0001"

// iconSize is the icons' side in points.
const iconSize = 40

// DOT renders the diagram for Graphviz: each node its icon above its name
// (bold) and details, each group an AWS-style box, the request's way left
// to right along solid arrows, supporting flows dashed and left out of the
// layout's ranking so they never pull a box out of place.
func (d *Diagram) DOT() string {
	var b strings.Builder
	b.WriteString("// Generated by `make diagram` from infra/templates: do not edit.\n")
	b.WriteString("// Icons: the AWS Architecture Icons of the npm package " + IconsPackage + ", drawn in by make diagram.\n")
	b.WriteString("digraph architecture {\n")
	b.WriteString("  graph [rankdir=LR, newrank=true, compound=true, fontname=\"Helvetica\", fontsize=12, nodesep=0.25, ranksep=0.9, pad=0.2, labeljust=l];\n")
	b.WriteString("  node [shape=plaintext, fontname=\"Helvetica\", fontsize=10, margin=0];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=10, color=\"#545b64\", fontcolor=\"#232f3e\", arrowsize=0.7];\n")
	quote := func(s string) string {
		return "\"" + strings.ReplaceAll(strings.ReplaceAll(s, "\"", "\\\""), "\n", "\\n") + "\""
	}
	var walk func(g *group, indent string)
	walk = func(g *group, indent string) {
		for _, n := range g.nodes {
			lines := strings.Split(n.label, "\n")
			var cells strings.Builder
			fmt.Fprintf(&cells, `<TR><TD FIXEDSIZE="TRUE" WIDTH="%d" HEIGHT="%d" BGCOLOR="%s"></TD></TR>`, iconSize, iconSize, iconCell)
			fmt.Fprintf(&cells, `<TR><TD><B>%s</B></TD></TR>`, html.EscapeString(lines[0]))
			for _, l := range lines[1:] {
				fmt.Fprintf(&cells, `<TR><TD><FONT POINT-SIZE="9" COLOR="#545b64">%s</FONT></TD></TR>`, html.EscapeString(l))
			}
			fmt.Fprintf(&b, "%s%s [label=<<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">%s</TABLE>>];\n", indent, n.id, cells.String())
		}
		for _, c := range g.groups {
			style := "filled"
			if c.style.dashed != "" {
				style += "," + c.style.dashed
			}
			fmt.Fprintf(&b, "%ssubgraph cluster_%s {\n%s  label=<<B>%s</B>>; style=%q; color=%q; fillcolor=%q; fontcolor=%q; penwidth=1.5; margin=12;\n",
				indent, c.id, indent, html.EscapeString(c.label), style, c.style.color, c.style.fill, c.style.color)
			walk(c, indent+"  ")
			fmt.Fprintf(&b, "%s}\n", indent)
		}
	}
	walk(&d.root, "  ")
	for _, col := range d.columns {
		fmt.Fprintf(&b, "  {rank=same; %s;}\n", strings.Join(col, "; "))
	}
	for _, e := range d.edges {
		var attrs []string
		from, to := e.from, e.to
		// An edge to or from a group is drawn to its first node, from its
		// last (the nearest to the boxes beneath), and clipped at the
		// group's border.
		gFrom, gTo := d.group(from), d.group(to)
		if gFrom != nil && len(gFrom.nodes) == 0 || gTo != nil && len(gTo.nodes) == 0 {
			continue // an empty box: nothing to point at
		}
		if g := gFrom; g != nil {
			from = g.nodes[len(g.nodes)-1].id
			attrs = append(attrs, "ltail=cluster_"+g.id)
		}
		if g := gTo; g != nil {
			to = g.nodes[0].id
			attrs = append(attrs, "lhead=cluster_"+g.id)
		}
		if e.label != "" {
			attrs = append(attrs, "label="+quote(" "+e.label+" "))
		}
		if e.dashed {
			attrs = append(attrs, "style=dashed", "color=\"#8d99a8\"", "constraint=false")
		} else {
			attrs = append(attrs, "penwidth=1.4")
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", from, to, strings.Join(attrs, ", "))
	}
	b.WriteString("}\n")
	return b.String()
}

// InlineIcons draws each node's icon, read from icons (the package's
// icons/ folder), into the cell Graphviz left for it in svg, as an inline
// SVG, so the diagram stands alone wherever it is shown.
func (d *Diagram) InlineIcons(svg string, icons fs.FS) (string, error) {
	var err error
	d.walk(func(g *group, _ int) {
		for _, n := range g.nodes {
			if err != nil {
				return
			}
			svg, err = inlineIcon(svg, n, icons)
		}
	})
	return svg, err
}

var iconCellPolygon = regexp.MustCompile(`<polygon fill="` + iconCell + `" stroke="[^"]*" points="([^"]*)"/>`)

func inlineIcon(svg string, n node, icons fs.FS) (string, error) {
	title := "<title>" + html.EscapeString(n.id) + "</title>"
	at := strings.Index(svg, title)
	if at < 0 {
		return "", fmt.Errorf("the SVG has no node %s", n.id)
	}
	end := at + strings.Index(svg[at:], "</g>")
	loc := iconCellPolygon.FindStringSubmatchIndex(svg[at:end])
	if loc == nil {
		return "", fmt.Errorf("the SVG has no icon cell in node %s", n.id)
	}
	icon, err := fs.ReadFile(icons, n.icon)
	if err != nil {
		return "", fmt.Errorf("the icon of %s: %w", n.id, err)
	}
	viewBox := regexp.MustCompile(`viewBox="([^"]*)"`).FindSubmatch(icon)
	open := bytes.IndexByte(icon, '>')
	closing := bytes.LastIndex(icon, []byte("</svg>"))
	if viewBox == nil || open < 0 || closing < open {
		return "", fmt.Errorf("%s is not an SVG with a viewBox", n.icon)
	}
	inner := regexp.MustCompile(`<title>[^<]*</title>`).ReplaceAll(icon[open+1:closing], nil)
	box := pointsRect(svg[at+loc[2] : at+loc[3]])
	drawn := fmt.Sprintf(`<svg x="%g" y="%g" width="%g" height="%g" viewBox="%s">%s</svg>`,
		box[0], box[1], box[2]-box[0], box[3]-box[1], viewBox[1], inner)
	return svg[:at+loc[0]] + drawn + svg[at+loc[1]:], nil
}

// pointsRect is the box (x0, y0, x1, y1) around an SVG polygon's points.
func pointsRect(points string) [4]float64 {
	r := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, p := range strings.Fields(points) {
		xs, ys, _ := strings.Cut(p, ",")
		x, _ := strconv.ParseFloat(xs, 64)
		y, _ := strconv.ParseFloat(ys, 64)
		r = [4]float64{math.Min(r[0], x), math.Min(r[1], y), math.Max(r[2], x), math.Max(r[3], y)}
	}
	return r
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

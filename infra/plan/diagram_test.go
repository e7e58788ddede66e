package plan

import (
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

// The committed docs/architecture.svg (TestCommittedDiagramIsCurrent keeps
// it in step with the templates) as a person reads it: the shape of a
// laptop screen, the AWS icons, boxes that hold what they claim to, and no
// word written over another.

// svgElement is any element of the SVG, with its attributes and children.
type svgElement struct {
	XMLName  xml.Name
	Attrs    []xml.Attr   `xml:",any,attr"`
	Children []svgElement `xml:",any"`
	Text     string       `xml:",chardata"`
}

func (e *svgElement) attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (e *svgElement) title() string {
	for _, c := range e.Children {
		if c.XMLName.Local == "title" {
			return strings.TrimSpace(c.Text)
		}
	}
	return ""
}

// rect is a box in the SVG's coordinates.
type rect struct{ x0, y0, x1, y1 float64 }

func (r rect) empty() bool { return r.x1 < r.x0 }

func (r rect) union(o rect) rect {
	if r.empty() {
		return o
	}
	if o.empty() {
		return r
	}
	return rect{math.Min(r.x0, o.x0), math.Min(r.y0, o.y0), math.Max(r.x1, o.x1), math.Max(r.y1, o.y1)}
}

// inside says whether r lies within o, give or take a point.
func (r rect) inside(o rect) bool {
	return r.x0 >= o.x0-1 && r.y0 >= o.y0-1 && r.x1 <= o.x1+1 && r.y1 <= o.y1+1
}

// overlaps says whether r and o share more than a sliver.
func (r rect) overlaps(o rect) bool {
	return math.Min(r.x1, o.x1)-math.Max(r.x0, o.x0) > 1 && math.Min(r.y1, o.y1)-math.Max(r.y0, o.y0) > 1
}

func (r rect) String() string { return fmt.Sprintf("(%.0f,%.0f)-(%.0f,%.0f)", r.x0, r.y0, r.x1, r.y1) }

var noRect = rect{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}

func num(s string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "pt"), 64)
	return f
}

// pointsBox is the box around a polygon's points.
func pointsBox(points string) rect {
	r := noRect
	for _, p := range strings.Fields(points) {
		x, y, _ := strings.Cut(p, ",")
		r = r.union(rect{num(x), num(y), num(x), num(y)})
	}
	return r
}

// pathBox is the box around a path's points (its curves' control points
// included, which lie on a rounded box's corners).
func pathBox(d string) rect {
	nums := regexp.MustCompile(`-?[0-9.]+`).FindAllString(d, -1)
	r := noRect
	for i := 0; i+1 < len(nums); i += 2 {
		x, y := num(nums[i]), num(nums[i+1])
		r = r.union(rect{x, y, x, y})
	}
	return r
}

// textLabel is one line of text and the box it takes, estimated from its
// anchor, font size and length (Helvetica's letters average about half an
// em; Graphviz's own estimate is wider, so this errs on the kind side).
type textLabel struct {
	text string
	box  rect
}

func textBox(e *svgElement) textLabel {
	text := strings.TrimSpace(e.Text)
	size := num(e.attr("font-size"))
	x, y := num(e.attr("x")), num(e.attr("y"))
	width := 0.5 * size * float64(utf8.RuneCountInString(text))
	switch e.attr("text-anchor") {
	case "middle":
		x -= width / 2
	case "end":
		x -= width
	}
	return textLabel{text, rect{x, y - 0.7*size, x + width, y + 0.2*size}}
}

// drawing is what the test reads off the SVG.
type drawing struct {
	width, height float64
	clusters      map[string]rect // by group id
	nodes         map[string]rect // by node id
	icons         map[string]int  // the inline icons' drawn elements, by node id
	texts         []textLabel
}

func readDrawing(t *testing.T, svg string) drawing {
	t.Helper()
	var root svgElement
	if err := xml.Unmarshal([]byte(svg), &root); err != nil {
		t.Fatalf("docs/architecture.svg: %v", err)
	}
	d := drawing{width: num(root.attr("width")), height: num(root.attr("height")),
		clusters: map[string]rect{}, nodes: map[string]rect{}, icons: map[string]int{}}
	var extent func(e *svgElement, node string) rect
	extent = func(e *svgElement, node string) rect {
		r := noRect
		switch e.XMLName.Local {
		case "polygon", "polyline":
			r = pointsBox(e.attr("points"))
		case "ellipse":
			cx, cy, rx, ry := num(e.attr("cx")), num(e.attr("cy")), num(e.attr("rx")), num(e.attr("ry"))
			r = rect{cx - rx, cy - ry, cx + rx, cy + ry}
		case "text":
			if strings.TrimSpace(e.Text) != "" {
				l := textBox(e)
				d.texts = append(d.texts, l)
				r = l.box
			}
		case "svg": // an inline icon: its box, not its insides
			x, y := num(e.attr("x")), num(e.attr("y"))
			if node != "" {
				d.icons[node] += countDrawn(e)
			}
			return rect{x, y, x + num(e.attr("width")), y + num(e.attr("height"))}
		}
		for i := range e.Children {
			r = r.union(extent(&e.Children[i], node))
		}
		return r
	}
	var walk func(e *svgElement)
	walk = func(e *svgElement) {
		switch e.attr("class") {
		case "cluster":
			for _, c := range e.Children {
				if c.XMLName.Local == "polygon" {
					d.clusters[strings.TrimPrefix(e.title(), "cluster_")] = pointsBox(c.attr("points"))
					break
				}
				if c.XMLName.Local == "path" { // a rounded box
					d.clusters[strings.TrimPrefix(e.title(), "cluster_")] = pathBox(c.attr("d"))
					break
				}
			}
			extent(e, "") // its label
			return
		case "node":
			d.nodes[e.title()] = extent(e, e.title())
			return
		case "edge":
			extent(e, "")
			return
		}
		for i := range e.Children {
			walk(&e.Children[i])
		}
	}
	walk(&root)
	return d
}

// countDrawn counts an icon's shapes, so an empty placeholder is no icon.
func countDrawn(e *svgElement) int {
	n := 0
	switch e.XMLName.Local {
	case "path", "polygon", "rect", "circle", "ellipse":
		n++
	}
	for i := range e.Children {
		n += countDrawn(&e.Children[i])
	}
	return n
}

func committedDrawing(t *testing.T) (drawing, *Diagram) {
	t.Helper()
	return readDrawing(t, readFile(t, docs+"architecture.svg")), NewDiagram(loadPlatform(t, environment, nil))
}

// TestDiagramFitsALaptopScreen: no wider than about twice its height.
func TestDiagramFitsALaptopScreen(t *testing.T) {
	d, _ := committedDrawing(t)
	checkAspect(t, d)
}

// TestDiagramBoxesHoldTheirNodes: the VPC, subnet, zone and cluster boxes
// each contain every node the platform puts in them, and ECR, a regional
// service, is drawn outside the VPC.
func TestDiagramBoxesHoldTheirNodes(t *testing.T) {
	d, model := committedDrawing(t)
	checkBoxes(t, d, model)
}

// TestDiagramLabelsDoNotOverlap: no text is written over another.
func TestDiagramLabelsDoNotOverlap(t *testing.T) {
	d, _ := committedDrawing(t)
	checkLabels(t, d)
}

// TestDiagramShowsAWSIcons: every node is drawn with its AWS architecture
// icon (people with the general Users icon), inline, so the SVG stands alone.
func TestDiagramShowsAWSIcons(t *testing.T) {
	d, model := committedDrawing(t)
	checkIcons(t, d, model)
}

// TestDiagramVariantsDrawCleanly: the other platforms the templates make
// (the dev parameters; VPC endpoints instead of a NAT gateway) lay out as
// well, so a change of the templates cannot make the next `make diagram`
// unreadable. The icons here are stand-ins: the layout is what is tested.
func TestDiagramVariantsDrawCleanly(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set, so this cannot be skipped: no Graphviz dot: %v", err)
		}
		t.Skip("SKIPPED: no Graphviz dot (apt-get install graphviz)")
	}
	for name, p := range map[string]*Platform{
		"dev":                 loadPlatform(t, "dev", nil),
		"prod, VPC endpoints": loadPlatform(t, "prod", map[string]map[string]string{"network": {"Egress": "VpcEndpoints"}}),
	} {
		t.Run(name, func(t *testing.T) {
			model := NewDiagram(p)
			cmd := exec.Command("dot", "-Tsvg")
			cmd.Stdin = strings.NewReader(model.DOT())
			svg, err := cmd.Output()
			if err != nil {
				t.Fatalf("dot -Tsvg: %v", err)
			}
			icons := fstest.MapFS{}
			model.walk(func(g *group, _ int) {
				for _, n := range g.nodes {
					icons[n.icon] = &fstest.MapFile{Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><title>stand-in</title><path d="M0 0h64v64H0z"/></svg>`)}
				}
			})
			drawn, err := model.InlineIcons(string(svg), icons)
			if err != nil {
				t.Fatal(err)
			}
			d := readDrawing(t, drawn)
			checkAspect(t, d)
			checkBoxes(t, d, model)
			checkLabels(t, d)
			checkIcons(t, d, model)
		})
	}
}

func checkAspect(t *testing.T, d drawing) {
	t.Helper()
	if d.width == 0 || d.height == 0 {
		t.Fatalf("the SVG has no size: %g×%g", d.width, d.height)
	}
	if aspect := d.width / d.height; aspect > 2.1 {
		t.Errorf("the diagram is %.0f×%.0f pt, %.1f:1; want at most about 2:1", d.width, d.height, aspect)
	}
}

func checkBoxes(t *testing.T, d drawing, model *Diagram) {
	t.Helper()
	var walk func(g *group, within []string)
	walk = func(g *group, within []string) {
		for _, n := range g.nodes {
			box, ok := d.nodes[n.id]
			if !ok {
				t.Errorf("the SVG lacks the node %s", n.id)
				continue
			}
			for _, c := range within {
				if cb, ok := d.clusters[c]; !ok {
					t.Errorf("the SVG lacks the box %s", c)
				} else if !box.inside(cb) {
					t.Errorf("%s %v sticks out of its box %s %v", n.id, box, c, cb)
				}
			}
		}
		for _, c := range g.groups {
			walk(c, append(within[:len(within):len(within)], c.id))
		}
	}
	walk(&model.root, nil)
	vpc, ok := d.clusters["vpc"]
	if !ok {
		t.Fatal("the SVG has no VPC box (cluster_vpc)")
	}
	if ecr := d.nodes["ecr"]; ecr.empty() || ecr.overlaps(vpc) {
		t.Errorf("ECR %v is drawn on the VPC %v; it is a regional service outside it", ecr, vpc)
	}
}

func checkLabels(t *testing.T, d drawing) {
	t.Helper()
	if len(d.texts) < 10 {
		t.Fatalf("only %d texts found in the SVG", len(d.texts))
	}
	for i, a := range d.texts {
		for _, b := range d.texts[i+1:] {
			if a.box.overlaps(b.box) {
				t.Errorf("%q %v and %q %v are drawn over each other", a.text, a.box, b.text, b.box)
			}
		}
	}
}

func checkIcons(t *testing.T, d drawing, model *Diagram) {
	t.Helper()
	model.walk(func(g *group, _ int) {
		for _, n := range g.nodes {
			if d.icons[n.id] == 0 {
				t.Errorf("%s (%q) has no icon drawn", n.id, strings.SplitN(n.label, "\n", 2)[0])
			}
		}
	})
}

// Command plan writes the lab's planning deliverables from the
// CloudFormation templates: the architecture diagram and the cost estimate.
// Run it from the repository root (make diagram, make cost-estimate):
//
//	go run ./infra/cmd/plan diagram   # docs/architecture.{mmd,dot,svg}, and the README's copy
//	go run ./infra/cmd/plan cost      # docs/cost-estimate.md and .json
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/coffee-suppliers/coffee-suppliers/infra/plan"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "plan:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	env := fs.String("env", "prod", "the environment whose parameters (infra/params/ENV.json) are planned")
	prices := fs.String("prices", "infra/costs/us-east-1.json", "the region's price table")
	assumptions := fs.String("assumptions", "infra/costs/assumptions.json", "traffic, sizes and volumes")
	out := fs.String("out", "docs", "where the outputs go")
	readme := fs.String("readme", "README.md", "the README whose architecture block gets the Mermaid diagram")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "cost" && fs.Arg(0) != "diagram") {
		return fmt.Errorf("usage: plan [flags] cost|diagram")
	}
	switch fs.Arg(0) {
	case "cost":
		pt, err := plan.LoadPrices(*prices)
		if err != nil {
			return err
		}
		as, err := plan.LoadAssumptions(*assumptions)
		if err != nil {
			return err
		}
		src, err := plan.ReadSources("infra/templates", "infra/params", *env)
		if err != nil {
			return err
		}
		r, err := plan.BuildReport(plan.Inputs{Sources: src, Prices: pt, Assumptions: as})
		if err != nil {
			return err
		}
		j, err := r.JSON()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*out, "cost-estimate.md"), []byte(r.Markdown("make cost-estimate")), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*out, "cost-estimate.json"), j, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %.2f USD a month, %.2f for 12 months; cheapest: %s at %.2f a month\n",
			*env, r.Baseline.Monthly, r.Baseline.Yearly(), r.Cheapest.Variant.Name, r.Cheapest.Monthly)
	case "diagram":
		return writeDiagram(*env, *out, *readme)
	}
	return nil
}

// writeDiagram writes the Mermaid and Graphviz sources, the SVG Graphviz
// makes of the latter, and the Mermaid copy in the README.
func writeDiagram(env, out, readme string) error {
	p, err := plan.Load("infra/templates", "infra/params", env, nil)
	if err != nil {
		return err
	}
	d := plan.NewDiagram(p)
	mermaid, dot := d.Mermaid(), d.DOT()
	if _, err := exec.LookPath("dot"); err != nil {
		return fmt.Errorf("the SVG needs Graphviz's dot: apt-get install graphviz (%w)", err)
	}
	cmd := exec.Command("dot", "-Tsvg")
	cmd.Stdin = strings.NewReader(dot)
	cmd.Stderr = os.Stderr
	svg, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("dot -Tsvg: %w", err)
	}
	text, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	embedded, err := plan.EmbedInReadme(string(text), mermaid)
	if err != nil {
		return fmt.Errorf("%s: %w", readme, err)
	}
	for name, content := range map[string]string{
		filepath.Join(out, "architecture.mmd"): mermaid,
		filepath.Join(out, "architecture.dot"): dot,
		filepath.Join(out, "architecture.svg"): plan.StampSVG(string(svg), dot),
		readme:                                 embedded,
	} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %s/architecture.{mmd,dot,svg} and the diagram in %s\n", out, readme)
	return nil
}

// Command plan writes the lab's planning deliverables from the
// CloudFormation templates: the architecture diagram and the cost estimate.
// Run it from the repository root (make diagram, make cost-estimate):
//
//	go run ./infra/cmd/plan diagram   # docs/architecture.{mmd,dot,svg}, and the README's copy
//	go run ./infra/cmd/plan cost      # docs/cost-estimate.md and .json
package main

import (
	"archive/tar"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
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
	icons := fs.String("icons", os.Getenv("AWS_ICONS_DIR"), "the icons/ folder of the npm package "+plan.IconsPackage+" (default: fetched with npm pack into the user's cache)")
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
		return writeDiagram(*env, *out, *readme, *icons)
	}
	return nil
}

// writeDiagram writes the Mermaid and Graphviz sources, the SVG Graphviz
// makes of the latter with the AWS icons drawn in, and the Mermaid copy in
// the README.
func writeDiagram(env, out, readme, icons string) error {
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
	if icons == "" {
		if icons, err = fetchIcons(); err != nil {
			return err
		}
	}
	drawn, err := d.InlineIcons(string(svg), os.DirFS(icons))
	if err != nil {
		return fmt.Errorf("draw the icons from %s: %w", icons, err)
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
		filepath.Join(out, "architecture.svg"): plan.StampSVG(drawn, dot),
		readme:                                 embedded,
	} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %s/architecture.{mmd,dot,svg} and the diagram in %s\n", out, readme)
	return nil
}

// fetchIcons returns the icons/ folder of plan.IconsPackage in the user's
// cache, fetching the package with npm pack (which checks the registry's
// integrity hash) the first time. The icons are not kept in the repository.
func fetchIcons() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder for the icons (set -icons or AWS_ICONS_DIR): %w", err)
	}
	dir := filepath.Join(cache, "coffee-suppliers", strings.ReplaceAll(plan.IconsPackage, "@", "-"))
	icons := filepath.Join(dir, "icons")
	if _, err := os.Stat(icons); err == nil {
		return icons, nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", fmt.Errorf("the diagram's icons come from npm's %s: install npm, or set -icons (%w)", plan.IconsPackage, err)
	}
	tmp, err := os.MkdirTemp("", "aws-icons-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	pack := exec.Command("npm", "pack", "--silent", plan.IconsPackage)
	pack.Dir, pack.Stderr = tmp, os.Stderr
	name, err := pack.Output()
	if err != nil {
		return "", fmt.Errorf("npm pack %s: %w", plan.IconsPackage, err)
	}
	if err := extractIcons(filepath.Join(tmp, strings.TrimSpace(string(name))), dir+".part"); err != nil {
		return "", err
	}
	if err := os.Rename(dir+".part", dir); err != nil {
		return "", err
	}
	fmt.Printf("fetched %s into %s\n", plan.IconsPackage, dir)
	return icons, nil
}

// extractIcons unpacks the package's icons/ folder and licence into dir.
func extractIcons(tarball, dir string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", tarball, err)
	}
	os.RemoveAll(dir)
	files := tar.NewReader(gz)
	for {
		h, err := files.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", tarball, err)
		}
		name := strings.TrimPrefix(h.Name, "package/")
		if h.Typeflag != tar.TypeReg || !filepath.IsLocal(name) || !(strings.HasPrefix(name, "icons/") || name == "LICENSE") {
			continue
		}
		target := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		content, err := io.ReadAll(io.LimitReader(files, 1<<20))
		if err != nil {
			return fmt.Errorf("%s: %s: %w", tarball, h.Name, err)
		}
		if err := os.WriteFile(target, content, 0o644); err != nil {
			return err
		}
	}
}

package e2e

import (
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// readmeDiagram matches the Mermaid block `make diagram` writes into the
// README.
var readmeDiagram = regexp.MustCompile("(?s)<!-- architecture:begin[^>]*-->\n```mermaid\n(.*?)```\n<!-- architecture:end -->")

// TestArchitectureDiagramRenders: the README's architecture diagram is
// drawn by Mermaid, the library code hosts render it with, without a syntax
// error and with every node of the source. MERMAID_JS names mermaid.min.js
// (.ci/run fetches it from npm); a test of the diagram's content against
// the templates is infra/plan's.
func TestArchitectureDiagramRenders(t *testing.T) {
	library := os.Getenv("MERMAID_JS")
	if library == "" {
		const why = "SKIPPED: MERMAID_JS is not set: npm pack mermaid@11 and point it at the package's dist/mermaid.min.js (bash .ci/run does)"
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set, so this cannot be skipped: " + why)
		}
		t.Skip(why)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := readmeDiagram.FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no Mermaid block between the architecture markers: run make diagram")
	}
	source := string(m[1])
	nodes := len(regexp.MustCompile(`(?m)^\s*\w+(\["|\[\("|\(\[")`).FindAllString(source, -1))

	mux := http.NewServeMux()
	mux.HandleFunc("/mermaid.min.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, library) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html><body><pre class="mermaid">` + html.EscapeString(source) + `</pre>
<script src="/mermaid.min.js"></script>
<script>
mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
mermaid.run().then(() => { window.rendered = "ok"; }, e => { window.rendered = "error: " + (e.message || e); });
</script></body></html>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	p := openTab(t)
	p.navigate("open the diagram page", chromedp.Navigate(srv.URL))
	deadline := time.Now().Add(time.Minute)
	result := ""
	for result == "" {
		if time.Now().After(deadline) {
			t.Fatal("Mermaid did not finish drawing within a minute")
		}
		time.Sleep(100 * time.Millisecond)
		result = eval[string](p, `window.rendered || ""`)
	}
	if result != "ok" {
		t.Fatalf("Mermaid cannot draw the README's diagram: %s", result)
	}
	drawn := eval[int](p, `document.querySelectorAll("pre.mermaid svg g.node").length`)
	edges := eval[int](p, `document.querySelectorAll("pre.mermaid svg .edgePaths path").length`)
	text := eval[string](p, `document.querySelector("pre.mermaid svg").textContent`)
	t.Logf("Mermaid drew %d nodes (%d in the source) and %d edges", drawn, nodes, edges)
	if drawn != nodes || edges == 0 {
		t.Errorf("Mermaid drew %d nodes and %d edges, want the source's %d nodes and its edges", drawn, edges, nodes)
	}
	for _, want := range []string{"Application Load Balancer", "customer service", "employee service", "RDS for MySQL"} {
		if !strings.Contains(text, want) {
			t.Errorf("the drawn diagram does not say %q", want)
		}
	}
}

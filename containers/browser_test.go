package containers

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// storyResult matches the verdict lines `go test -v` prints for each test.
var storyResult = regexp.MustCompile(`(?m)^\s*--- (PASS|FAIL|SKIP): (\S+)`)

// testBrowserStories runs the browser user stories of e2e/ (headless
// Chromium) against base, one of HAProxy's listeners, signing in as the
// stack's administrator: the same stories as on the in-process stack, now
// through the load balancer, two replicas of each service and MySQL.
func (st *stack) testBrowserStories(t *testing.T, base string) {
	if _, err := exec.LookPath(envOr("CHROMIUM", "chromium")); err != nil {
		skipOrFail(t, "SKIPPED: the browser stories need Chromium (apt-get install chromium): "+err.Error())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	// The README diagram's test has nothing to do with the stack: it runs
	// in e2e's own run.
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-v", "-skip", "^TestArchitectureDiagramRenders$", "./...")
	cmd.Dir = "../e2e"
	cmd.Env = append(os.Environ(),
		"E2E_BASE_URL="+base,
		"E2E_ADMIN_EMAIL="+st.adminEmail,
		"E2E_ADMIN_PASSWORD="+st.adminPassword)
	out, err := cmd.CombinedOutput()
	counts := map[string]int{}
	var skipped []string
	for _, m := range storyResult.FindAllStringSubmatch(string(out), -1) {
		counts[m[1]]++
		if m[1] == "SKIP" {
			skipped = append(skipped, m[2])
		}
	}
	t.Logf("browser stories through %s: %d passed, %d failed, %d skipped %v",
		base, counts["PASS"], counts["FAIL"], counts["SKIP"], skipped)
	if err != nil || counts["FAIL"] > 0 {
		t.Fatalf("the browser stories through %s failed: %v\n%s", base, err, out)
	}
	if counts["PASS"] == 0 {
		t.Fatalf("no browser story ran through %s:\n%s", base, out)
	}
	// Only the story that moves the in-process clock may skip here.
	for _, name := range skipped {
		if !strings.HasPrefix(name, "TestSessionExpiresWhenIdle") {
			t.Errorf("story %s skipped through %s:\n%s", name, base, out)
		}
	}
}

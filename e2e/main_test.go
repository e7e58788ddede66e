package e2e

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/coffee-suppliers/coffee-suppliers/local/stack"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// seededSuppliers fills the lists with three pages of 20 when the tests
// start their own stack.
const seededSuppliers = 45

// skipMessage is what a run without Chromium says, loudly.
const skipMessage = "SKIPPED: browser tests need Chromium: apt-get install chromium, or run bash .ci/run"

// target is what every story drives, set once by TestMain.
var target struct {
	// baseURL is the application's address: the in-process gateway, or
	// E2E_BASE_URL (e.g. HAProxy of the compose stack).
	baseURL string
	// adminDB is the in-process stack's schema-owning account; nil when the
	// tests drive E2E_BASE_URL, so database checks are skipped.
	adminDB *suppliers.DBConfig
	// browser is a chromedp context holding the one browser of this package;
	// each test opens its own tab in it. Nil when Chromium is missing.
	browser context.Context
	// noBrowser says why there is no browser.
	noBrowser string
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()

	chromium, err := findChromium()
	if err != nil {
		target.noBrowser = err.Error()
		fmt.Printf("\n*** %s\n*** (%v)\n\n", skipMessage, err)
		return m.Run() // every test skips, or fails under CI
	}

	if base := os.Getenv("E2E_BASE_URL"); base != "" {
		target.baseURL = strings.TrimRight(base, "/")
		fmt.Printf("e2e: driving %s (E2E_BASE_URL); database checks are skipped\n", target.baseURL)
	} else {
		// Only warnings and errors: a failing story shows the server's
		// complaints without every request drowning them.
		logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		s, err := stack.Start(ctx, stack.Options{Addr: "127.0.0.1:0", Suppliers: seededSuppliers, Logger: logger})
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e: start the application:", err)
			return 1
		}
		defer s.Close()
		target.baseURL = s.URL
		target.adminDB = &s.AdminDB
	}

	// One browser for the package. The defaults already hold most of these
	// flags; they are spelled out so the list is checked here. chromedp
	// gives the browser a fresh temporary --user-data-dir and removes it
	// when the browser exits.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser
		fmt.Fprintf(os.Stderr, "e2e: start %s: %v\n", chromium, err)
		return 1
	}
	target.browser = browserCtx
	return m.Run()
}

// findChromium returns the browser to run: $CHROMIUM, chromium on PATH, or
// Debian's /usr/bin/chromium.
func findChromium() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("CHROMIUM=%s is not an executable: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	const debian = "/usr/bin/chromium"
	if _, err := os.Stat(debian); err == nil {
		return debian, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	return "", errors.New("no chromium on PATH, no " + debian + ", CHROMIUM not set")
}

// requireBrowser skips the test loudly when Chromium is missing, or fails
// it under CI, where a skipped browser test would hide a broken setup.
func requireBrowser(t *testing.T) {
	t.Helper()
	if target.browser != nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("browser tests need Chromium (%s): apt-get install chromium", target.noBrowser)
	}
	t.Skipf("%s (%s)", skipMessage, target.noBrowser)
}

// checkDB runs check against the application's database when the tests
// started it themselves; with E2E_BASE_URL the database is out of reach and
// the check is only noted, while the story's on-screen checks still run.
func checkDB(t *testing.T, what string, check func(ctx context.Context, store *suppliers.Store)) {
	t.Helper()
	if target.adminDB == nil {
		t.Logf("not checked in the database (E2E_BASE_URL is set): %s", what)
		return
	}
	db, err := suppliers.Open(*target.adminDB)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	check(ctx, suppliers.NewStore(db, 5*time.Second))
}

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/coffee-suppliers/coffee-suppliers/local/stack"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// seededSuppliers fills the lists with three pages of 20 when the tests
// start their own stack.
const seededSuppliers = 45

// sessionIdleTimeout is the in-process stack's idle timeout, set here so
// the expiry story knows how far to move the clock.
const sessionIdleTimeout = 30 * time.Minute

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
	// adminEmail and adminPassword sign the stories in: the in-process
	// stack's demo account, or E2E_ADMIN_EMAIL and E2E_ADMIN_PASSWORD.
	adminEmail, adminPassword string
	// clock is the employee service's clock when the tests started the
	// stack; nil with E2E_BASE_URL, where time cannot be moved.
	clock *testClock
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

	chromium, err := FindChromium()
	if err != nil {
		target.noBrowser = err.Error()
		fmt.Printf("\n*** %s\n*** (%v)\n\n", skipMessage, err)
		return m.Run() // every test skips, or fails under CI
	}

	if base := os.Getenv("E2E_BASE_URL"); base != "" {
		target.baseURL = strings.TrimRight(base, "/")
		target.adminEmail, target.adminPassword = os.Getenv("E2E_ADMIN_EMAIL"), os.Getenv("E2E_ADMIN_PASSWORD")
		if target.adminEmail == "" || target.adminPassword == "" {
			fmt.Fprintln(os.Stderr, "e2e: E2E_BASE_URL is set, so E2E_ADMIN_EMAIL and E2E_ADMIN_PASSWORD must name "+
				"an employee account of that application (its ADMIN_EMAIL and ADMIN_PASSWORD, say); the stories sign in with it")
			return 1
		}
		fmt.Printf("e2e: driving %s (E2E_BASE_URL) as %s; database checks and the session expiry story are skipped\n",
			target.baseURL, target.adminEmail)
	} else {
		// Only warnings and errors: a failing story shows the server's
		// complaints without every request drowning them.
		logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		target.clock = &testClock{}
		s, err := stack.Start(ctx, stack.Options{
			Addr: "127.0.0.1:0", Suppliers: seededSuppliers, Logger: logger,
			SessionIdleTimeout: sessionIdleTimeout,
			Now:                target.clock.Now,
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e: start the application:", err)
			return 1
		}
		defer s.Close()
		target.baseURL = s.URL
		target.adminDB = &s.AdminDB
		target.adminEmail, target.adminPassword = s.AdminEmail, s.AdminPassword
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

// testClock is the employee service's clock in the in-process stack: the
// real time plus an offset the expiry story moves forward, so a session
// goes idle without anyone waiting half an hour.
type testClock struct{ offset atomic.Int64 }

// Now is the service's time.
func (c *testClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the service's time forward by d, for every session at once.
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

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

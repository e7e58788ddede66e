// Command screenshots draws the README's pictures of the application from
// the running app: it starts the embedded stack (as `make run` does), drives
// headless Chromium through it at a fixed viewport and writes PNGs.
//
//	go run ./e2e/cmd/screenshots [-out docs/screenshots]   (make screenshots)
//
// Chromium is $CHROMIUM, chromium on PATH, or Debian's /usr/bin/chromium.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/coffee-suppliers/coffee-suppliers/e2e"
	"github.com/coffee-suppliers/coffee-suppliers/local/stack"
)

// The viewport of every picture: a laptop's browser window.
const (
	viewportWidth  = 1280
	viewportHeight = 800
)

// Shots are the pictures the README shows, by file name.
var shots = []string{"catalogue.png", "edit-history.png"}

func main() {
	out := flag.String("out", filepath.Join("docs", "screenshots"), "the directory to write the PNGs into")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := run(ctx, *out); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

// run starts the application and Chromium, and writes every shot into dir.
func run(ctx context.Context, dir string) error {
	chromium, err := e2e.FindChromium()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	app, err := stack.Start(ctx, stack.Options{
		Addr: "127.0.0.1:0", Suppliers: 45,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return fmt.Errorf("start the application: %w", err)
	}
	defer app.Close()

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("hide-scrollbars", true), chromedp.WindowSize(viewportWidth, viewportHeight))...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()

	// The catalogue as the public sees it: the first screenful.
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(viewportWidth, viewportHeight),
		chromedp.Navigate(app.URL+"/suppliers"),
	); err != nil {
		return fmt.Errorf("open the catalogue: %w", err)
	}
	if err := capture(tab, filepath.Join(dir, shots[0]), false); err != nil {
		return err
	}

	// An employee's edit page after one saved change, so its history has
	// a row to show; the whole page, history included.
	if err := chromedp.Do(tab,
		chromedp.Navigate(app.URL+"/admin/login"),
		chromedp.SetValue(chromedp.CSS(`input[name="email"]`), app.AdminEmail),
		chromedp.SetValue(chromedp.CSS(`input[name="password"]`), app.AdminPassword),
	); err != nil {
		return fmt.Errorf("open the sign-in page: %w", err)
	}
	if err := submit(tab, `input[name="password"]`); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	edit := app.URL + "/admin/supplier-update/1"
	if err := chromedp.Do(tab, chromedp.Navigate(edit)); err != nil {
		return fmt.Errorf("open the edit page: %w", err)
	}
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(() => {
		const email = document.querySelector('input[name="email"]');
		const domain = email.value.split('@')[1];
		email.value = (email.value.startsWith('orders@') ? 'sales@' : 'orders@') + domain;
		return true;
	})()`)); err != nil {
		return fmt.Errorf("change the supplier's email: %w", err)
	}
	if err := submit(tab, `input[name="version"]`); err != nil {
		return fmt.Errorf("save the change: %w", err)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(edit)); err != nil {
		return fmt.Errorf("open the edit page again: %w", err)
	}
	return capture(tab, filepath.Join(dir, shots[1]), true)
}

// submit submits the form holding the element css selects and waits for
// the page it leads to.
func submit(tab context.Context, css string) error {
	resp, err := chromedp.RunResponse(tab, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(() => { document.querySelector('`+css+`').form.requestSubmit(); return true; })()`)(ctx, t)
		return err
	}))
	if err != nil {
		return err
	}
	if resp == nil || resp.Status >= 400 {
		return fmt.Errorf("the form answered %v", resp)
	}
	return nil
}

// capture writes a PNG of the viewport, or of the whole page's height.
func capture(tab context.Context, path string, wholePage bool) error {
	shot := chromedp.CaptureScreenshot()
	if wholePage {
		shot = chromedp.FullScreenshot(100) // quality 100 is PNG
	}
	png, err := chromedp.Run(tab, shot)
	if err != nil {
		return fmt.Errorf("capture %s: %w", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

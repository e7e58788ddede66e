package main

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/e2e"
)

// TestScreenshotsDrawTheRunningApp is `make screenshots`: from the running
// application it writes each picture the README shows, at the laptop
// viewport's width (the catalogue exactly one screenful).
func TestScreenshotsDrawTheRunningApp(t *testing.T) {
	if _, err := e2e.FindChromium(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("make screenshots needs Chromium: %v", err)
		}
		t.Skipf("SKIPPED: make screenshots needs Chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if err := run(ctx, dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range shots {
		width, height := pngSize(t, filepath.Join(dir, name))
		if width != viewportWidth || height < viewportHeight {
			t.Errorf("%s is %d×%d, want %d wide and at least %d high", name, width, height, viewportWidth, viewportHeight)
		}
		if name == "catalogue.png" && height != viewportHeight {
			t.Errorf("%s is %d high, want one screenful of %d", name, height, viewportHeight)
		}
	}
}

// TestReadmeShowsTheScreenshots: the committed pictures exist and the
// README links each one.
func TestReadmeShowsTheScreenshots(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range shots {
		path := "docs/screenshots/" + name
		pngSize(t, filepath.Join("../../..", path))
		if !strings.Contains(string(readme), "("+path+")") {
			t.Errorf("the README does not show %s", path)
		}
	}
}

func pngSize(t *testing.T, path string) (width, height int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cfg.Width, cfg.Height
}

package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
)

// TestRunPrintsAWorkingURLAndStopsCleanly is `make run` as a user sees it:
// the printed catalogue URL answers, and Ctrl+C (ctx) ends it without error.
func TestRunPrintsAWorkingURLAndStopsCleanly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, envconfig.FromMap(map[string]string{"PORT": "0", "SEED_SUPPLIERS": "3"}), io.Discard, w, false)
		w.Close()
	}()

	catalogue := regexp.MustCompile(`catalogue\s+(http://127\.0\.0\.1:\d+)/`)
	account := regexp.MustCompile(`sign in as\s+(\S+)`)
	password := regexp.MustCompile(`password\s+(\S+)\s+\(a demo account for this run only\)`)
	var url, email, demoPassword string
	lines := bufio.NewScanner(out)
	for (url == "" || demoPassword == "") && lines.Scan() {
		if m := catalogue.FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
		if m := account.FindStringSubmatch(lines.Text()); m != nil {
			email = m[1]
		}
		if m := password.FindStringSubmatch(lines.Text()); m != nil {
			demoPassword = m[1]
		}
	}
	if url == "" {
		t.Fatalf("run never printed the catalogue URL: %v", <-done)
	}
	if email != "demo@coffee-suppliers.example" || len(demoPassword) < 12 {
		t.Errorf("the banner shows the demo account %q with password %q", email, demoPassword)
	}
	go io.Copy(io.Discard, out)

	resp, err := http.Get(url + "/suppliers")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "of 3 suppliers") {
		t.Fatalf("GET %s/suppliers = %d, want the 3 seeded suppliers", url, resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run should stop cleanly on Ctrl+C, got %v", err)
	}
}

func TestRunNamesABadSetting(t *testing.T) {
	err := run(context.Background(), envconfig.FromMap(map[string]string{"PORT": "http"}), io.Discard, io.Discard, false)
	if err == nil || !strings.Contains(err.Error(), "PORT") {
		t.Fatalf("want an error naming PORT, got %v", err)
	}
}

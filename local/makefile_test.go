package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestMakeHelpDescribesEveryTarget is `make help` as a newcomer reads it:
// every target of the Makefile's .PHONY list on a line of its own with a
// description beside it, and `make` alone still runs the application.
func TestMakeHelpDescribesEveryTarget(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("SKIPPED: no make on PATH")
	}
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	phony := regexp.MustCompile(`(?m)^\.PHONY:(.*)$`).FindSubmatch(makefile)
	if phony == nil {
		t.Fatal("the Makefile has no .PHONY line")
	}
	targets := strings.Fields(string(phony[1]))

	cmd := exec.Command("make", "--no-print-directory", "-C", "..", "help")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	described := map[string]string{}
	column := -1
	for _, line := range strings.Split(string(out), "\n") {
		m := regexp.MustCompile(`^  (\S+)(\s+)(\S.*)$`).FindStringSubmatch(line)
		if m == nil {
			continue
		}
		described[m[1]] = m[3]
		if c := len(m[1]) + len(m[2]); column == -1 {
			column = c
		} else if c != column {
			t.Errorf("make help: %q's description starts at column %d, the others' at %d:\n%s", m[1], c, column, out)
		}
	}
	for _, target := range targets {
		if described[target] == "" {
			t.Errorf("make help does not describe %q:\n%s", target, out)
		}
	}

	dry, err := exec.Command("make", "--no-print-directory", "-C", "..", "-n").CombinedOutput()
	if err != nil || !strings.Contains(string(dry), "go run ./local") {
		t.Errorf("plain make should run the application (go run ./local), it would run:\n%s%v", dry, err)
	}
}

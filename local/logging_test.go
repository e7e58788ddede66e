package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
)

// TestRunLogsForWhoeverReads: `make run` on a terminal writes short text
// lines a person reads; piped into a file or a log collector, or with
// LOG_FORMAT=json, it writes one JSON object per line, and no line names a
// key twice (a collector keeps one of them, at random).
func TestRunLogsForWhoeverReads(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
		format   string
		wantJSON bool
	}{
		{"on a terminal", true, "", false},
		{"on a terminal with LOG_FORMAT=json", true, "json", true},
		{"into a pipe", false, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"PORT": "0", "SEED_SUPPLIERS": "2"}
			if tc.format != "" {
				env["LOG_FORMAT"] = tc.format
			}
			logs := runAndRequest(t, env, tc.terminal, "/suppliers", "/admin/suppliers")
			if len(logs) == 0 {
				t.Fatal("make run logged nothing")
			}
			sawCustomer := false
			for _, line := range logs {
				if tc.wantJSON {
					keys, err := duplicateKeys(line)
					if err != nil {
						t.Fatalf("not a JSON line: %v\n%s", err, line)
					}
					if len(keys) > 0 {
						t.Errorf("the log line names %v more than once:\n%s", keys, line)
					}
					sawCustomer = sawCustomer || strings.Contains(line, `"service":"customer"`)
					continue
				}
				if strings.HasPrefix(line, "{") {
					t.Fatalf("a terminal gets text lines, not JSON:\n%s", line)
				}
				if m := regexp.MustCompile(`(\w+)=`).FindAllStringSubmatch(line, -1); m != nil {
					seen := map[string]bool{}
					for _, k := range m {
						if seen[k[1]] {
							t.Errorf("the log line names %s more than once:\n%s", k[1], line)
						}
						seen[k[1]] = true
					}
				}
				sawCustomer = sawCustomer || strings.Contains(line, "service=customer")
			}
			if !sawCustomer {
				t.Errorf("no line says which service wrote it (service customer):\n%s", strings.Join(logs, "\n"))
			}
		})
	}
}

func TestRunRefusesAnUnknownLogFormat(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // should it start anyway, it stops at once
	err := run(ctx, envconfig.FromMap(map[string]string{"PORT": "0", "LOG_FORMAT": "xml"}), io.Discard, io.Discard, false)
	if err == nil || !strings.Contains(err.Error(), "LOG_FORMAT") {
		t.Fatalf("want an error naming LOG_FORMAT, got %v", err)
	}
}

// runAndRequest runs the launcher, requests paths through its gateway,
// stops it and returns the lines it logged on stdout.
func runAndRequest(t *testing.T, env map[string]string, terminal bool, paths ...string) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout lockedBuffer
	banner, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, envconfig.FromMap(env), &stdout, w, terminal)
		w.Close()
	}()
	catalogue := regexp.MustCompile(`catalogue\s+(http://127\.0\.0\.1:\d+)/`)
	var url string
	lines := bufio.NewScanner(banner)
	for url == "" && lines.Scan() {
		if m := catalogue.FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("run never printed the catalogue URL: %v", <-done)
	}
	go io.Copy(io.Discard, banner)
	for _, p := range paths {
		resp, err := http.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	return strings.Split(strings.TrimSpace(stdout.String()), "\n")
}

// duplicateKeys decodes one JSON value token by token and returns the keys
// an object holds more than once (encoding/json would silently keep the last).
func duplicateKeys(line string) ([]string, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	var dups []string
	var walk func() error
	walk = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				k, ok := key.(string)
				if !ok {
					return fmt.Errorf("object key %v", key)
				}
				if seen[k] {
					dups = append(dups, k)
				}
				seen[k] = true
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	if err := walk(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("more than one value on the line")
	}
	return dups, nil
}

func TestDuplicateKeysFindsThem(t *testing.T) {
	dups, err := duplicateKeys(`{"service":"local","a":{"b":1,"b":2},"service":"customer"}`)
	if err != nil || len(dups) != 2 {
		t.Fatalf("duplicateKeys = %v, %v; want b and service", dups, err)
	}
}

// lockedBuffer is a bytes.Buffer several goroutines may log into.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

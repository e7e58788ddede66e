package containers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// skipMessage is what a run without Docker says, loudly.
const skipMessage = "SKIPPED: image tests need a running Docker engine: apt-get install docker.io, start dockerd, then make images (or run bash .ci/run)"

// noDocker says why Docker cannot be used; empty when it can. Set once by
// TestMain.
var noDocker string

func TestMain(m *testing.M) {
	if err := dockerReachable(); err != nil {
		noDocker = err.Error()
		fmt.Printf("\n*** %s\n*** (%s)\n\n", skipMessage, noDocker)
	}
	os.Exit(m.Run())
}

func dockerReachable() error {
	if _, err := exec.LookPath("docker"); err != nil {
		return errors.New("no docker command on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker info: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// skipOrFail skips a test that cannot run here, or fails it under CI, where
// a skipped test would hide a broken setup.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set, so this cannot be skipped: %s", why)
	}
	t.Skip(why)
}

// requireImage skips (or, under CI, fails) unless Docker answers and ref is
// built; build says how to build it.
func requireImage(t *testing.T, ref, build string) {
	t.Helper()
	if noDocker != "" {
		skipOrFail(t, skipMessage+" ("+noDocker+")")
	}
	if _, err := dockerOutput(t.Context(), "image", "inspect", "--format", "{{.Id}}", ref); err != nil {
		skipOrFail(t, fmt.Sprintf("SKIPPED: image %s is not built: %s", ref, build))
	}
}

// dockerTimeout bounds every docker command, so a hung engine fails one test
// rather than the whole run.
const dockerTimeout = 2 * time.Minute

// dockerOutput runs docker with args and returns its trimmed standard
// output; an error carries standard error.
func dockerOutput(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, dockerTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// docker runs docker with args and fails the test on error.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := dockerOutput(t.Context(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runContainer starts a detached container with args (options, then image
// and command) and removes it when the test ends. Its logs are printed when
// the test fails.
func runContainer(t *testing.T, args ...string) string {
	t.Helper()
	id := docker(t, append([]string{"run", "-d"}, args...)...)
	t.Cleanup(func() {
		ctx := context.Background()
		if t.Failed() {
			logs, _ := exec.CommandContext(ctx, "docker", "logs", "--tail", "50", id).CombinedOutput()
			t.Logf("last logs of %.12s:\n%s", id, logs)
		}
		_, _ = dockerOutput(ctx, "rm", "-f", "-v", id)
	})
	return id
}

// containerLogs is everything the container wrote, stdout and stderr.
func containerLogs(t *testing.T, id string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "docker", "logs", id).CombinedOutput()
	if err != nil {
		t.Fatalf("docker logs %.12s: %v", id, err)
	}
	return string(out)
}

// hostPort is the 127.0.0.1 address docker published for the container's
// port, e.g. "8080/tcp".
func hostPort(t *testing.T, id, port string) string {
	t.Helper()
	out := docker(t, "port", id, port)
	for line := range strings.Lines(out) {
		if addr := strings.TrimSpace(line); strings.HasPrefix(addr, "127.0.0.1:") {
			return addr
		}
	}
	t.Fatalf("port %s of %.12s is not published on 127.0.0.1: %q", port, id, out)
	return ""
}

// containerState is the part of `docker inspect` the tests read.
type containerState struct {
	Running   bool
	ExitCode  int
	OOMKilled bool
	Health    *struct{ Status string }
}

func inspectState(t *testing.T, id string) containerState {
	t.Helper()
	var s containerState
	if err := json.Unmarshal([]byte(docker(t, "inspect", "--format", "{{json .State}}", id)), &s); err != nil {
		t.Fatalf("inspect %.12s: %v", id, err)
	}
	return s
}

// eventually polls check every interval until it returns nil, failing the
// test with check's last error after timeout.
func eventually(t *testing.T, timeout, interval time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(interval)
	}
}

// waitFor polls check every 100 ms until it returns nil, failing the test
// with check's last error after timeout or when the container stops.
func waitFor(t *testing.T, id string, timeout time.Duration, what string, check func() error) {
	t.Helper()
	eventually(t, timeout, 100*time.Millisecond, what, func() error {
		err := check()
		if err != nil {
			if s := inspectState(t, id); !s.Running {
				t.Fatalf("%s: the container exited with code %d: %v", what, s.ExitCode, err)
			}
		}
		return err
	})
}

// client makes one connection per request: an idle keep-alive connection
// left open by a test would hold up a server's graceful stop, which the
// tests time.
var client = http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// get fetches url with a short timeout and returns the status and body.
func get(url string) (int, string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, err = body.ReadFrom(resp.Body)
	return resp.StatusCode, body.String(), err
}

// stopCleanly sends the image's stop signal (SIGTERM unless it sets another)
// and checks the container exits by itself with code 0: had it not stopped
// within 10 s, docker would have killed it (exit code 137). It returns how
// long the stop took, for the log.
func stopCleanly(t *testing.T, id string) time.Duration {
	t.Helper()
	start := time.Now()
	docker(t, "stop", "--time", "10", id)
	took := time.Since(start)
	s := inspectState(t, id)
	if s.ExitCode != 0 || s.OOMKilled {
		t.Errorf("stopped with exit code %d (OOM killed: %v), want 0: it did not shut down cleanly", s.ExitCode, s.OOMKilled)
	}
	return took
}

// lockedDown are the run options production uses: nothing in the image can
// be changed, no capability, no privilege gained through setuid binaries.
var lockedDown = []string{"--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"}

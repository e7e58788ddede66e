package infra

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain stops the moto_server the tests started, whatever their result.
func TestMain(m *testing.M) {
	code := m.Run()
	stopMoto()
	os.Exit(code)
}

var (
	motoOnce sync.Once
	motoURL  string
	motoErr  error
	motoCmd  *exec.Cmd
	motoLog  string
)

// moto returns the endpoint of a moto_server on a free port of 127.0.0.1,
// started once for the test binary (TestMain stops it).
func moto(t *testing.T) string {
	t.Helper()
	bin := tool(t, "moto_server", "pip install 'moto[server]'")
	tool(t, "aws", "pip install awscli")
	motoOnce.Do(func() {
		// The free port is found by listening and closing, so another test
		// binary can take it before moto_server binds it: try another.
		for range 3 {
			if motoURL, motoErr = startMoto(bin); !errors.Is(motoErr, errMotoExited) {
				return
			}
		}
	})
	if motoErr != nil {
		t.Fatal(motoErr)
	}
	return motoURL
}

var errMotoExited = errors.New("moto_server exited before answering")

func startMoto(bin string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port for moto_server: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	logs, err := os.CreateTemp("", "moto-*.log")
	if err != nil {
		return "", fmt.Errorf("moto_server's log: %w", err)
	}
	motoLog = logs.Name()
	motoCmd = exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	motoCmd.Stdout, motoCmd.Stderr = logs, logs
	// Its own process group, so stopping it stops any worker it forks.
	motoCmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := motoCmd.Start(); err != nil {
		return "", fmt.Errorf("start moto_server: %w", err)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	exited := make(chan error, 1)
	go func() { exited <- motoCmd.Wait() }()
	// Wait for it to answer, or to die; a minute is far beyond its start.
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			tail := motoLogTail()
			_ = os.Remove(motoLog)
			return "", fmt.Errorf("%w: %v\n%s", errMotoExited, err, tail)
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			go func() { <-exited }()
			return url, nil
		}
	}
	stopMoto()
	return "", errors.New("moto_server did not answer within a minute:\n" + motoLogTail())
}

func stopMoto() {
	if motoCmd != nil && motoCmd.Process != nil {
		_ = syscall.Kill(-motoCmd.Process.Pid, syscall.SIGTERM)
	}
	if motoLog != "" {
		_ = os.Remove(motoLog)
	}
}

// motoLogTail is the end of moto_server's log, where a 500's traceback is.
func motoLogTail() string {
	b, _ := os.ReadFile(motoLog)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-25):], "\n")
}

// awsCLI runs awscli against moto with dummy credentials in us-east-1,
// away from any profile of the machine's user, and returns its output.
func awsCLI(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	endpoint := moto(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", append(args, "--output", "json")...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_ENDPOINT_URL="+endpoint,
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := bytes.TrimSpace(stderr.Bytes())
		if bytes.Contains(msg, []byte("500 Internal Server Error")) {
			msg = append(msg, "\nmoto_server's log:\n"+motoLogTail()...)
		}
		return out, fmt.Errorf("aws %v: %w: %s", args[:min(2, len(args))], err, msg)
	}
	return out, nil
}

// mustAWS is awsCLI failing the test on error.
func mustAWS(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := awsCLI(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

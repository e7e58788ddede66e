package containers

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// maxImageBytes is the limit for each image: 25 MB, as docker
// reports sizes.
const maxImageBytes = 25_000_000

// builtImage is one image `make images` builds.
type builtImage struct {
	name    string // the binary and the image, e.g. customer
	service bool   // a long-running HTTP service (else a one-shot job)
}

var builtImages = []builtImage{{"customer", true}, {"employee", true}, {"suppliersdb", false}}

// ref is the image's reference as the Makefile tags it.
func (b builtImage) ref() string {
	return envOr("IMAGE_REPO", "coffee-suppliers") + "/" + b.name + ":" + envOr("IMAGE_TAG", "dev")
}

func (b builtImage) require(t *testing.T) {
	t.Helper()
	requireImage(t, b.ref(), "make images (STANDIN=1 where no registry is reachable)")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// imageInfo is the part of `docker image inspect` the tests read.
type imageInfo struct {
	Size   int64
	Config struct {
		User         string
		Env          []string
		Labels       map[string]string
		Entrypoint   []string
		ExposedPorts map[string]struct{}
		Healthcheck  *struct{ Test []string }
	}
}

func inspectImage(t *testing.T, ref string) imageInfo {
	t.Helper()
	var infos []imageInfo
	if err := json.Unmarshal([]byte(docker(t, "image", "inspect", ref)), &infos); err != nil || len(infos) != 1 {
		t.Fatalf("inspect %s: %v (%d results)", ref, err, len(infos))
	}
	return infos[0]
}

// secretLooking matches text that names or carries a credential. Nothing of
// the kind belongs in an image: secrets come from the environment at run
// time (ECS fills it from Secrets Manager).
var secretLooking = regexp.MustCompile(`(?i)password|passwd|secret|session_key|token|api_?key|private key|credential`)

func TestImageConfig(t *testing.T) {
	for _, img := range builtImages {
		t.Run(img.name, func(t *testing.T) {
			t.Parallel()
			img.require(t)
			info := inspectImage(t, img.ref())
			cfg := info.Config

			t.Logf("%s: %.1f MB", img.ref(), float64(info.Size)/1e6)
			if info.Size >= maxImageBytes {
				t.Errorf("size %.1f MB, want under %.0f MB", float64(info.Size)/1e6, float64(maxImageBytes)/1e6)
			}

			// A numeric uid lets Kubernetes' runAsNonRoot verify it.
			uid, _, _ := strings.Cut(cfg.User, ":")
			if uid == "" || uid == "0" || uid == "root" || strings.Trim(uid, "0123456789") != "" {
				t.Errorf("Config.User = %q, want a numeric non-root uid such as 65532:65532", cfg.User)
			}

			if want := []string{"/" + img.name}; !slices.Equal(cfg.Entrypoint, want) {
				t.Errorf("Entrypoint = %q, want %q", cfg.Entrypoint, want)
			}
			var health []string
			if cfg.Healthcheck != nil {
				health = cfg.Healthcheck.Test
			}
			if img.service {
				if want := []string{"CMD", "/" + img.name, "healthcheck"}; !slices.Equal(health, want) {
					t.Errorf("Healthcheck = %q, want %q", health, want)
				}
				for _, port := range []string{"8080/tcp", "9090/tcp"} {
					if _, ok := cfg.ExposedPorts[port]; !ok {
						t.Errorf("port %s not exposed (have %v)", port, cfg.ExposedPorts)
					}
				}
			} else if !slices.Equal(health, []string{"NONE"}) {
				t.Errorf("Healthcheck = %q, want NONE for a one-shot job", health)
			}

			for _, l := range []string{"org.opencontainers.image.source", "org.opencontainers.image.revision", "org.opencontainers.image.version"} {
				if cfg.Labels[l] == "" {
					t.Errorf("label %s missing (have %v)", l, cfg.Labels)
				}
			}

			for _, e := range cfg.Env {
				if secretLooking.MatchString(e) {
					t.Errorf("secret-looking environment variable in the image: %q", e)
				}
			}
			for k, v := range cfg.Labels {
				if secretLooking.MatchString(k + "=" + v) {
					t.Errorf("secret-looking label in the image: %s=%s", k, v)
				}
			}
			history := docker(t, "history", "--no-trunc", "--format", "{{.CreatedBy}}", img.ref())
			for line := range strings.Lines(history) {
				if secretLooking.MatchString(line) {
					t.Errorf("secret-looking build step in the image's history: %s", strings.TrimSpace(line))
				}
			}
		})
	}
}

// secretFile matches file names that hold keys, credentials or sources.
var secretFile = regexp.MustCompile(`(^|/)(\.env(\..*)?|\.git|\.netrc|\.npmrc|\.docker|id_(rsa|ed25519|ecdsa).*|.*\.(pem|key|p12|pfx|go)|go\.(mod|sum)|credentials.*)$`)

// secretContent matches what a private key or a set password looks like.
var secretContent = regexp.MustCompile(`PRIVATE KEY-----|(?i)(password|secret|session_key)\s*[=:]\s*\S`)

// rdsCABundle is where each image carries the RDS certificate bundle that
// APP_DB_TLS=verify checks the database against (suppliers.DefaultCAFile).
const rdsCABundle = "/etc/ssl/certs/rds-ca-bundle.pem"

// checkCABundle: the bundle is root's, readable by the non-root user the
// image runs as and writable by nobody else, and holds only certificates.
func checkCABundle(t *testing.T, h *tar.Header, data []byte) {
	t.Helper()
	if h.Uid != 0 || h.Mode&0o444 != 0o444 || h.Mode&0o022 != 0 {
		t.Errorf("%s: uid %d, mode %o: want root's, readable by all (the service runs as 65532), writable by root only", rdsCABundle, h.Uid, h.Mode)
	}
	certs := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			t.Errorf("%s holds a %s block, want certificates only", rdsCABundle, block.Type)
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			t.Errorf("%s: a certificate that does not parse: %v", rdsCABundle, err)
		}
		certs++
	}
	if certs == 0 {
		t.Errorf("%s holds no PEM certificate (%d bytes)", rdsCABundle, len(data))
	}
}

// TestImageFiles reads every file of each image: the binary, owned by root
// and not writable by the user it runs as; the RDS certificate bundle,
// readable; no key, credential, source file or configuration holding a
// password anywhere.
func TestImageFiles(t *testing.T) {
	for _, img := range builtImages {
		t.Run(img.name, func(t *testing.T) {
			t.Parallel()
			img.require(t)
			id := docker(t, "create", img.ref())
			defer docker(t, "rm", id)

			cmd := exec.CommandContext(t.Context(), "docker", "export", id)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sawBinary, sawBundle := false, false
			files := 0
			r := tar.NewReader(out)
			for {
				h, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("reading the exported image: %v", err)
				}
				name := path.Clean("/" + h.Name)
				if h.Typeflag != tar.TypeReg {
					continue
				}
				files++
				if name == "/"+img.name {
					sawBinary = true
					if h.Uid != 0 || h.Mode&0o022 != 0 {
						t.Errorf("%s: uid %d, mode %o: the binary must be root's and not writable by others", name, h.Uid, h.Mode)
					}
					continue // a compiled binary; its strings name settings, not values
				}
				if name == rdsCABundle {
					sawBundle = true
					data, err := io.ReadAll(r)
					if err != nil {
						t.Fatalf("reading %s: %v", name, err)
					}
					checkCABundle(t, h, data) // public certificates: a .pem that is no secret
					continue
				}
				if secretFile.MatchString(name) {
					t.Errorf("file that may hold a secret or source in the image: %s", name)
				}
				if h.Size > 1<<20 {
					continue
				}
				data, err := io.ReadAll(r)
				if err != nil {
					t.Fatalf("reading %s: %v", name, err)
				}
				if m := secretContent.Find(data); m != nil {
					t.Errorf("%s holds something secret-looking: %q", name, m)
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("docker export: %v", err)
			}
			if !sawBinary {
				t.Errorf("no /%s in the image", img.name)
			}
			if !sawBundle {
				t.Errorf("no %s in the image: APP_DB_TLS=verify, the task definitions' setting, cannot start", rdsCABundle)
			}
			t.Logf("%s: %d files", img.ref(), files)
		})
	}
}

// dummyDBPassword and dummySessionKey are values for the secret settings
// that must never show in logs; no database is there to check them.
const (
	dummyDBPassword = "not-a-real-password-7f3a"
	dummySessionKey = "not-a-real-session-key-0123456789abcdef"
)

// dbSettings point at a closed port: the services open their pool lazily, so
// they start and answer /healthz without a database, and /readyz fails fast.
// The employee service also needs its session key; the customer ignores it.
var dbSettings = []string{
	"-e", "APP_DB_HOST=127.0.0.1", "-e", "APP_DB_PORT=1",
	"-e", "APP_DB_USER=probe", "-e", "APP_DB_PASSWORD=" + dummyDBPassword,
	"-e", "SESSION_KEY=" + dummySessionKey,
}

// TestServiceRunsLockedDown runs each service as production will: read-only
// root filesystem, every capability dropped, no-new-privileges, and TLS to
// the database verified against the image's RDS bundle (APP_DB_TLS=verify,
// as the task definitions set it).
func TestServiceRunsLockedDown(t *testing.T) {
	for _, img := range builtImages {
		if !img.service {
			continue
		}
		t.Run(img.name, func(t *testing.T) {
			t.Parallel()
			img.require(t)
			args := append(slices.Clone(lockedDown), "-p", "127.0.0.1::8080", "-p", "127.0.0.1::9090")
			args = append(append(args, dbSettings...), "-e", "APP_DB_TLS=verify", img.ref())
			id := runContainer(t, args...)
			app := "http://" + hostPort(t, id, "8080/tcp")
			metrics := "http://" + hostPort(t, id, "9090/tcp")

			start := time.Now()
			waitFor(t, id, 30*time.Second, "GET /healthz answers 200", func() error {
				code, _, err := get(app + "/healthz")
				if err == nil && code != 200 {
					err = fmt.Errorf("status %d", code)
				}
				return err
			})
			t.Logf("healthy %v after start", time.Since(start).Round(time.Millisecond))

			// The image's own health check, inside the locked-down container.
			if out, err := dockerOutput(t.Context(), "exec", id, "/"+img.name, "healthcheck"); err != nil {
				t.Errorf("the image's health check fails: %v %s", err, out)
			}
			// No database: not ready, and quickly so.
			readyStart := time.Now()
			if code, _, err := get(app + "/readyz"); err != nil || code != 503 {
				t.Errorf("GET /readyz without a database = %d, %v; want 503", code, err)
			}
			// How fast is reported, not asserted: timings belong to the
			// benchmark harness, never to a test's verdict.
			t.Logf("GET /readyz answered 503 in %v without a database", time.Since(readyStart).Round(time.Millisecond))
			if code, body, err := get(metrics + "/metrics"); err != nil || code != 200 || !strings.Contains(body, "go_goroutines") {
				t.Errorf("GET /metrics on the metrics port = %d, %v", code, err)
			}

			took := stopCleanly(t, id)
			t.Logf("stopped on SIGTERM in %v", took.Round(time.Millisecond))

			logs := containerLogs(t, id)
			for _, secret := range []string{dummyDBPassword, dummySessionKey} {
				if strings.Contains(logs, secret) {
					t.Errorf("a secret setting appears in the logs")
				}
			}
			if !strings.Contains(logs, `"msg":"starting"`) {
				t.Errorf("no JSON start line in the logs:\n%s", logs)
			}
		})
	}
}

// TestMigrationImageFailsLoudly: with no database to reach, the one-shot
// migration exits non-zero with the reason, so compose and the pipeline stop
// there — and never prints the password it was given.
func TestMigrationImageFailsLoudly(t *testing.T) {
	img := builtImage{name: "suppliersdb"}
	img.require(t)
	args := append([]string{"run", "--rm"}, lockedDown...)
	args = append(append(args, dbSettings...), "-e", "DB_WAIT_TIMEOUT=1s", img.ref(), "migrate")
	start := time.Now()
	out, err := exec.CommandContext(t.Context(), "docker", args...).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("migrate without a database: %v, want exit code 1\n%s", err, out)
	}
	t.Logf("gave up after %v (DB_WAIT_TIMEOUT=1s)", time.Since(start).Round(time.Millisecond))
	if !bytes.Contains(out, []byte(`"level":"ERROR"`)) {
		t.Errorf("no error line in the output:\n%s", out)
	}
	if bytes.Contains(out, []byte(dummyDBPassword)) {
		t.Errorf("the database password appears in the output:\n%s", out)
	}
}

// TestServiceRefusesAMissingCAFile: APP_DB_TLS=verify with APP_DB_CA_FILE
// naming no file is a configuration error, reported at start: the service
// exits, naming the setting, rather than staying up never ready.
func TestServiceRefusesAMissingCAFile(t *testing.T) {
	for _, img := range builtImages {
		if !img.service {
			continue
		}
		t.Run(img.name, func(t *testing.T) {
			t.Parallel()
			img.require(t)
			args := append([]string{"run", "--rm"}, lockedDown...)
			args = append(append(args, dbSettings...), "-e", "APP_DB_TLS=verify", "-e", "APP_DB_CA_FILE=/etc/ssl/certs/no-such-bundle.pem", img.ref())
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("%s with a missing CA file: %v, want a non-zero exit\n%s", img.name, err, out)
			}
			for _, want := range []string{"APP_DB_CA_FILE", "no-such-bundle.pem"} {
				if !bytes.Contains(out, []byte(want)) {
					t.Errorf("the output does not name %s:\n%s", want, out)
				}
			}
			if bytes.Contains(out, []byte(dummyDBPassword)) {
				t.Errorf("the database password appears in the output:\n%s", out)
			}
		})
	}
}

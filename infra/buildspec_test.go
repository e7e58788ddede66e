package infra

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/infra/internal/buildspec"
	"github.com/coffee-suppliers/coffee-suppliers/infra/internal/standin"
)

// requireDocker skips (fails under CI) without a Docker engine or the
// stand-in images.
func requireDocker(t *testing.T) {
	t.Helper()
	tool(t, "docker", "apt-get install docker.io, or run bash .ci/run")
	need := func(what string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s, and CI must run this check", what)
		}
		t.Skipf("SKIPPED: %s: run bash containers/ensure-docker.sh and make standins", what)
	}
	if _, err := standin.Docker(t.Context(), "info"); err != nil {
		need("no Docker engine answers")
	}
	for _, image := range []string{standin.Registry, standin.Go, standin.Runtime, standin.Runtime + "-arm64"} {
		if _, err := standin.Docker(t.Context(), "image", "inspect", image); err != nil {
			need("no image " + image)
		}
	}
}

// startRegistry runs the ECR stand-in on a random port of 127.0.0.1 and
// returns its host:port; the container goes when the test ends.
func startRegistry(t *testing.T) string {
	t.Helper()
	id, err := standin.Docker(t.Context(), "run", "-d", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--tmpfs", "/var/lib/registry:uid=65532", "--label", "coffee-suppliers.infra-test=buildspec",
		"-p", "127.0.0.1::5000", standin.Registry)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = standin.Docker(context.Background(), "rm", "-f", id) })
	port, err := standin.Docker(t.Context(), "port", id, "5000/tcp")
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.Split(port, "\n")[0]
	// Until it answers; the bound only ends a hopeless wait.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			logs, _ := standin.Docker(context.Background(), "logs", id)
			t.Fatalf("the registry did not answer /v2/ within a minute (%v):\n%s", err, logs)
		}
	}
}

// copyRepository copies the repository's files (tracked and new, not
// ignored) into a temporary folder, where the build may write its outputs.
func copyRepository(t *testing.T) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "git", "-C", repoRoot, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dir := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(repoRoot, f)
		info, err := os.Lstat(src)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the working copy, or a link
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBuildspecAgainstALocalRegistry runs buildspec.yml's build and
// post_build commands as CodeBuild would for each service's project, with
// the local registry in ECR's place, and checks what they leave for the
// pipeline: the image pushed under the commit's tag, imageDetail.json
// naming it, a task definition ECS accepts once CodeDeploy has put the
// image in, an AppSpec matching it, and the migration binary. The employee
// builds as in infra/params/graviton.json, on ARM64: its image is arm64
// (cross-compiled on this amd64 machine) and so is its task definition.
func TestBuildspecAgainstALocalRegistry(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	script, err := buildspec.Script(repoRoot, "build", "post_build")
	if err != nil {
		t.Fatal(err)
	}
	registry := startRegistry(t)
	commit, err := exec.CommandContext(t.Context(), "git", "-C", repoRoot, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range services {
		t.Run(svc, func(t *testing.T) {
			dir := copyRepository(t)
			// No internet here: a stand-in for the RDS CA bundle the
			// Dockerfiles fetch, where make images STANDIN=1 puts one.
			writeStandInCABundle(t, filepath.Join(dir, standInCABundle))
			repository := registry + "/coffee-suppliers-ci/" + svc
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
			defer cancel()
			// Unique per build, as CodeBuild's; it names a local image.
			build := fmt.Sprintf("infra-test-%d-%s", os.Getpid(), svc)
			cmd := exec.CommandContext(ctx, "bash", "-c", script)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "SERVICE="+svc, "REPOSITORY_URI="+repository,
				"CODEBUILD_RESOLVED_SOURCE_VERSION="+strings.TrimSpace(string(commit)),
				"CODEBUILD_BUILD_NUMBER="+build,
				"GO_IMAGE="+standin.Go, "RUNTIME_IMAGE="+standin.Runtime, "RDS_CA_BUNDLE="+standInCABundle, "DB_PASSWORD_SECRET_ARN="+dbSecretArn(svc))
			for k, v := range fakeAccount {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			platform := map[string]string{"customer": "linux/amd64", "employee": "linux/arm64"}[svc]
			if platform == "linux/arm64" {
				// The runtime for both CPUs under one name, as
				// gcr.io's distroless is: the migration's build in the
				// same project stays amd64.
				cmd.Env = append(cmd.Env, "ENV_NAME=graviton", "RUNTIME_IMAGE="+multiArchRuntime(t, registry))
			}
			tag := strings.TrimSpace(string(commit))[:12]
			// The images the build makes go, whether or not it succeeds.
			t.Cleanup(func() {
				_, _ = standin.Docker(context.Background(), "rmi", repository+":"+tag)
				_, _ = standin.Docker(context.Background(), "rmi", "suppliersdb-build:"+build)
			})
			var log bytes.Buffer
			cmd.Stdout, cmd.Stderr = &log, &log
			if err := cmd.Run(); err != nil {
				t.Fatalf("buildspec.yml's build and post_build for %s: %v\n%s", svc, err, log.String())
			}

			var detail struct{ ImageURI string }
			decode(t, readFile(t, dir, "release/imageDetail.json"), &detail)
			if detail.ImageURI != repository+":"+tag {
				t.Fatalf("imageDetail.json names %q, want %s:%s (the commit)", detail.ImageURI, repository, tag)
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodHead, "http://"+registry+"/v2/coffee-suppliers-ci/"+svc+"/manifests/"+tag, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("the registry answers %d for %s: the image was not pushed", resp.StatusCode, detail.ImageURI)
			}

			taskdef := readFile(t, dir, "release/taskdef.json")
			if left := regexp.MustCompile(`<[A-Z][A-Z0-9_]*>`).FindAllString(string(taskdef), -1); len(left) != 1 || left[0] != "<IMAGE1_NAME>" {
				t.Errorf("taskdef.json keeps the placeholders %v, want only <IMAGE1_NAME> (CodeDeploy's)", left)
			}
			filled := bytes.ReplaceAll(taskdef, []byte("<IMAGE1_NAME>"), []byte(detail.ImageURI))
			file := filepath.Join(dir, "registered.json")
			if err := os.WriteFile(file, filled, 0o600); err != nil {
				t.Fatal(err)
			}
			var registered struct {
				TaskDefinition struct {
					ContainerDefinitions []struct{ Name, Image string }
				}
			}
			decode(t, mustAWS(t, "ecs", "register-task-definition", "--cli-input-json", "file://"+file), &registered)
			if c := registered.TaskDefinition.ContainerDefinitions; len(c) == 0 || c[0].Name != svc || c[0].Image != detail.ImageURI {
				t.Errorf("ECS registered the containers %+v, want %s running %s", c, svc, detail.ImageURI)
			}
			for _, p := range checkAppSpec(t, svc, readFile(t, dir, "release/appspec.yaml"), taskdef) {
				t.Errorf("release/appspec.yaml: %s", p)
			}

			// The migration step's binary runs (and, without settings,
			// refuses with its usage, as the Migrate stage would show).
			out, err := exec.CommandContext(t.Context(), filepath.Join(dir, "migration", "suppliersdb")).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "suppliersdb migrate") {
				t.Errorf("migration/suppliersdb without arguments: %v, %s; want its usage", err, out)
			}
			// The RDS certificate bundle the Migrate stage verifies the
			// database with, from the suppliersdb image.
			if pem := readFile(t, dir, "migration/rds-ca-bundle.pem"); !bytes.HasPrefix(bytes.TrimSpace(pem), []byte("-----BEGIN CERTIFICATE-----")) {
				t.Errorf("migration/rds-ca-bundle.pem is not a PEM certificate bundle: %.60q", pem)
			}
			var td struct {
				RuntimePlatform struct{ CpuArchitecture string }
			}
			decode(t, taskdef, &td)
			arch, err := standin.Docker(t.Context(), "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", detail.ImageURI)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]string{"linux/amd64": "X86_64", "linux/arm64": "ARM64"}[platform]; arch != platform || td.RuntimePlatform.CpuArchitecture != want {
				t.Errorf("the build made a %s image for a %s task definition, want %s and %s", arch, td.RuntimePlatform.CpuArchitecture, platform, want)
			}
			var images struct{ Labels map[string]string }
			inspect, err := standin.Docker(t.Context(), "image", "inspect", "--format", "{{json .Config}}", detail.ImageURI)
			if err != nil {
				t.Fatal(err)
			}
			decode(t, []byte(inspect), &images)
			if images.Labels["org.opencontainers.image.revision"] != strings.TrimSpace(string(commit)) {
				t.Errorf("the image's revision label is %q, want the commit", images.Labels["org.opencontainers.image.revision"])
			}
		})
	}
}

// multiArchRuntime pushes the amd64 and arm64 runtime stand-ins to the
// registry as one multi-architecture image and returns its name.
func multiArchRuntime(t *testing.T, registry string) string {
	t.Helper()
	list := registry + "/coffee-standin/distroless-static:nonroot"
	var parts []string
	for _, arch := range []string{"amd64", "arm64"} {
		local, remote := standin.Runtime, list+"-"+arch
		if arch == "arm64" {
			local += "-arm64"
		}
		for _, args := range [][]string{{"tag", local, remote}, {"push", "--quiet", remote}} {
			if _, err := standin.Docker(t.Context(), args...); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() { _, _ = standin.Docker(context.Background(), "rmi", remote) })
		parts = append(parts, remote)
	}
	if _, err := standin.Docker(t.Context(), append([]string{"buildx", "imagetools", "create", "-t", list}, parts...)...); err != nil {
		t.Fatal(err)
	}
	return list
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("the build left no %s: %v", name, err)
	}
	return b
}

// standInCABundle is where make images STANDIN=1 puts its stand-in for the
// RDS CA bundle: in the build context, let through by .dockerignore.
const standInCABundle = "containers/stand-ins/rds-ca-bundle.pem"

// writeStandInCABundle writes a self-signed CA certificate, its key thrown
// away, to path.
func writeStandInCABundle(t *testing.T, path string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stand-in RDS CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

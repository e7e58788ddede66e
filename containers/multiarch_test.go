package containers

// The images for both of Fargate's CPUs (X86_64 and ARM64, Graviton): `make
// images PLATFORMS=linux/amd64,linux/arm64` builds each without an emulator
// (the Dockerfiles cross-compile) and pushes one multi-architecture manifest
// per image. Checked from the registry's side, as ECS pulls: the manifest
// list, each image's configuration, the arm64 binary's ELF header (no
// emulator runs it here) and the native image run.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runtimeArm64StandIn is the arm64 variant of the distroless-style runtime
// stand-in, the last stage of an arm64 image built offline.
const runtimeArm64StandIn = "coffee-standin/distroless-static:nonroot-arm64"

// multiArchPlatforms are Fargate's CPUs as Docker names them.
var multiArchPlatforms = []string{"linux/amd64", "linux/arm64"}

// manifestList is the part of an OCI index / Docker manifest list read here.
type manifestList struct {
	MediaType string
	Manifests []struct {
		Digest   string
		Platform struct{ OS, Architecture string }
	}
}

// imageManifest is the part of one image's manifest read here.
type imageManifest struct {
	Config struct{ Digest string }
	Layers []struct{ Digest, MediaType string }
}

func TestMultiArchitectureImages(t *testing.T) {
	t.Parallel()
	requireImage(t, registryStandIn, buildStandIns)
	requireImage(t, runtimeArm64StandIn, buildStandIns)

	id := runContainer(t, append(slices.Clone(lockedDown), "-p", "127.0.0.1::5000", registryStandIn)...)
	registry := hostPort(t, id, "5000/tcp")
	base := "http://" + registry
	waitFor(t, id, 30*time.Second, "the registry answers /v2/", func() error {
		status, _, err := get(base + "/v2/")
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("GET /v2/ = %d", status)
		}
		return err
	})

	tag := "multiarch-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	start := time.Now()
	build := exec.CommandContext(t.Context(), "make", "-C", "..", "images", "STANDIN=1",
		"PLATFORMS="+strings.Join(multiArchPlatforms, ","), "REGISTRY="+registry, "IMAGE_REPO=coffee-suppliers", "IMAGE_TAG="+tag)
	out, err := build.CombinedOutput()
	// make leaves each platform's image tagged in the engine; the registry
	// (and its copies) go with the container.
	t.Cleanup(func() {
		for _, b := range builtImages {
			for _, p := range multiArchPlatforms {
				_, _ = dockerOutput(context.Background(), "rmi", fmt.Sprintf("%s/coffee-suppliers/%s:%s-%s", registry, b.name, tag, strings.TrimPrefix(p, "linux/")))
			}
		}
	})
	if err != nil {
		t.Fatalf("make images PLATFORMS=%s: %v\n%s", strings.Join(multiArchPlatforms, ","), err, out)
	}
	t.Logf("built and pushed %d images for %v in %v", len(builtImages), multiArchPlatforms, time.Since(start).Round(time.Second))
	if strings.Contains(string(out), "qemu") || strings.Contains(string(out), "exec format error") {
		t.Errorf("the build ran a program of the other CPU:\n%s", out)
	}

	for _, b := range builtImages {
		t.Run(b.name, func(t *testing.T) {
			repo := "coffee-suppliers/" + b.name
			var list manifestList
			registryAPI(t, http.MethodGet, base, "/v2/"+repo+"/manifests/"+tag, &list)
			if !strings.Contains(list.MediaType, "manifest.list") && !strings.Contains(list.MediaType, "image.index") {
				t.Fatalf("%s:%s is a %q, want a multi-architecture manifest list", repo, tag, list.MediaType)
			}
			var platforms []string
			byPlatform := map[string]string{}
			for _, m := range list.Manifests {
				p := m.Platform.OS + "/" + m.Platform.Architecture
				platforms = append(platforms, p)
				byPlatform[p] = m.Digest
			}
			if slices.Sort(platforms); !slices.Equal(platforms, multiArchPlatforms) {
				t.Fatalf("%s:%s lists %v, want %v", repo, tag, platforms, multiArchPlatforms)
			}
			for _, p := range multiArchPlatforms {
				var m imageManifest
				registryAPI(t, http.MethodGet, base, "/v2/"+repo+"/manifests/"+byPlatform[p], &m)
				// The image's own configuration says the same CPU as the list.
				var config struct{ OS, Architecture string }
				registryAPI(t, http.MethodGet, base, "/v2/"+repo+"/blobs/"+m.Config.Digest, &config)
				if got := config.OS + "/" + config.Architecture; got != p {
					t.Errorf("the %s entry's image configuration says %s", p, got)
				}
				// The binary inside is for that CPU: its ELF header, read
				// from the layers, not run.
				bin := fileInLayers(t, base, repo, m, b.name)
				f, err := elf.NewFile(bytes.NewReader(bin))
				if err != nil {
					t.Errorf("%s's /%s is not an ELF file: %v", p, b.name, err)
					continue
				}
				want := map[string]elf.Machine{"linux/amd64": elf.EM_X86_64, "linux/arm64": elf.EM_AARCH64}[p]
				if f.Machine != want || f.Class != elf.ELFCLASS64 {
					t.Errorf("%s's /%s is %v %v, want %v 64-bit", p, b.name, f.Machine, f.Class, want)
				}
			}
			if b.service {
				runNative(t, registry+"/"+repo+"@"+byPlatform["linux/amd64"])
			}
		})
	}
}

// fileInLayers returns the file name (at the image's root) from the image's
// layers, the uppermost copy.
//
// A layer is megabytes, read and unpacked while the body streams in: the
// shared client's 5 s bound for an answer is too short for that on a busy
// machine (the compose stack's load runs beside this test), so layers get
// a bound of their own that only a stuck registry reaches.
func fileInLayers(t *testing.T, base, repo string, m imageManifest, name string) []byte {
	t.Helper()
	var found []byte
	for _, l := range m.Layers {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/v2/"+repo+"/blobs/"+l.Digest, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := layerClient.Do(req)
		if err != nil {
			t.Fatalf("layer %s: %v", l.Digest, err)
		}
		b, err := readFromLayer(resp.Body, name)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("layer %s: %v", l.Digest, err)
		}
		if b != nil {
			found = b
		}
	}
	if found == nil {
		t.Fatalf("no /%s in %s's layers", name, repo)
	}
	return found
}

// readFromLayer reads a gzipped layer tar and returns the file name at its
// root, or nil when the layer does not hold it.
func readFromLayer(r io.Reader, name string) ([]byte, error) {
	z, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not gzip: %w", err)
	}
	tr := tar.NewReader(z)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the tar: %w", err)
		}
		if strings.TrimPrefix(h.Name, "./") == name || strings.TrimPrefix(h.Name, "/") == name {
			return io.ReadAll(tr)
		}
	}
}

// runNative pulls the image for this machine's CPU by its digest and runs it
// locked down until it answers /healthz.
func runNative(t *testing.T, ref string) {
	t.Helper()
	docker(t, "pull", "--quiet", ref)
	t.Cleanup(func() { _, _ = dockerOutput(context.Background(), "rmi", ref) })
	args := append(slices.Clone(lockedDown), "-p", "127.0.0.1::8080")
	id := runContainer(t, append(append(args, dbSettings...), ref)...)
	app := "http://" + hostPort(t, id, "8080/tcp")
	waitFor(t, id, 30*time.Second, "GET /healthz answers 200", func() error {
		code, _, err := get(app + "/healthz")
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("status %d", code)
		}
		return err
	})
	stopCleanly(t, id)
}

// layerClient downloads image layers (fileInLayers).
var layerClient = http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}

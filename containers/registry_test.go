package containers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// registryStandIn is the ECR stand-in: the Distribution registry (registry:3)
// built by build-stand-ins.sh.
const registryStandIn = "coffee-standin/registry:3"

// registryAPI asks the registry's HTTP API at base for path and decodes the
// JSON answer into v, returning the response's headers.
func registryAPI(t *testing.T, method, base, path string, v any) http.Header {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The manifest types docker push writes, so HEAD answers their digest.
	req.Header.Set("Accept", strings.Join([]string{
		"application/vnd.oci.image.index.v1+json",
		"application/vnd.oci.image.manifest.v1+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
		"application/vnd.docker.distribution.manifest.v2+json",
	}, ", "))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s = %d, want 200", method, path, resp.StatusCode)
	}
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s %s: decoding: %v", method, path, err)
		}
	}
	return resp.Header
}

// TestPushToRegistry: `make push` puts the three images into a registry —
// the stand-in of ECR, locked down as the services are — tagged with the
// commit, and what a cluster pulls back from it is the image that was built.
func TestPushToRegistry(t *testing.T) {
	t.Parallel()
	requireImage(t, registryStandIn, buildStandIns)
	for _, b := range builtImages {
		b.require(t)
	}
	commit, err := exec.CommandContext(t.Context(), "git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v (the images are tagged with the commit)", err)
	}
	tag := strings.TrimSpace(string(commit))

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

	// Pushed as the Makefile does it (IMAGE_REPO and IMAGE_TAG from the
	// environment, as for the other tests).
	push := exec.CommandContext(t.Context(), "make", "-C", "..", "push", "REGISTRY="+registry, "COMMIT_TAG="+tag)
	if out, err := push.CombinedOutput(); err != nil {
		t.Fatalf("make push: %v\n%s", err, out)
	}

	var catalog struct{ Repositories []string }
	registryAPI(t, http.MethodGet, base, "/v2/_catalog", &catalog)
	for _, b := range builtImages {
		name := envOr("IMAGE_REPO", "coffee-suppliers") + "/" + b.name
		if !slices.Contains(catalog.Repositories, name) {
			t.Errorf("the registry's catalog %v lacks %s", catalog.Repositories, name)
			continue
		}
		var tags struct{ Tags []string }
		registryAPI(t, http.MethodGet, base, "/v2/"+name+"/tags/list", &tags)
		if !slices.Contains(tags.Tags, tag) {
			t.Errorf("%s's tags are %v, want the commit %s", name, tags.Tags, tag)
		}

		// The digest the registry serves is the one docker recorded when
		// pushing, and pulling it back gives the very image built.
		remote := registry + "/" + name + ":" + tag
		digest := registryAPI(t, http.MethodHead, base, "/v2/"+name+"/manifests/"+tag, nil).Get("Docker-Content-Digest")
		repoDigests := docker(t, "image", "inspect", "--format", "{{json .RepoDigests}}", remote)
		if digest == "" || !strings.Contains(repoDigests, registry+"/"+name+"@"+digest) {
			t.Errorf("%s: the registry serves digest %q, docker recorded %s", remote, digest, repoDigests)
		}
		built := docker(t, "image", "inspect", "--format", "{{.Id}}", b.ref())
		docker(t, "rmi", remote) // only the tag: the local image keeps its own
		docker(t, "pull", "--quiet", remote)
		t.Cleanup(func() { _, _ = dockerOutput(context.Background(), "rmi", remote) })
		if pulled := docker(t, "image", "inspect", "--format", "{{.Id}}", remote); pulled != built {
			t.Errorf("pulled %s as image %s, want %s, the image built", remote, pulled, built)
		}
	}
}

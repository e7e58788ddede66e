// Package standin is what infra's rehearsal and tests share to run on
// Docker without a registry: the names of the local stand-ins for the
// public images that cannot be pulled here (built by
// containers/stand-ins/build-stand-ins.sh) and the docker CLI.
package standin

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// The stand-ins, each for the public image its comment names.
const (
	Registry = "coffee-standin/registry:3"                // registry:3, ECR's stand-in
	Go       = "coffee-standin/golang:1.26-bookworm"      // golang:1.26-bookworm, the Dockerfiles' build stage
	Runtime  = "coffee-standin/distroless-static:nonroot" // gcr.io/distroless/static-debian12:nonroot
	MariaDB  = "coffee-standin/mariadb:10.11"             // mysql:8.4, RDS's stand-in
	HAProxy  = "coffee-standin/haproxy:2.6"               // haproxy:2.6, the load balancer's
)

// Docker runs the docker CLI and returns its trimmed standard output; an
// error names the command and carries standard error.
func Docker(ctx context.Context, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args[:min(2, len(args))], " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

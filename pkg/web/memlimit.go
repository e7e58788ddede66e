package web

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// cgroupRoot is where a container sees its own control group.
const cgroupRoot = "/sys/fs/cgroup"

// memoryLimitShare is the part of the container's memory the Go heap may
// take before the collector works harder: the rest is for the runtime's
// own structures, stacks and what the kernel counts against the container.
const memoryLimitShare = 0.9

// unlimitedBytes is above any real limit: cgroup v1 reports "no limit" as a
// page-rounded 2^63.
const unlimitedBytes = 1 << 60

// LimitMemoryToContainer gives the Go runtime a soft memory limit under
// the container's (see containerMemoryLimit); a service's main calls it
// before serving. Outside a container, or with GOMEMLIMIT set, it does
// nothing.
func LimitMemoryToContainer() {
	if limit := containerMemoryLimit(os.LookupEnv, cgroupRoot); limit > 0 {
		debug.SetMemoryLimit(limit)
	}
}

// containerMemoryLimit is the soft memory limit to give the Go runtime:
// zero when GOMEMLIMIT is set (the runtime has applied it) or no limit is
// found, else 90 % of the limit of the cgroup under root (v2 memory.max, or
// v1 memory/memory.limit_in_bytes). Near that limit the collector runs
// harder, so bursts of 19 MiB password hashes are returned before the
// container is killed for memory, with no forced collection after each.
func containerMemoryLimit(lookup func(string) (string, bool), root string) int64 {
	if v, set := lookup("GOMEMLIMIT"); set && v != "" {
		return 0
	}
	for _, name := range []string{"memory.max", filepath.Join("memory", "memory.limit_in_bytes")} {
		body, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			continue
		}
		limit, err := strconv.ParseInt(strings.TrimSpace(string(body)), 10, 64)
		if err != nil || limit <= 0 || limit >= unlimitedBytes {
			return 0 // "max", or unreadable: no limit to derive from
		}
		return int64(float64(limit) * memoryLimitShare)
	}
	return 0
}

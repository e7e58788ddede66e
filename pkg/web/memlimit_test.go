package web

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMemoryLimitFromTheContainer: without GOMEMLIMIT, a service keeps its
// heap under 90 % of its container's memory limit, read from a cgroup v2
// or v1 hierarchy (a fake one here); with no limit anywhere, none is set.
func TestMemoryLimitFromTheContainer(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	for _, tc := range []struct {
		name  string
		files map[string]string // relative to the cgroup root
		env   map[string]string
		want  int64 // 0: leave the runtime's default
	}{
		{"cgroup v2, 512 MiB", map[string]string{"memory.max": "536870912\n"}, nil, 512 * mib * 9 / 10},
		{"cgroup v2, no limit", map[string]string{"memory.max": "max\n"}, nil, 0},
		{"cgroup v1, 1 GiB", map[string]string{"memory/memory.limit_in_bytes": "1073741824\n"}, nil, 1024 * mib * 9 / 10},
		{"cgroup v1, no limit", map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n"}, nil, 0},
		{"no cgroup files", nil, nil, 0},
		{"unreadable value", map[string]string{"memory.max": "lots\n"}, nil, 0},
		{"GOMEMLIMIT wins", map[string]string{"memory.max": "536870912\n"}, map[string]string{"GOMEMLIMIT": "300MiB"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			for name, body := range tc.files {
				path := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			if got := containerMemoryLimit(lookup, root); got != tc.want {
				t.Errorf("memory limit %d, want %d", got, tc.want)
			}
		})
	}
}

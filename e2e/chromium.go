package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
)

// FindChromium returns the browser to run: $CHROMIUM, chromium on PATH, or
// Debian's /usr/bin/chromium. The browser stories and `make screenshots`
// both start it.
func FindChromium() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("CHROMIUM=%s is not an executable: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	const debian = "/usr/bin/chromium"
	if _, err := os.Stat(debian); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", errors.New("no chromium on PATH, no " + debian + ", CHROMIUM not set: apt-get install chromium")
		}
		return "", err
	}
	return debian, nil
}

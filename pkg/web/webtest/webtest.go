// Package webtest holds what the services' tests share: a log sink that
// captures a server's JSON log lines while its goroutines write to it.
// Only test code imports it.
package webtest

import (
	"bytes"
	"sync"
)

// LogBuffer is an io.Writer safe for concurrent writers; String returns
// everything written so far.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

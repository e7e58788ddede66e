package web

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logFlushInterval bounds how long a log line waits in memory before it
// reaches stdout.
const logFlushInterval = 100 * time.Millisecond

// LogWriter batches the request log's lines into one write to stdout per
// logFlushInterval (or per 32 KB), instead of one system call per request:
// under load that call was a twentieth of a request's cost. Lines stay
// whole and in order; Close writes out whatever is left, so a service that
// stops, cleanly or with an error, loses none.
type LogWriter struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// NewLogWriter starts batching lines for w. Its owner, a service's run,
// closes it when the service stops.
func NewLogWriter(w io.Writer) *LogWriter {
	lw := &LogWriter{w: bufio.NewWriterSize(w, 32<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go lw.flushEvery(logFlushInterval)
	return lw
}

// Write takes one log line (slog writes each record with one call).
func (lw *LogWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(p)
}

func (lw *LogWriter) flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Flush()
}

func (lw *LogWriter) flushEvery(d time.Duration) {
	defer close(lw.done)
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			// A failing stdout has nobody to report to; the next flush,
			// or Close, tries again.
			_ = lw.flush()
		case <-lw.stop:
			return
		}
	}
}

// Close stops the periodic flush and writes out the rest.
func (lw *LogWriter) Close() error {
	close(lw.stop)
	<-lw.done
	return lw.flush()
}

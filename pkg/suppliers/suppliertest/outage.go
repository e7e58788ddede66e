package suppliertest

import (
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// Outage is a TCP relay in front of a test database that starts down: it
// accepts connections and closes them at once, as a database that is not
// reachable yet looks to a service, until Restore.
type Outage struct {
	ln      net.Listener
	backend string
	up      atomic.Bool
	wg      sync.WaitGroup
}

// BehindOutage returns d reached through a relay that is down until the
// returned Outage's Restore. The relay closes when t ends.
func (d DB) BehindOutage(t testing.TB) (DB, *Outage) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("suppliertest: outage relay: %v", err)
	}
	o := &Outage{ln: ln, backend: net.JoinHostPort(d.Host, strconv.Itoa(d.Port))}
	o.wg.Go(o.serve)
	t.Cleanup(func() { ln.Close(); o.wg.Wait() })
	d.Host, d.Port = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
	return d, o
}

// Restore lets connections through from now on.
func (o *Outage) Restore() { o.up.Store(true) }

func (o *Outage) serve() {
	for {
		client, err := o.ln.Accept()
		if err != nil {
			return // closed
		}
		if !o.up.Load() {
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", o.backend)
		if err != nil {
			client.Close()
			continue
		}
		// Each side closes the other when it ends; the service's pool
		// and the server close theirs.
		go func() { io.Copy(server, client); server.Close() }() //nolint:errcheck // a relay ends when either side does
		go func() { io.Copy(client, server); client.Close() }() //nolint:errcheck
	}
}

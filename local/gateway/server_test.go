package gateway

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// patience bounds every wait of these tests: far longer than any timeout
// they set, so a loaded machine only makes them slower, never wrong.
const patience = 15 * time.Second

// testConfig has HAProxy's shape with timeouts a test can wait out.
func testConfig() Config {
	return Config{
		Timeouts: Timeouts{Header: 500 * time.Millisecond, Body: 500 * time.Millisecond, Write: 2 * time.Second,
			Idle: 500 * time.Millisecond, Server: 10 * time.Second, Connect: 2 * time.Second},
		MaxConns: 100,
	}
}

// startGateway serves a gateway with cfg in front of backend (as both
// targets) on a loopback port and returns its address.
func startGateway(t *testing.T, backend http.Handler, cfg Config) string {
	t.Helper()
	up := httptest.NewServer(backend)
	t.Cleanup(up.Close)
	u, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := NewServer(map[Target]*url.URL{Customer: u, Employee: u}, slog.New(slog.DiscardHandler), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gw.Serve(ln) }()
	t.Cleanup(func() { gw.Close() })
	return ln.Addr().String()
}

// client is a raw TCP connection to the gateway, as a hostile or broken
// client holds one.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(patience)); err != nil {
		t.Fatal(err)
	}
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *client) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, raw); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// response reads one response; a timeout means the gateway never answered.
func (c *client) response() *http.Response {
	c.t.Helper()
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("no answer within %v: the gateway holds the connection", patience)
		}
		c.t.Fatalf("read response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp
}

// closed waits for the gateway to close the connection.
func (c *client) closed() {
	c.t.Helper()
	_, err := c.r.ReadByte()
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		c.t.Fatalf("connection still open after %v: the gateway holds it", patience)
	case err == nil:
		c.t.Fatal("unexpected bytes where the gateway should have closed the connection")
	}
}

// TestGatewayAnswers408ForABodyThatNeverArrives: a client that declares a
// body and stops sending is answered 408 and let go once Body passes, and
// the backend waiting for that body is released too (issue 12, point 7).
func TestGatewayAnswers408ForABodyThatNeverArrives(t *testing.T) {
	t.Parallel()
	released := make(chan error, 1)
	addr := startGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		released <- err
		if err == nil {
			w.WriteHeader(http.StatusOK)
		}
	}), testConfig())
	c := dial(t, addr)
	c.send("POST /admin/supplier-add HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nname=Ac")
	resp := c.response()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("stalled body answered %d, want 408", resp.StatusCode)
	}
	c.closed()
	select {
	case err := <-released:
		if err == nil {
			t.Error("the backend read a whole body the client never sent")
		}
	case <-time.After(patience):
		t.Error("the backend is still waiting for the body")
	}
}

// TestGatewayPassesTheBackendsEarlyAnswer: a backend that refuses a request
// before reading its body (413 for a declared oversize body, as the
// services do) is heard by the client, even one still sending or stalled.
func TestGatewayPassesTheBackendsEarlyAnswer(t *testing.T) {
	t.Parallel()
	// The stalled body never times out here, so only the backend's answer
	// can end the wait, however slowly it comes back.
	cfg := testConfig()
	cfg.Timeouts.Body = patience
	addr := startGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > 64<<10 {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			io.WriteString(w, "too large")
			return
		}
		io.Copy(io.Discard, r.Body)
	}), cfg)
	c := dial(t, addr)
	c.send("POST /admin/supplier-add HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000\r\n\r\n" + strings.Repeat("a", 4096))
	resp := c.response()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("oversize body answered %d %q, want the backend's 413", resp.StatusCode, body)
	}
}

// TestGatewayAnswers400ForAMalformedChunkedBody: a broken body is the
// client's fault (400), not a backend outage (502 would page someone).
func TestGatewayAnswers400ForAMalformedChunkedBody(t *testing.T) {
	t.Parallel()
	addr := startGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
		}
	}), testConfig())
	for name, body := range map[string]string{
		"chunk size not hex":     "zz\r\nname=Acme\r\n0\r\n\r\n",
		"chunk longer than said": "3\r\nname=Acme\r\n0\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c := dial(t, addr)
			c.send("POST /admin/supplier-add HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
			if resp := c.response(); resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("malformed chunked body answered %d, want 400", resp.StatusCode)
			}
		})
	}
}

// TestGatewayClosesStalledAndIdleConnections: a connection that never
// finishes its headers, or sits idle after a response, is closed once
// Header or Idle passes, as HAProxy's timeout http-request and
// http-keep-alive do.
func TestGatewayClosesStalledAndIdleConnections(t *testing.T) {
	t.Parallel()
	addr := startGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), testConfig())

	stalled := dial(t, addr)
	stalled.send("GET /suppliers HTTP/1.1\r\nHost: gat")
	stalled.closed()

	idle := dial(t, addr)
	idle.send("GET /suppliers HTTP/1.1\r\nHost: gateway\r\n\r\n")
	if resp := idle.response(); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /suppliers = %d", resp.StatusCode)
	}
	idle.closed()
}

// TestGatewayLimitsConnections: past MaxConns, a new connection waits
// (as past HAProxy's maxconn) until one of the open ones ends.
func TestGatewayLimitsConnections(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxConns = 2
	cfg.Timeouts.Idle = time.Minute // the held connections stay open until closed here
	addr := startGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), cfg)
	var held []*client
	for range cfg.MaxConns {
		c := dial(t, addr)
		c.send("GET /suppliers HTTP/1.1\r\nHost: gateway\r\n\r\n")
		if resp := c.response(); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET = %d", resp.StatusCode)
		}
		held = append(held, c)
	}
	extra := dial(t, addr)
	extra.send("GET /suppliers HTTP/1.1\r\nHost: gateway\r\n\r\n")
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(extra.r, nil)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case status := <-answered:
		t.Fatalf("a connection past MaxConns was answered (%d) while %d others were open", status, cfg.MaxConns)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].conn.Close()
	select {
	case status := <-answered:
		if status != http.StatusOK {
			t.Fatalf("the waiting connection got %d once a slot was free, want 200", status)
		}
	case <-time.After(patience):
		t.Fatal("the waiting connection was never served after a slot was freed")
	}
}

// TestGatewayAnswers504ForABackendThatNeverAnswers: past Server, the client
// gets 504 instead of waiting on a stuck backend (timeout server).
func TestGatewayAnswers504ForABackendThatNeverAnswers(t *testing.T) {
	t.Parallel()
	stuck := make(chan struct{})
	cfg := testConfig()
	cfg.Timeouts.Server = 500 * time.Millisecond
	addr := startGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	}), cfg)
	t.Cleanup(func() { close(stuck) })
	c := dial(t, addr)
	c.send("GET /suppliers HTTP/1.1\r\nHost: gateway\r\n\r\n")
	if resp := c.response(); resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("a stuck backend answered %d, want 504", resp.StatusCode)
	}
}

// TestGatewayWaitsOnASlowBackendAfterTheBody: once the whole body has
// arrived, the body timeout no longer applies; the backend has Server to
// answer, even when that is longer than Body.
func TestGatewayWaitsOnASlowBackendAfterTheBody(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	addr := startGateway(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case <-time.After(4 * cfg.Timeouts.Body):
		case <-r.Context().Done():
			return
		}
		w.Write(body)
	}), cfg)
	c := dial(t, addr)
	c.send("POST /admin/supplier-add HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\nname=Acme")
	resp := c.response()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "name=Acme" {
		t.Fatalf("a backend slower than the body timeout answered %d %q, want its 200", resp.StatusCode, body)
	}
}

package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webtest"
	"github.com/gin-gonic/gin"
)

// lines decodes every JSON log line written so far.
// syncBuffer captures the server's log lines and decodes them.
type syncBuffer struct{ webtest.LogBuffer }

func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// requestLine returns the single request log line for path.
func (b *syncBuffer) requestLine(t *testing.T, path string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, m := range b.lines(t) {
		if m["msg"] == "request" && m["path"] == path {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one request log line for %s, got %d in:\n%s", path, len(found), b.String())
	}
	return found[0]
}

// fakeDatabase is the readiness check's answer, which a test may change.
type fakeDatabase struct {
	mu  sync.Mutex
	err error
}

func (f *fakeDatabase) Ready(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *fakeDatabase) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// testPages are the service pages the test app renders besides the shared
// error page.
var testPages = fstest.MapFS{
	"hello.html":  {Data: []byte(`{{define "content"}}<p class="greeting">{{.Data}}</p>{{end}}`)},
	"broken.html": {Data: []byte(`{{define "content"}}<p>half a page</p>{{.Data.Missing}}{{end}}`)},
}

type testApp struct {
	app       *App
	engine    *gin.Engine
	metrics   *Metrics
	log       *syncBuffer
	database  *fakeDatabase
	readiness *readiness
}

// newTestApp builds an App over the test pages with routes that exercise
// every path through the adapters; ready is the database check's answer
// until the test changes it (ta.database.set).
func newTestApp(t *testing.T, ready error) *testApp {
	t.Helper()
	return newTestAppConfig(t, ready, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
}

// newTestAppConfig is newTestApp with the given settings.
func newTestAppConfig(t *testing.T, ready error, cfg Config) *testApp {
	t.Helper()
	logs := &syncBuffer{}
	log := NewLogger(logs, "test", -8) // everything, debug included
	app, err := NewApp(log, Site{Service: "test", Section: "Tests", Home: "/", Nav: []Link{{Label: "Home", URL: "/"}}}, testPages)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", "u:p@tcp(127.0.0.1:1)/x") // never connects: only its pool stats are read
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	metrics := NewMetrics("test", db)
	database := &fakeDatabase{err: ready}
	readiness := newReadiness(log, database.Ready)
	engine, err := app.Engine(cfg, metrics, readiness.Ready)
	if err != nil {
		t.Fatal(err)
	}
	engine.GET("/hello", app.Page(func(c *gin.Context) error {
		return app.HTML(c, http.StatusOK, "hello", "Hello", c.DefaultQuery("name", "world"))
	}))
	engine.GET("/broken", app.Page(func(c *gin.Context) error {
		return app.HTML(c, http.StatusOK, "broken", "Broken", struct{}{})
	}))
	engine.GET("/fail", app.Page(func(c *gin.Context) error {
		return errors.New("dial tcp 10.0.0.5:3306: secret internal detail")
	}))
	engine.GET("/panic", app.Page(func(c *gin.Context) error {
		panic("secret panic text")
	}))
	engine.GET("/api/fail", app.API(func(c *gin.Context) error {
		return errors.New("secret internal detail")
	}))
	engine.GET("/api/ok", app.API(func(c *gin.Context) error {
		return JSON(c, http.StatusOK, gin.H{"hello": c.DefaultQuery("name", "world")})
	}))
	engine.POST("/form", app.Page(func(c *gin.Context) error {
		form, err := ParseForm(c)
		if err != nil {
			return err
		}
		c.String(http.StatusOK, "name=%s", form.Get("name"))
		return nil
	}))
	engine.GET("/slow", func(c *gin.Context) {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-c.Request.Context().Done():
		}
		c.String(http.StatusOK, "done")
	})
	return &testApp{app: app, engine: engine, metrics: metrics, log: logs, database: database, readiness: readiness}
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends one request through the engine; header pairs are name, value.
func (ta *testApp) do(t *testing.T, method, target string, body io.Reader, header ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	ta.engine.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Result().Header, body: rec.Body.String()}
}

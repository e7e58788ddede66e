package web

import (
	"database/sql"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics owns one service's Prometheus registry. Each service has its own
// (no global default registry), so two services can run in one process, as
// they do under the local launcher.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the runtime, process, build and connection pool
// collectors, plus request counters and latency histograms by route.
func NewMetrics(service string, db *sql.DB) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds",
			Help: "Time from receiving a request to writing its response, by route pattern and method.",
			// Finer at the low end: most pages answer in a few milliseconds.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	version, revision := BuildVersion()
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "coffee_build_info",
		Help: "Always 1; labels say which build of which service is running.",
	}, []string{"service", "version", "revision", "goversion"})
	buildInfo.WithLabelValues(service, version, revision, goVersion()).Set(1)
	reg.MustRegister(m.requests, m.duration, buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		collectors.NewDBStatsCollector(db, service))
	return m
}

// Registry lets callers add their own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the metrics port: /metrics, and the pprof profiles when
// cfg.Pprof is set. It answers only the hosts a scraper or a developer
// uses (see expectedMetricsHost); anything else gets 421.
func (m *Metrics) Handler(cfg Config) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry}))
	if cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	self, _ := os.Hostname()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !expectedMetricsHost(r.Host, self) {
			http.Error(w, "This port answers only to an IP address, localhost or the machine's own name.", http.StatusMisdirectedRequest)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// expectedMetricsHost reports whether a metrics request's Host is one a
// scraper or a developer uses: an IP literal (Prometheus and the CloudWatch
// agent scrape a task by its IP), localhost, or this machine's own name
// (self). A browser tricked by DNS rebinding sends the attacker's name and
// is refused. A request without Host (HTTP/1.0) comes from no browser.
func expectedMetricsHost(host, self string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	if name == "" {
		return true
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return true
	}
	name = strings.TrimSuffix(name, ".")
	return strings.EqualFold(name, "localhost") || (self != "" && strings.EqualFold(name, self))
}

// instrument records every request under its route pattern and method;
// unknown paths and unknown methods share one label each, so scanners
// cannot explode the series count.
func (m *Metrics) instrument(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	method := methodLabel(c.Request.Method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(c.Writer.Status())).Inc()
	m.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
}

// methodLabel is the method as a metric label: the standard methods by
// name, anything else (any token is a valid method) as OTHER.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// BuildVersion reports the module version and VCS revision stamped by the
// Go toolchain, or "dev"/"unknown" for a plain `go run`.
func BuildVersion() (version, revision string) {
	version, revision = "dev", "unknown"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		version = v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return
}

func goVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		return info.GoVersion
	}
	return "unknown"
}

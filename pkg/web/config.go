// Package web is the HTTP plumbing both services share: configuration,
// logging, the gin engine with its middleware chain, error pages and JSON
// errors, templates, health checks, metrics, and graceful shutdown.
package web

import (
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
)

// Config is what every service reads from the environment besides its
// database settings.
type Config struct {
	// Port serves the application; the load balancer routes here.
	Port int
	// MetricsPort serves Prometheus metrics (and pprof, with Pprof); no
	// load balancer routes here. It answers only requests whose Host is an
	// IP address, localhost or this machine's name, so a web page whose
	// name a DNS rebinding attack points at 127.0.0.1 cannot read it.
	MetricsPort int
	// ShutdownTimeout bounds draining on SIGTERM. It stays well under ECS's
	// default 30 s stop timeout so in-flight requests finish before SIGKILL.
	ShutdownTimeout time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For is believed when
	// working out a client's address, which the log and the per-address
	// sign-in limit use. Exactly the load balancer's addresses, nothing
	// wider: any other peer allowed here can claim any address. Loopback
	// by default (make run's gateway); the compose stack sets HAProxy's
	// fixed address, the AWS task definitions the ALB's subnets.
	TrustedProxies []netip.Prefix
	// LogLevel is debug, info, warn or error.
	LogLevel slog.Level
	// PageCacheTTL is how long a list page's content may be served from
	// memory (App.CachedPage, App.CachedContent); zero renders every page
	// afresh. It bounds how long a change takes to show on every replica.
	PageCacheTTL time.Duration
	// Clock tells the page cache the time; nil is time.Now. Tests set it
	// to move time on without waiting.
	Clock func() time.Time
	// Pprof serves the profiles under /debug/pprof/ on the metrics port.
	// Off unless PPROF=1: a profile stalls the service for its duration
	// and shows its memory to whoever can reach the port.
	Pprof bool
}

// defaultTrustedProxies is loopback only, where make run's gateway
// connects from. Private ranges are not trusted by default: in a compose
// network or a VPC every neighbour has such an address, and trusting them
// would let any of them choose its own client address.
const defaultTrustedProxies = "127.0.0.1/32,::1/128"

// DefaultPageCacheTTL keeps a change's way to the catalogue well under a
// second, while a busy page is read from the database twice a second at
// most.
const DefaultPageCacheTTL = 500 * time.Millisecond

// ConfigFromEnv reads PORT (8080), METRICS_PORT (9090), SHUTDOWN_TIMEOUT
// (20s), TRUSTED_PROXIES (loopback only), LOG_LEVEL (info), PAGE_CACHE_TTL
// (500ms; at most 1s, 0 turns the cache off) and PPROF (0; 1 serves the
// profiles on the metrics port).
func ConfigFromEnv(env *envconfig.Reader) Config {
	cfg := Config{
		Port:            env.Port("PORT", 8080),
		MetricsPort:     env.Port("METRICS_PORT", 9090),
		ShutdownTimeout: env.Duration("SHUTDOWN_TIMEOUT", 20*time.Second, time.Second, 10*time.Minute),
		TrustedProxies:  env.Prefixes("TRUSTED_PROXIES", defaultTrustedProxies),
		PageCacheTTL:    env.Duration("PAGE_CACHE_TTL", DefaultPageCacheTTL, 0, time.Second),
	}
	level := env.String("LOG_LEVEL", "info")
	if err := cfg.LogLevel.UnmarshalText([]byte(level)); err != nil {
		env.Invalid("LOG_LEVEL", "must be debug, info, warn or error, got %q", level)
	}
	switch pprof := env.String("PPROF", "0"); pprof {
	case "0", "1":
		cfg.Pprof = pprof == "1"
	default:
		env.Invalid("PPROF", "must be 0 or 1, got %q", pprof)
	}
	if cfg.Port != 0 && cfg.Port == cfg.MetricsPort {
		env.Invalid("METRICS_PORT", "must differ from PORT (%d)", cfg.Port)
	}
	return cfg
}

// LogValue writes every setting by name for the start-up log line (the
// test clock, a function, is not a setting).
func (c Config) LogValue() slog.Value {
	proxies := make([]string, len(c.TrustedProxies))
	for i, p := range c.TrustedProxies {
		proxies[i] = p.String()
	}
	return slog.GroupValue(
		slog.Int("port", c.Port),
		slog.Int("metrics_port", c.MetricsPort),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
		slog.String("trusted_proxies", strings.Join(proxies, ",")),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("page_cache_ttl", c.PageCacheTTL.String()),
		slog.Bool("pprof", c.Pprof),
	)
}

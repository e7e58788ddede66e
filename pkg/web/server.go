package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// NewLogger returns the JSON logger every service writes to stdout, tagged
// with the service's name so interleaved logs stay attributable.
func NewLogger(w io.Writer, service string, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})).With("service", service)
}

// Listen opens the application and metrics listeners on all interfaces
// (a container's port is reached from outside it) at the configured ports.
func Listen(cfg Config) (app, metrics net.Listener, err error) {
	app, err = net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		return nil, nil, fmt.Errorf("listen on PORT %d: %w", cfg.Port, err)
	}
	metrics, err = net.Listen("tcp", ":"+strconv.Itoa(cfg.MetricsPort))
	if err != nil {
		app.Close()
		return nil, nil, fmt.Errorf("listen on METRICS_PORT %d: %w", cfg.MetricsPort, err)
	}
	return app, metrics, nil
}

// newServer sets every timeout gin's Run leaves open. IdleTimeout exceeds
// the ALB's 60 s idle timeout, so the load balancer, not the service, closes
// idle keep-alive connections and never races a request against a close.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       75 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// ListenAndServe serves svc on the configured ports (see Listen and Serve)
// until ctx ends.
func ListenAndServe(ctx context.Context, log *slog.Logger, cfg Config, svc *Service) error {
	appLn, metricsLn, err := Listen(cfg)
	if err != nil {
		return err
	}
	return Serve(ctx, log, cfg.ShutdownTimeout, appLn, svc.Handler(), metricsLn, svc.MetricsHandler())
}

// Serve runs the application and metrics servers until ctx ends, then
// stops accepting, lets in-flight requests finish within shutdownTimeout,
// and returns. It returns early with an error if either server fails.
func Serve(ctx context.Context, log *slog.Logger, shutdownTimeout time.Duration,
	appLn net.Listener, app http.Handler, metricsLn net.Listener, metrics http.Handler) error {
	app, err := withFault(app)
	if err != nil {
		return err
	}
	appSrv, metricsSrv := newServer(app, log), newServer(metrics, log)
	failed := make(chan error, 2)
	go func() { failed <- serve(appSrv, appLn, "application") }()
	go func() { failed <- serve(metricsSrv, metricsLn, "metrics") }()
	log.Info("listening", "addr", appLn.Addr().String(), "metrics_addr", metricsLn.Addr().String())

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-failed:
	}
	log.Info("shutting down", "timeout", shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err = errors.Join(serveErr,
		wrapShutdown("application", appSrv.Shutdown(shutdownCtx)),
		wrapShutdown("metrics", metricsSrv.Shutdown(shutdownCtx)))
	if err == nil {
		log.Info("stopped cleanly")
	}
	return err
}

func serve(srv *http.Server, ln net.Listener, name string) error {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s server: %w", name, err)
	}
	return nil
}

func wrapShutdown(name string, err error) error {
	if err != nil {
		return fmt.Errorf("%s server shutdown: %w", name, err)
	}
	return nil
}

// HealthcheckCommand probes this service's own /healthz on PORT and returns
// the process exit code: container runtimes without a shell or curl (a
// distroless image) run the binary itself as the health check.
func HealthcheckCommand(lookup func(string) (string, bool)) int {
	port := "8080"
	if p, ok := lookup("PORT"); ok && p != "" {
		port = p
	}
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://127.0.0.1:" + port + "/healthz")
	if err != nil {
		fmt.Println("unhealthy:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Println("unhealthy: status", resp.StatusCode)
		return 1
	}
	return 0
}

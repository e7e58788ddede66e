package web

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// readiness answers /readyz. A service starts, and stays up, whatever its
// database does: in a new environment it starts before the migration has
// created its account and tables, and becomes ready by itself once it has.
// Probes come every few seconds from ECS, the load balancer and HAProxy,
// maybe for an hour, so the reason is logged when it changes, not per
// probe, and so is becoming ready.
type readiness struct {
	log   *slog.Logger
	check func(context.Context) error // the store's Ready

	mu    sync.Mutex
	state string // "" before the first probe, stateReady, or why not

	// pending is work the service does once the database is ready, in
	// order, each until it first succeeds (the employee's first
	// administrator). pendingMu is held while one runs, so none runs twice
	// at once.
	pendingMu sync.Mutex
	pending   []func(context.Context) error
}

const stateReady = "ready"

func newReadiness(log *slog.Logger, check func(context.Context) error) *readiness {
	return &readiness{log: log, check: check}
}

// whenReady adds work that readiness waits for: /readyz answers 503 until
// fn has succeeded once, after the database check passes.
func (r *readiness) whenReady(fn func(context.Context) error) {
	r.pendingMu.Lock()
	defer r.pendingMu.Unlock()
	r.pending = append(r.pending, fn)
}

// Ready is nil when the service can serve, or the reason it cannot.
func (r *readiness) Ready(ctx context.Context) error {
	err := r.check(ctx)
	if err == nil {
		err = r.runPending(ctx)
	}
	r.note(err)
	return err
}

func (r *readiness) runPending(ctx context.Context) error {
	r.pendingMu.Lock()
	defer r.pendingMu.Unlock()
	for len(r.pending) > 0 {
		if err := r.pending[0](ctx); err != nil {
			return err
		}
		r.pending = r.pending[1:]
	}
	return nil
}

// note logs a change of state: the first probe's answer, each new reason,
// and becoming ready.
func (r *readiness) note(err error) {
	state := stateReady
	if err != nil {
		state = reasonOf(err)
	}
	r.mu.Lock()
	changed := state != r.state
	r.state = state
	r.mu.Unlock()
	switch {
	case !changed:
	case err == nil:
		r.log.Info("ready: the database answers and the schema is usable")
	default:
		r.log.Warn("not ready; /readyz answers 503 until this changes (logged again only when it does)",
			"reason", state, "error", err)
	}
}

// reasonOf is a failed check's reason, the same for every probe that fails
// the same way: a driver error's text can change from probe to probe (a
// local port, say) when its meaning does not.
func reasonOf(err error) string {
	var notReady *suppliers.NotReadyError
	switch {
	case errors.As(err, &notReady):
		return notReady.Reason
	case errors.Is(err, suppliers.ErrUnavailable):
		return "the database does not answer"
	default:
		return err.Error()
	}
}

package web

import (
	"fmt"
	"net/http"
	"sync/atomic"
)

// rehearsalFault is set only by `make rehearse` (docs/rehearsal.md), which
// builds its broken releases from this same source with the Dockerfiles'
// REHEARSAL_FAULT build argument (-ldflags -X). Production builds never
// pass it (infra's TestProductionBuildsCarryNoFault), so it stays empty and
// the handler is served unchanged.
var rehearsalFault string

// canaryFaultAfter is how many pages a "canary" build serves well before it
// starts failing: more than the smoke checks ask of one replica.
const canaryFaultAfter = 5

// withFault applies the build's rehearsal fault to the application handler.
func withFault(h http.Handler) (http.Handler, error) { return faultHandler(rehearsalFault, h) }

// faultHandler wraps h with a named fault. Health and readiness always
// answer, so a faulty release deploys like a good one and only the release
// checks or the alarms can stop it.
func faultHandler(fault string, h http.Handler) (http.Handler, error) {
	var fails func() bool
	switch fault {
	case "":
		return h, nil
	case "smoke":
		// Every page fails: the test listener's checks catch it.
		fails = func() bool { return true }
	case "canary":
		// Fine at first, then every other page fails: only production
		// traffic reaches far enough to show it.
		var served atomic.Int64
		fails = func() bool {
			n := served.Add(1)
			return n > canaryFaultAfter && n%2 == 0
		}
	default:
		return nil, fmt.Errorf("unknown rehearsal fault %q (the build set REHEARSAL_FAULT; want smoke or canary)", fault)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && fails() {
			http.Error(w, "rehearsal fault "+fault, http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	}), nil
}

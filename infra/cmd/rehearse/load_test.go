package main

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// The load stays within its bound, and each answer is counted in its
// phase, under the release serving the target group that answered, with a
// failure inside a canary kept apart from one outside it.
func TestLoadCountsPhasesAndCanaries(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			w.Header().Set("X-Target-Group", "customer_green")
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("X-Target-Group", "customer_blue")
	}))
	defer srv.Close()
	l := &load{base: srv.URL, workers: 3, interval: time.Millisecond, limit: 40, deadline: time.Now().Add(time.Minute),
		whoServes: func(tg string) (string, bool) {
			if tg == "customer_green" {
				return "v2", true
			}
			return "v1", false
		}}
	l.start("canary")
	deadline := time.Now().Add(30 * time.Second)
	for l.count("canary").Requests < 40 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	l.setPhase("after")
	time.Sleep(50 * time.Millisecond)
	l.stop()
	c := l.count("canary")
	if total := c.Requests + l.count("after").Requests; total != 40 {
		t.Errorf("%d requests sent, want the limit, 40", total)
	}
	if c.Failed != 0 || c.CanaryFailed != c.CanaryRequests || c.CanaryRequests == 0 {
		t.Errorf("counted %+v: every failure came from the canary (v2), none from v1", c)
	}
	if c.Releases["v1"]+c.Releases["v2"] != c.Requests {
		t.Errorf("answering releases %v do not add up to %d requests", c.Releases, c.Requests)
	}
}

package containers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webclient"
)

// services are the compose services behind HAProxy, two replicas each.
var services = []string{"customer", "employee"}

// waitHealthy waits until Docker reports the container running and healthy.
func waitHealthy(t *testing.T, id string) {
	t.Helper()
	eventually(t, 90*time.Second, 250*time.Millisecond, id[:12]+" healthy", func() error {
		if s := inspectState(t, id); !s.Running || s.Health == nil || s.Health.Status != "healthy" {
			return fmt.Errorf("state %+v", s)
		}
		return nil
	})
}

// testKillReplicas: with steady traffic flowing, one replica of each
// service dies at once (SIGKILL: no goodbye, connections cut mid-request).
// HAProxy retries what never got an answer on the other replica and its
// health checks take the dead one out; no visitor sees a failure. The
// replicas are then started again and rejoin.
func (st *stack) testKillReplicas(t *testing.T) {
	st.waitForServers(t, 2, "before the kill")
	l := startLoad(t, st.steadyTargets(t))
	waitForLoad(t, l, 200)

	var victims []string
	for _, svc := range services {
		victim := st.containers(t, svc)[0]
		victims = append(victims, victim)
	}
	killed := time.Now()
	docker(t, append([]string{"kill"}, victims...)...)
	st.waitForServers(t, 1, "after killing one replica of each")
	t.Logf("HAProxy took both killed replicas out of rotation %v after the kill", time.Since(killed).Round(100*time.Millisecond))
	// Traffic goes on for a while on the survivors alone.
	before := l.sent()
	waitForLoad(t, l, before+300)

	for _, id := range victims {
		if !inspectState(t, id).Running { // the restart policy may have been first
			docker(t, "start", id)
		}
		waitHealthy(t, id)
	}
	st.waitForServers(t, 2, "after starting the killed replicas again")
	waitForLoad(t, l, l.sent()+100)
	l.stop().check(t, "one replica of each service killed")
}

// testRollingRestart: with steady traffic flowing, every replica is stopped
// (SIGTERM, as ECS and compose stop them) and started again, one at a time,
// each back in HAProxy's rotation before the next goes: no visitor sees a
// failure.
func (st *stack) testRollingRestart(t *testing.T) {
	st.waitForServers(t, 2, "before the rolling restart")
	l := startLoad(t, st.steadyTargets(t))
	waitForLoad(t, l, 200)
	for _, svc := range services {
		for _, id := range st.containers(t, svc) {
			start := time.Now()
			docker(t, "stop", "--time", "30", id)
			if s := inspectState(t, id); s.ExitCode != 0 {
				t.Errorf("%s %.12s exited with code %d on SIGTERM, want 0", svc, id, s.ExitCode)
			}
			stopped := time.Since(start)
			docker(t, "start", id)
			waitHealthy(t, id)
			st.waitForServers(t, 2, "after restarting "+svc+" "+id[:12])
			t.Logf("%s %.12s: stopped in %v, back in rotation %v after the stop began", svc, id, stopped.Round(10*time.Millisecond),
				time.Since(start).Round(100*time.Millisecond))
		}
	}
	waitForLoad(t, l, l.sent()+100)
	l.stop().check(t, "rolling restart of all four replicas")
}

// timedFetch is fetch that also says how long the answer took.
func timedFetch(t *testing.T, c *webclient.Client, method, u string, form url.Values) (*http.Response, string, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, body := fetch(t, c, method, u, form)
	return resp, body, time.Since(start)
}

// fromInside fetches path from every replica of service, inside the compose
// network (through HAProxy's container: the services publish no port), and
// returns the status lines.
func (st *stack) fromInside(t *testing.T, service, path string) []string {
	t.Helper()
	var lines []string
	for _, id := range st.containers(t, service) {
		var nets map[string]struct{ IPAddress string }
		if err := json.Unmarshal([]byte(docker(t, "inspect", "--format", "{{json .NetworkSettings.Networks}}", id)), &nets); err != nil {
			t.Fatal(err)
		}
		for _, n := range nets {
			script := fmt.Sprintf(`exec 3<>/dev/tcp/%s/8080 && printf 'GET %s HTTP/1.0\r\n\r\n' >&3 && head -n 1 <&3`, n.IPAddress, path)
			lines = append(lines, strings.TrimSpace(st.run(t, time.Minute, "exec", "-T", "haproxy", "bash", "-c", script)))
		}
	}
	return lines
}

// catalogueMatches is how many suppliers the catalogue's API finds named
// exactly name.
func catalogueMatches(t *testing.T, base, name string) int {
	t.Helper()
	resp, body := fetch(t, browser(t), http.MethodGet, base+"/api/suppliers?q="+url.QueryEscape(name), nil)
	var list struct{ Items []struct{ Name string } }
	if err := json.Unmarshal([]byte(body), &list); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET /api/suppliers?q=%s = %d (%v); body starts %.300q", name, resp.StatusCode, err, body)
	}
	n := 0
	for _, s := range list.Items {
		if s.Name == name {
			n++
		}
	}
	return n
}

// startedAt is when each replica's process last started, and how often
// Docker restarted it.
func (st *stack) startedAt(t *testing.T) map[string]string {
	t.Helper()
	started := map[string]string{}
	for _, svc := range services {
		for _, id := range st.containers(t, svc) {
			started[id] = docker(t, "inspect", "--format", "{{.State.StartedAt}} restarts={{.RestartCount}}", id)
		}
	}
	return started
}

// testDatabaseOutage: the database goes away (down, "stop"; or unreachable,
// "pause": packets go nowhere, the harder case of a hanging network) and
// comes back. Meanwhile the catalogue and the administration answer a
// friendly 503 page (the API a 503 in JSON) instead of hanging; /readyz
// fails on every replica while /healthz stays up, so nothing is restarted
// and HAProxy keeps routing to the replicas; a change attempted then is
// refused and not half-applied. Afterwards everything works again without a
// restart, and what was written before the outage is still there.
func (st *stack) testDatabaseOutage(t *testing.T, down, up string) {
	p := st.production
	visitor := browser(t)
	before := "Before the Outage Roasters " + randomHex(t, 3)
	if resp, body := st.addSupplier(t, p, before); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add a supplier before the outage: %d; body starts %.300q", resp.StatusCode, body)
	}
	token, err := st.admin.FormToken(t.Context(), p+"/admin/supplier-add") // typed in before the outage
	if err != nil {
		t.Fatal(err)
	}
	started := st.startedAt(t)

	st.run(t, 2*time.Minute, down, "db")
	restored := false
	t.Cleanup(func() {
		if !restored { // leave the stack whole for what follows
			_, _ = st.compose(context.Background(), 2*time.Minute, up, "db")
		}
	})

	var slowest time.Duration
	friendly := func(what, u string, c *webclient.Client, want string) {
		t.Helper()
		resp, body, took := timedFetch(t, c, http.MethodGet, u, nil)
		slowest = max(slowest, took)
		t.Logf("database %s: GET %s answered %d in %v", down, strings.TrimPrefix(u, p), resp.StatusCode, took.Round(time.Millisecond))
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, want) {
			t.Errorf("database %s: %s answered %d, want 503 saying %q; body starts %.300q", down, what, resp.StatusCode, want, body)
		}
	}
	const page = "cannot reach its database right now"
	for range 3 { // every replica, whichever HAProxy picks
		friendly("the catalogue", p+"/suppliers", visitor, page)
		friendly("the API", p+"/api/suppliers", visitor, `"status":503`)
		friendly("the administration", p+"/admin/suppliers", st.admin, page)
	}
	during := "During the Outage Roasters " + randomHex(t, 3)
	resp, body, took := timedFetch(t, st.admin, http.MethodPost, p+"/admin/supplier-add", url.Values{
		webclient.CSRFField: {token}, "name": {during}, "address": {"2 Compose Way"}, "city": {"Seattle"},
		"state": {"WA"}, "email": {"beans@example.com"}, "phone": {"+1 206 555 0101"},
	})
	slowest = max(slowest, took)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, page) {
		t.Errorf("database %s: adding a supplier answered %d, want 503 saying %q; body starts %.300q", down, resp.StatusCode, page, body)
	}
	for _, svc := range services {
		for _, line := range st.fromInside(t, svc, "/readyz") {
			if !strings.Contains(line, " 503 ") {
				t.Errorf("database %s: %s's /readyz answered %q, want 503", down, svc, line)
			}
		}
		for _, line := range st.fromInside(t, svc, "/healthz") {
			if !strings.Contains(line, " 200 ") {
				t.Errorf("database %s: %s's /healthz answered %q, want 200 (alive: no restart needed)", down, svc, line)
			}
		}
	}
	t.Logf("database %s: the slowest answer took %v", down, slowest.Round(time.Millisecond))

	st.run(t, 2*time.Minute, up, "db")
	restored = true
	back := time.Now()
	eventually(t, 2*time.Minute, 250*time.Millisecond, "database "+up+": the catalogue answering 200 again", func() error {
		if resp, _ := fetch(t, visitor, http.MethodGet, p+"/suppliers", nil); resp.StatusCode != http.StatusOK {
			return fmt.Errorf("it answers %d", resp.StatusCode)
		}
		return nil
	})
	t.Logf("database %s: the catalogue answered 200 again %v after `docker compose %s db` returned", up, time.Since(back).Round(100*time.Millisecond), up)

	if n := catalogueMatches(t, p, before); n != 1 {
		t.Errorf("database %s: the supplier added before the outage is listed %d times, want once", up, n)
	}
	if n := catalogueMatches(t, p, during); n != 0 {
		t.Errorf("database %s: the supplier refused during the outage is listed %d times, want none", up, n)
	}
	after := "After the Outage Roasters " + randomHex(t, 3)
	if resp, body := st.addSupplier(t, p, after); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("database %s: adding a supplier afterwards answered %d, want 303; body starts %.300q", up, resp.StatusCode, body)
	}
	if n := catalogueMatches(t, p, after); n != 1 {
		t.Errorf("database %s: the supplier added afterwards is listed %d times, want once", up, n)
	}
	for _, svc := range services {
		for _, line := range st.fromInside(t, svc, "/readyz") {
			if !strings.Contains(line, " 200 ") {
				t.Errorf("database %s: %s's /readyz answered %q, want 200", up, svc, line)
			}
		}
	}
	for id, now := range st.startedAt(t) {
		if was := started[id]; was != now {
			t.Errorf("%.12s was restarted during the outage (%s, then %s): the services must recover by themselves", id, was, now)
		}
	}
}

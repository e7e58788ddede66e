package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/infra/internal/standin"
)

func other(color string) string {
	if color == "blue" {
		return "green"
	}
	return "blue"
}

// firstDeploy rehearses the first `make deploy`: the services' tasks start
// before the migration has run; they must stay up (health 200, readiness
// 503) and become ready by themselves once it has. Then the steady load
// starts.
func (r *rehearsal) firstDeploy(ctx context.Context, rel *release) error {
	r.live = "blue"
	r.phase("first deploy " + rel.Name + ": tasks started before the migration")
	r.log("(make deploy creates the services stack before the pipeline's first Migrate stage)")
	for _, svc := range services {
		if _, err := r.startTasks(ctx, rel, svc, r.live, false); err != nil {
			return err
		}
	}
	for _, svc := range services {
		for _, name := range r.tasks[svc+"_"+r.live] {
			if err := waitHealthy(ctx, name); err != nil {
				return fmt.Errorf("before the migration: %w", err)
			}
			code, err := r.readyz(ctx, name, rel.Tasks[svc].Port)
			if err != nil || code != http.StatusServiceUnavailable {
				return fmt.Errorf("before the migration, %s's /readyz answered %d (%v), want 503", name, code, err)
			}
		}
	}
	r.log("every task up before the migration: container health check passing, /readyz 503")
	r.phase("first deploy " + rel.Name + ": the migration")
	if err := r.migrate(ctx, rel); err != nil {
		return err
	}
	for _, svc := range services {
		for _, name := range r.tasks[svc+"_"+r.live] {
			if err := eventually(ctx, time.Minute, func() error {
				code, err := r.readyz(ctx, name, rel.Tasks[svc].Port)
				if err != nil || code != http.StatusOK {
					return fmt.Errorf("%s's /readyz answered %d (%v)", name, code, err)
				}
				return nil
			}); err != nil {
				return fmt.Errorf("after the migration: %w", err)
			}
			restarts, err := standin.Docker(ctx, "inspect", "-f", "{{.RestartCount}} {{.State.Status}}", name)
			if err != nil || restarts != "0 running" {
				return fmt.Errorf("%s: restarts and state %q (%v), want 0 running", name, restarts, err)
			}
		}
		if err := r.registerTasks(ctx, svc, r.live, rel.Tasks[svc].Port); err != nil {
			return err
		}
	}
	r.log("every task ready after the migration, without a restart; registered in the blue target groups")
	r.load = &load{base: r.prodURL, workers: 5, interval: 200 * time.Millisecond, limit: 30000,
		deadline: time.Now().Add(25 * time.Minute), whoServes: r.whoServes}
	name := "first deploy " + rel.Name + ": serving"
	r.phase(name)
	r.load.start(name)
	time.Sleep(5 * time.Second)
	return r.endPhase(name)
}

// release rehearses one CodeDeploy blue/green deployment and returns how
// it ended: promoted, "test listener" or "canary" (rolled back there).
func (r *rehearsal) release(ctx context.Context, rel *release) (string, error) {
	blue, green := r.live, other(r.live)
	// Each step is a phase of the load, named "release: step".
	step := func(key, what string) string {
		n := rel.Name + ": " + key
		if r.load != nil {
			r.load.setPhase(n)
		}
		r.log("== %s — %s", n, what)
		return n
	}

	// The pipeline's Migrate stage, before the deployment: the old release
	// keeps serving on the new schema.
	p := step("migration", "the pipeline's Migrate stage runs the new release's migration; "+blue+" still serves")
	if err := r.migrate(ctx, rel); err != nil {
		return "", err
	}
	time.Sleep(3 * time.Second)
	if err := r.endPhase(p); err != nil {
		return "", err
	}
	if c := r.load.count(p); c.Releases[r.tgRelease["customer_"+blue]] == 0 {
		return "", fmt.Errorf("the old release answered nothing after the new migration")
	}

	p = step("replacement", "CodeDeploy Install: the replacement tasks start in the "+green+" target groups")
	for _, svc := range services {
		if _, err := r.startTasks(ctx, rel, svc, green, true); err != nil {
			return "", err
		}
	}
	r.log("%s healthy in customer_%s and employee_%s; production: 100%% %s", rel.Name, green, green, blue)
	if err := r.endPhase(p); err != nil {
		return "", err
	}

	p = step("test listener", "AllowTestTraffic: the test listener → "+green+"; AfterAllowTestTraffic hook: the release checks")
	for _, svc := range services {
		if err := r.lb.setMap(testMap, svc, svc+"_"+green); err != nil {
			return "", err
		}
	}
	failures := r.releaseChecks(ctx, green)
	// A moment more on the test listener: the load shows production
	// still reaches only the original release.
	time.Sleep(3 * time.Second)
	if err := r.endPhase(p); err != nil {
		return "", err
	}
	if c := r.load.count(p); c.Releases[rel.Name] > 0 {
		return "", fmt.Errorf("%d production requests reached %s before its canary", c.Releases[rel.Name], rel.Name)
	}
	if len(failures) > 0 {
		for _, f := range failures {
			r.log("   release check FAILED: %s", f)
		}
		p = step("rollback", "the hook failed the deployment: test listener → "+blue+", replacement tasks stopped; no production request reached "+rel.Name)
		if err := r.rollback(ctx, blue, green); err != nil {
			return "", err
		}
		return "test listener", r.endPhase(p)
	}
	r.log("release checks passed on the test listener: %d of %d", len(r.checks), len(r.checks))

	p = step("canary", fmt.Sprintf("AllowTraffic, %s: %d%% of production → %s", r.deploy.Name, r.deploy.CanaryPercent, green))
	r.mu.Lock()
	for _, svc := range services {
		r.canaryTG[svc+"_"+green] = true
	}
	r.mu.Unlock()
	for _, svc := range services {
		if err := r.lb.setMap(shareMap, svc, fmt.Sprint(r.deploy.CanaryPercent)); err != nil {
			return "", err
		}
	}
	r.log("weights: customer %s %d / %s %d, employee the same; bake %v (AWS: %v)", blue, 100-r.deploy.CanaryPercent, green,
		r.deploy.CanaryPercent, r.bake, r.deploy.Bake)
	endCanary := func() {
		r.mu.Lock()
		r.canaryTG = map[string]bool{}
		r.mu.Unlock()
	}
	fired, err := r.watchAlarms(ctx, r.bake)
	if err != nil {
		return "", err
	}
	if fired != "" {
		c := r.load.count(p)
		r.log("ALARM %s: CodeDeploy stops the deployment and rolls back (DEPLOYMENT_STOP_ON_ALARM); %d of %d canary requests failed",
			fired, c.CanaryFailed, c.CanaryRequests)
		if err := r.endPhase(p); err != nil {
			return "", err
		}
		p = step("rollback", "all production and test traffic → "+blue+", replacement tasks stopped")
		// Requests the canary answers until it is gone still count as
		// the canary's.
		if err := r.rollback(ctx, blue, green); err != nil {
			return "", err
		}
		endCanary()
		return "canary", r.endPhase(p)
	}
	if err := r.endPhase(p); err != nil {
		return "", err
	}

	p = step("all traffic", "AllowTraffic complete: all traffic → "+green+"; "+blue+" kept for the termination wait")
	for _, svc := range services {
		if err := r.lb.setMap(productionMap, svc, svc+"_"+green); err != nil {
			return "", err
		}
		if err := r.lb.setMap(shareMap, svc, "0"); err != nil {
			return "", err
		}
		if err := r.lb.setMap(candidateMap, svc, svc+"_"+blue); err != nil {
			return "", err
		}
	}
	endCanary()
	r.log("weights: customer %s 0 / %s 100, employee the same; termination wait %v (AWS: %v)", blue, green,
		r.scaled(r.deploy.TerminationWait), r.deploy.TerminationWait)
	fired, err = r.watchAlarms(ctx, r.scaled(r.deploy.TerminationWait))
	if err != nil {
		return "", err
	}
	if fired != "" {
		// CodeDeploy rolls back to the original tasks, still running.
		r.log("ALARM %s: CodeDeploy rolls back to %s", fired, blue)
		for _, svc := range services {
			if err := r.lb.setMap(productionMap, svc, svc+"_"+blue); err != nil {
				return "", err
			}
			if err := r.lb.setMap(candidateMap, svc, svc+"_"+green); err != nil {
				return "", err
			}
		}
		if err := r.rollback(ctx, blue, green); err != nil {
			return "", err
		}
		return "all traffic (rolled back there)", nil
	}
	if err := r.endPhase(p); err != nil {
		return "", err
	}
	p = step("blue stopped", "after the termination wait the original tasks in "+blue+" are drained and stopped")
	for _, svc := range services {
		if err := r.stopTasks(ctx, svc+"_"+blue); err != nil {
			return "", err
		}
	}
	r.live = green
	return "promoted", r.endPhase(p)
}

// rollback sends every listener back to blue and stops green's tasks.
func (r *rehearsal) rollback(ctx context.Context, blue, green string) error {
	for _, svc := range services {
		if err := r.lb.setMap(shareMap, svc, "0"); err != nil {
			return err
		}
		if err := r.lb.setMap(testMap, svc, svc+"_"+blue); err != nil {
			return err
		}
	}
	for _, svc := range services {
		if err := r.stopTasks(ctx, svc+"_"+green); err != nil {
			return err
		}
	}
	time.Sleep(2 * time.Second)
	return nil
}

// releaseChecks runs deployment/release-checks.json against the test
// listener, as the AfterAllowTestTraffic hook does, and checks each answer
// came from the replacement's target group.
func (r *rehearsal) releaseChecks(ctx context.Context, green string) []string {
	client := http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var failures []string
	for _, c := range r.checks {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.testURL+c.Path, nil)
		if err != nil {
			failures = append(failures, err.Error())
			continue
		}
		resp, err := client.Do(req)
		if err != nil {
			failures = append(failures, fmt.Sprintf("GET %s: %v", c.Path, err))
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		svc := "customer"
		if c.Path == "/admin" || strings.HasPrefix(c.Path, "/admin/") {
			svc = "employee"
		}
		switch {
		case resp.StatusCode != c.Status:
			failures = append(failures, fmt.Sprintf("GET %s answered %d, want %d", c.Path, resp.StatusCode, c.Status))
		case !strings.Contains(string(body), c.Marker):
			failures = append(failures, fmt.Sprintf("GET %s lacks %q", c.Path, c.Marker))
		case resp.Header.Get("X-Target-Group") != svc+"_"+green:
			failures = append(failures, fmt.Sprintf("GET %s was answered by %q, want %s_%s", c.Path, resp.Header.Get("X-Target-Group"), svc, green))
		default:
			r.log("   release check GET %s: %d, %q found, answered by %s", c.Path, resp.StatusCode, c.Marker, svc+"_"+green)
		}
	}
	return failures
}

// watchAlarms evaluates the rollback alarms every (shortened) period for
// d and returns the first that fires.
func (r *rehearsal) watchAlarms(ctx context.Context, d time.Duration) (string, error) {
	// All alarms share one period in the templates; evaluate on the
	// shortest.
	period := r.alarms[0].Period
	for _, a := range r.alarms {
		period = min(period, a.Period)
	}
	step := r.scaled(period)
	history := map[string][]bool{}
	prev, err := r.lb.stats()
	if err != nil {
		return "", err
	}
	windowStart := time.Now()
	for end := time.Now().Add(d); time.Now().Before(end); {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(step):
		}
		now, err := r.lb.stats()
		if err != nil {
			return "", err
		}
		var values []string
		var fired string
		for _, a := range r.alarms {
			backend := a.Service + "_" + a.TargetGroup
			var v float64
			var text string
			switch a.Metric {
			case "HTTPCode_Target_5XX_Count":
				// The window's count, as a count per the template's period.
				n := now[backend+"/BACKEND"].int("hrsp_5xx") - prev[backend+"/BACKEND"].int("hrsp_5xx")
				v = float64(n) * a.Period.Seconds() / step.Seconds()
				text = fmt.Sprintf("5xx %d (%.0f/%v)", n, v, a.Period)
			case "TargetResponseTime":
				v = percentile(r.load.latencies(backend, windowStart), 99).Seconds()
				text = fmt.Sprintf("p99 %.3fs", v)
			case "UnHealthyHostCount":
				for i := 1; i <= slots; i++ {
					if strings.HasPrefix(now[fmt.Sprintf("%s/task%d", backend, i)]["status"], "DOWN") {
						v++
					}
				}
				text = fmt.Sprintf("unhealthy %.0f", v)
			}
			h := append(history[a.Name], v > a.Threshold)
			history[a.Name] = h
			if v > 0 || a.Metric == "HTTPCode_Target_5XX_Count" {
				values = append(values, backend+" "+text)
			}
			if len(h) >= a.Evaluations && fired == "" {
				all := true
				for _, b := range h[len(h)-a.Evaluations:] {
					all = all && b
				}
				if all {
					fired = fmt.Sprintf("%s (%s > %g for %d periods)", a.Name, text, a.Threshold, a.Evaluations)
				}
			}
		}
		r.log("   alarms: %s", strings.Join(values, "; "))
		if fired != "" {
			return fired, nil
		}
		prev, windowStart = now, time.Now()
	}
	return "", nil
}

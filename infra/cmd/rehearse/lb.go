package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// The load balancer: HAProxy with the ALB's two listeners and, per service,
// two backends standing in for the blue and green target groups. Which
// target group each listener forwards to, and the canary's share, live in
// maps the rehearsal changes at run time through HAProxy's runtime API, as
// CodeDeploy changes the listeners' weighted forward actions: no reload,
// so no connection is ever dropped by the switch itself. Targets are
// registered and deregistered the same way (set server addr / state), as
// ECS registers each task's address and port with a target group.
const (
	mapDir        = "/usr/local/etc/haproxy"
	productionMap = mapDir + "/production.map" // service → the live target group's backend
	candidateMap  = mapDir + "/candidate.map"  // service → the replacement's backend
	shareMap      = mapDir + "/share.map"      // service → % of production traffic to the replacement
	testMap       = mapDir + "/test.map"       // service → the test listener's backend
	slots         = 4                          // server slots per target group
	runtimePort   = 9999
)

var services = []string{"customer", "employee"}

// haproxyConfig is the rehearsal's load balancer configuration. The
// listener rules are loadbalancer/haproxy.cfg's (path /admin or /admin/*
// to the employee service); healthPath is each service's target groups'
// health check path.
func haproxyConfig(healthPath map[string]string) string {
	var b strings.Builder
	b.WriteString(`# Written by make rehearse (infra/cmd/rehearse): the ALB stand-in with
# blue and green target groups per service, switched through the runtime API.
global
    log stdout format raw local0 info
    hard-stop-after 10s
    stats socket ipv4@0.0.0.0:9999 level admin

defaults
    mode http
    log global
    option dontlognull
    option forwardfor
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 5s
    timeout queue 5s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
    default-server check inter 2s fall 2 rise 2

frontend production
    bind :80
    acl employee_path path /admin
    acl employee_path path_beg /admin/
    http-request set-var(txn.service) str(employee) if employee_path
    http-request set-var(txn.service) str(customer) unless employee_path
    # The canary: share % of the requests go to the replacement.
    http-request set-var(txn.share) var(txn.service),map_str_int(` + shareMap + `,0)
    http-request set-var(txn.roll) rand(100)
    acl to_candidate var(txn.share),sub(txn.roll) gt 0
    use_backend %[var(txn.service),map(` + candidateMap + `)] if to_candidate
    use_backend %[var(txn.service),map(` + productionMap + `)]

frontend test
    bind :8080
    acl employee_path path /admin
    acl employee_path path_beg /admin/
    http-request set-var(txn.service) str(employee) if employee_path
    http-request set-var(txn.service) str(customer) unless employee_path
    use_backend %[var(txn.service),map(` + testMap + `)]
`)
	for _, svc := range services {
		for _, color := range []string{"blue", "green"} {
			be := svc + "_" + color
			fmt.Fprintf(&b, `
backend %s
    balance roundrobin
    option httpchk GET %s
    http-check expect status 200
    http-request disable-l7-retry unless METH_GET || METH_OPTIONS
    # Which target group answered: the rehearsal's load counts it.
    http-response set-header X-Target-Group %s
`, be, healthPath[svc], be)
			for i := 1; i <= slots; i++ {
				fmt.Fprintf(&b, "    server task%d 127.0.0.1:1 disabled\n", i)
			}
		}
	}
	return b.String()
}

// initialMaps: production and test traffic to blue, no canary.
func initialMaps() map[string]string {
	files := map[string]string{}
	for _, svc := range services {
		files["production.map"] += svc + " " + svc + "_blue\n"
		files["candidate.map"] += svc + " " + svc + "_green\n"
		files["share.map"] += svc + " 0\n"
		files["test.map"] += svc + " " + svc + "_blue\n"
	}
	return files
}

// lb talks to HAProxy's runtime API.
type lb struct{ addr string }

// cmd runs one runtime API command and returns its answer.
func (l lb) cmd(command string) (string, error) {
	conn, err := net.DialTimeout("tcp", l.addr, 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("HAProxy runtime API: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, command+"\n"); err != nil {
		return "", fmt.Errorf("HAProxy runtime API %q: %w", command, err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return "", fmt.Errorf("HAProxy runtime API %q: %w", command, err)
	}
	answer := strings.TrimSpace(string(out))
	// Commands that change state answer nothing, or a message on failure.
	if !strings.HasPrefix(command, "show ") && answer != "" {
		return answer, fmt.Errorf("HAProxy runtime API %q: %s", command, answer)
	}
	return answer, nil
}

func (l lb) setMap(file, key, value string) error {
	_, err := l.cmd(fmt.Sprintf("set map %s %s %s", file, key, value))
	return err
}

// register points a server slot of a target group at a task and enables
// it; HAProxy's health checks then decide when it takes traffic.
func (l lb) register(backend string, slot int, ip string, port int) error {
	if _, err := l.cmd(fmt.Sprintf("set server %s/task%d addr %s port %d", backend, slot, ip, port)); err != nil &&
		!strings.Contains(err.Error(), "changed from") && !strings.Contains(err.Error(), "no need to change") {
		return err
	}
	_, err := l.cmd(fmt.Sprintf("set server %s/task%d state ready", backend, slot))
	return err
}

// drain stops new requests to a slot (the target group's deregistration);
// deregister then takes it out entirely.
func (l lb) drain(backend string, slot int) error {
	_, err := l.cmd(fmt.Sprintf("set server %s/task%d state drain", backend, slot))
	return err
}

func (l lb) deregister(backend string, slot int) error {
	_, err := l.cmd(fmt.Sprintf("set server %s/task%d state maint", backend, slot))
	return err
}

// stat is HAProxy's statistics, one row per backend or server.
type stat map[string]string

// stats returns `show stat`, keyed "backend/server" (server BACKEND for a
// backend's totals).
func (l lb) stats() (map[string]stat, error) {
	out, err := l.cmd("show stat")
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# "))).ReadAll()
	if err != nil || len(rows) < 1 {
		return nil, fmt.Errorf("HAProxy show stat: %v", err)
	}
	all := map[string]stat{}
	for _, row := range rows[1:] {
		s := stat{}
		for i, h := range rows[0] {
			if i < len(row) {
				s[h] = row[i]
			}
		}
		all[s["pxname"]+"/"+s["svname"]] = s
	}
	return all, nil
}

func (s stat) int(field string) int {
	n, _ := strconv.Atoi(s[field])
	return n
}

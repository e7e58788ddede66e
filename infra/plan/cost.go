package plan

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Price is one list price.
type Price struct {
	USD    float64 `json:"usd"`
	Unit   string  `json:"unit"`
	Free   float64 `json:"free,omitempty"` // a monthly allowance that never expires
	Source string  `json:"source"`
	Note   string  `json:"note,omitempty"`
}

// PriceTable is a region's prices, dated.
type PriceTable struct {
	Region   string           `json:"region"`
	AsOf     string           `json:"as_of"`
	Currency string           `json:"currency"`
	Note     string           `json:"note"`
	Prices   map[string]Price `json:"prices"`
}

// Assumption is a figure the templates cannot give, and why it is what it is.
type Assumption struct {
	Value float64 `json:"value"`
	Why   string  `json:"why"`
}

// Assumptions are the estimate's inputs beyond the templates.
type Assumptions struct {
	Note   string                `json:"note"`
	Values map[string]Assumption `json:"assumptions"`
}

// readJSON decodes the file at path into v, refusing unknown fields.
func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	d := json.NewDecoder(f)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// LoadPrices reads a price table.
func LoadPrices(path string) (*PriceTable, error) {
	var t PriceTable
	return &t, readJSON(path, &t)
}

// LoadAssumptions reads an assumptions file.
func LoadAssumptions(path string) (*Assumptions, error) {
	var a Assumptions
	return &a, readJSON(path, &a)
}

// LineItem is one row of the estimate: a quantity at a price.
type LineItem struct {
	Service  string  `json:"service"`
	Item     string  `json:"item"`
	Quantity float64 `json:"quantity"` // billed, after any free allowance
	Unit     string  `json:"unit"`
	USD      float64 `json:"unit_usd"`
	Monthly  float64 `json:"monthly_usd"`
	PriceKey string  `json:"price"`
	How      string  `json:"how"` // where the quantity comes from
}

// Variant is a configuration the estimate compares with the baseline.
type Variant struct {
	Name string `json:"name"`
	// Graviton runs the tasks on ARM64; Spot runs the catalogue's tasks on
	// Fargate Spot, which takes x86_64 tasks only (so with both, the
	// catalogue stays x86_64 and the rest runs on Graviton).
	Graviton bool `json:"graviton"`
	Spot     bool `json:"spot_catalogue"`
	// Egress and MultiAZ override the templates' parameters; empty keeps
	// the environment's.
	Egress  string `json:"egress,omitempty"`
	MultiAZ string `json:"multi_az,omitempty"`
	// Traffic multiplies the assumed requests.
	Traffic float64 `json:"traffic"`
}

// Estimate is the monthly cost of a platform under a variant.
type Estimate struct {
	Variant Variant    `json:"variant"`
	Items   []LineItem `json:"items"`
	Monthly float64    `json:"monthly_usd"`
	// Tasks is the average number of running tasks per service.
	Tasks map[string]float64 `json:"average_tasks"`
}

// Yearly is twelve months at this month's figures.
func (e *Estimate) Yearly() float64 { return 12 * e.Monthly }

// estimator holds what every line item needs.
type estimator struct {
	p       *Platform
	prices  *PriceTable
	a       *Assumptions
	v       Variant
	items   []LineItem
	missing []string
}

func (e *estimator) assume(key string) float64 {
	a, ok := e.a.Values[key]
	if !ok {
		e.missing = append(e.missing, "assumption "+key)
	}
	return a.Value
}

// add prices quantity (before any free allowance) of priceKey.
func (e *estimator) add(service, item, priceKey string, quantity float64, how string) {
	pr, ok := e.prices.Prices[priceKey]
	if !ok {
		e.missing = append(e.missing, "price "+priceKey)
		return
	}
	if pr.Free > 0 {
		how += fmt.Sprintf(", less %s free", trimFloat(pr.Free))
		quantity = math.Max(0, quantity-pr.Free)
	}
	e.items = append(e.items, LineItem{
		Service: service, Item: item, Quantity: quantity, Unit: pr.Unit, USD: pr.USD,
		Monthly: quantity * pr.USD, PriceKey: priceKey, How: how,
	})
}

// trimFloat formats a quantity without needless decimals.
func trimFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// traffic is a service's request rates in the peak and the quiet hours.
type traffic struct {
	peakHours, quietHours   float64 // per month
	peakPerMin, quietPerMin float64 // requests per minute
	monthly                 float64
}

func (e *estimator) traffic(service string) traffic {
	hours := e.assume("hours_per_month")
	peakShare := e.assume("peak_share_of_requests")
	t := traffic{monthly: e.assume("requests_per_month."+service) * e.v.Traffic}
	t.peakHours = hours * e.assume("peak_hours_per_day") / 24
	t.quietHours = hours - t.peakHours
	t.peakPerMin = t.monthly * peakShare / (t.peakHours * 60)
	t.quietPerMin = t.monthly * (1 - peakShare) / (t.quietHours * 60)
	return t
}

// tasksFor is how many tasks auto scaling keeps for perMinute requests:
// enough for both target tracking policies (requests per task, and CPU at
// its target), within the service's bounds.
func (e *estimator) tasksFor(s Service, perMinute float64) int {
	byRequests := math.Ceil(perMinute / s.RequestsPerTask)
	cpuSeconds := perMinute / 60 * e.assume("cpu_seconds_per_1000_requests."+s.Name) / 1000
	byCPU := math.Ceil(cpuSeconds / (s.VCPU() * s.CPUTarget / 100))
	return min(max(int(byRequests), int(byCPU), s.MinTasks), s.MaxTasks)
}

// shiftMinutes is how long a CodeDeploy ECS configuration takes to move all
// traffic: the canary's wait (ECSCanary10Percent5Minutes: 5), or a linear
// configuration's steps (ECSLinear10PercentEvery3Minutes: 9 steps of 3).
func shiftMinutes(config string) float64 {
	if m := regexp.MustCompile(`Linear(\d+)PercentEvery(\d+)Minutes?$`).FindStringSubmatch(config); m != nil {
		pct, _ := strconv.Atoi(m[1])
		every, _ := strconv.Atoi(m[2])
		return float64((100/max(pct, 1) - 1) * every)
	}
	if m := regexp.MustCompile(`Canary\d+Percent(\d+)Minutes?$`).FindStringSubmatch(config); m != nil {
		n, _ := strconv.Atoi(m[1])
		return float64(n)
	}
	return 0 // all at once
}

// EstimateCost prices platform p under variant v, line by line. The
// variant's Egress and MultiAZ must already be in p (Load with them as
// overrides); Graviton, Spot and Traffic are applied here.
func EstimateCost(p *Platform, prices *PriceTable, a *Assumptions, v Variant) (*Estimate, error) {
	if v.Traffic <= 0 {
		v.Traffic = 1
	}
	e := &estimator{p: p, prices: prices, a: a, v: v}
	est := &Estimate{Variant: v, Tasks: map[string]float64{}}
	hours := e.assume("hours_per_month")

	// Compute: each service's task-hours, the quiet and the peak hours
	// apart, as auto scaling would run them.
	var taskStarts, requests, responseGB, dbGB, lcuHours float64
	var deploys, deployMinutes, agentGB float64
	peakPerMin, quietPerMin := 0.0, 0.0
	for _, s := range p.Services {
		t := e.traffic(s.Name)
		peakTasks, quietTasks := e.tasksFor(s, t.peakPerMin), e.tasksFor(s, t.quietPerMin)
		taskHours := float64(peakTasks)*t.peakHours + float64(quietTasks)*t.quietHours
		est.Tasks[s.Name] = taskHours / hours
		arch, kind := "x86_64", "on-demand"
		// ARM64 as the parameter file gives the service, or as the variant.
		if v.Graviton || s.Arch == "ARM64" {
			arch = "arm64"
		}
		vcpuKey, gbKey := "fargate_vcpu_hour_"+arch, "fargate_gb_hour_"+arch
		if v.Spot && s.Name == "customer" {
			// Fargate Spot runs x86_64 tasks only, Graviton or not.
			arch, kind = "x86_64", "Spot"
			vcpuKey, gbKey = "fargate_spot_vcpu_hour_x86_64", "fargate_spot_gb_hour_x86_64"
		}
		how := fmt.Sprintf("%d tasks in the %s peak hours, %d in the other %s (%s req/min vs %s; bounds %d-%d), %s %s",
			peakTasks, trimFloat(math.Round(t.peakHours)), quietTasks, trimFloat(math.Round(t.quietHours)),
			trimFloat(math.Round(t.peakPerMin)), trimFloat(math.Round(t.quietPerMin)), s.MinTasks, s.MaxTasks, arch, kind)
		e.add(s.Name, "Fargate vCPU", vcpuKey, taskHours*s.VCPU(), fmt.Sprintf("%s task-hours x %s vCPU: %s", trimFloat(taskHours), trimFloat(s.VCPU()), how))
		e.add(s.Name, "Fargate memory", gbKey, taskHours*s.MemoryGB(), fmt.Sprintf("%s task-hours x %s GB", trimFloat(taskHours), trimFloat(s.MemoryGB())))

		releases := e.assume("deployments_per_month." + s.Name)
		deploys += releases
		deployMinutes += releases * (shiftMinutes(s.Deployment) + p.TerminationWaitMinutes + e.assume("deploy_overhead_minutes"))
		taskStarts += releases*float64(s.MinTasks) + e.assume("task_replacements_per_month")
		if slices.Contains(s.Containers, "cloudwatch-agent") {
			agentGB += est.Tasks[s.Name] * hours / 24 * e.assume("agent_log_mb_per_task_day") / 1000
		}
		requests += t.monthly
		responseGB += t.monthly * e.assume("response_kb."+s.Name) / 1e6
		dbGB += t.monthly * e.assume("db_kb_per_request") / 1e6
		peakPerMin += t.peakPerMin
		quietPerMin += t.quietPerMin
	}

	// The load balancer: hours, and LCUs from its busiest dimension in each
	// part of the day (new connections 25/s, active 3,000, processed bytes
	// 1 GB/h per LCU; one rule, within the 10 free evaluations).
	lcus := func(perMin float64) float64 {
		newPerSec := perMin / 60 / e.assume("requests_per_connection")
		active := newPerSec * e.assume("connection_seconds")
		gbPerHour := perMin * 60 * responseGB / math.Max(requests, 1)
		return math.Max(newPerSec/25, math.Max(active/3000, gbPerHour))
	}
	t0 := e.traffic(p.Services[0].Name)
	lcuHours = lcus(peakPerMin)*t0.peakHours + lcus(quietPerMin)*t0.quietHours
	e.add("load balancer", "ALB hours", "alb_hour", hours, "one load balancer, all month")
	e.add("load balancer", "ALB capacity units", "alb_lcu_hour", lcuHours,
		fmt.Sprintf("%s req/min at peak, %s quiet: new connections, active connections and bytes, the largest", trimFloat(math.Round(peakPerMin)), trimFloat(math.Round(quietPerMin))))

	// The database.
	db := p.Database
	az, storageKey := "", "rds_gp3_gb_month"
	if db.MultiAZ {
		az, storageKey = "_multi_az", "rds_gp3_gb_month_multi_az"
	}
	e.add("database", "RDS "+db.Class+map[bool]string{true: " Multi-AZ", false: " single-AZ"}[db.MultiAZ],
		"rds_mysql_hour_"+db.Class+az, hours, db.Engine+" "+db.Version+", all month")
	e.add("database", "RDS storage ("+db.StorageType+")", storageKey, float64(db.StorageGB), "allocated storage")
	backupGB := e.assume("db_gb") * (1 + e.assume("backup_daily_change")*float64(db.BackupRetentionDays))
	e.add("database", "RDS backups", "rds_backup_gb_month", math.Max(0, backupGB-float64(db.StorageGB)),
		fmt.Sprintf("%s GB of snapshots over %d days, the first %d GB free", trimFloat(math.Round(backupGB*10)/10), db.BackupRetentionDays, db.StorageGB))

	// Logs, which also decide what egress processes.
	logGB := requests * e.assume("log_bytes_per_request") / 1e9
	buildRuns := 2 * deploys // a build and a migration per release
	buildLogGB := buildRuns * e.assume("build_log_mb_per_run") / 1000
	ingestGB := logGB + agentGB + buildLogGB
	retention := 0.0
	for _, g := range p.LogGroups {
		retention = math.Max(retention, float64(g.RetentionDays))
	}
	imagesGB := taskStarts * (e.assume("image_mb") + e.assume("agent_image_mb")) / 1000

	// Egress from the private subnets: a NAT gateway, or endpoints.
	if p.NatGateways > 0 {
		e.add("network", "NAT gateway hours", "nat_gateway_hour", float64(p.NatGateways)*hours, fmt.Sprintf("%d NAT gateway", p.NatGateways))
		e.add("network", "NAT gateway data", "nat_gateway_gb", imagesGB+ingestGB,
			fmt.Sprintf("image pulls (%s task starts) and logs", trimFloat(math.Round(taskStarts))))
	}
	if n := len(p.InterfaceEndpoints); n > 0 {
		e.add("network", "VPC interface endpoints", "vpc_interface_endpoint_hour", float64(n*p.AZs)*hours,
			fmt.Sprintf("%d endpoints (%s) x %d zones; S3 through a free gateway endpoint", n, strings.Join(p.InterfaceEndpoints, ", "), p.AZs))
		e.add("network", "VPC endpoint data", "vpc_interface_endpoint_gb", ingestGB+taskStarts*0.001,
			"logs and ECR API calls (image layers come from S3, free)")
	}
	publicIPs := p.AZs + p.ElasticIPs // the ALB has one address per zone
	e.add("network", "Public IPv4 addresses", "public_ipv4_hour", float64(publicIPs)*hours,
		fmt.Sprintf("%d for the load balancer (one per zone), %d for NAT", p.AZs, p.ElasticIPs))
	e.add("network", "Data transfer out", "data_transfer_out_gb", responseGB, fmt.Sprintf("%s responses", trimFloat(requests)))
	e.add("network", "Data transfer between zones", "data_transfer_inter_az_gb", dbGB/2,
		"half the tasks talk to the database in the other zone")

	e.add("monitoring", "CloudWatch Logs ingestion", "cloudwatch_logs_ingest_gb", ingestGB,
		fmt.Sprintf("request logs %s GB, agent %s GB, builds %s GB", trimFloat(round2(logGB)), trimFloat(round2(agentGB)), trimFloat(round2(buildLogGB))))
	e.add("monitoring", "CloudWatch Logs storage", "cloudwatch_logs_storage_gb_month",
		ingestGB*e.assume("log_archive_ratio")*math.Min(retention, 365)/30.4,
		fmt.Sprintf("%s days kept, compressed", trimFloat(retention)))
	metrics := float64(len(p.Services))*(e.assume("metrics_per_service")+e.assume("container_insights_metrics_per_service")) +
		e.assume("container_insights_metrics_per_cluster")
	e.add("monitoring", "CloudWatch metrics", "cloudwatch_metric_month", metrics, "Prometheus metrics through the agent and Container Insights")
	e.add("monitoring", "CloudWatch alarms", "cloudwatch_alarm_month", float64(p.Alarms), "the monitoring stack's alarms")
	e.add("monitoring", "CloudWatch dashboards", "cloudwatch_dashboard_month", float64(p.Dashboards), "the monitoring stack's dashboard")

	e.add("registry", "ECR storage", "ecr_storage_gb_month", float64(len(p.Repositories)*p.KeepImages)*e.assume("image_mb")/1000,
		fmt.Sprintf("%d repositories x %d images kept", len(p.Repositories), p.KeepImages))

	// Delivery: pipeline action minutes and build minutes per release.
	actionMinutes := deploys*(e.assume("source_minutes")+e.assume("build_minutes")+e.assume("migrate_minutes")) + deployMinutes
	e.add("delivery", "CodePipeline V2 action minutes", "codepipeline_v2_action_minute", actionMinutes,
		fmt.Sprintf("%s releases: source, build, migrate, and the blue/green deploy (canary + %s min wait)", trimFloat(deploys), trimFloat(p.TerminationWaitMinutes)))
	for _, b := range p.BuildProjects {
		minutes, what := e.assume("build_minutes")*deploys/float64(len(p.Services)), "tests, image, push"
		if b.InVPC {
			minutes, what = e.assume("migrate_minutes")*deploys, "migrations, in the VPC"
		}
		e.add("delivery", "CodeBuild "+b.Resource, "codebuild_minute_"+b.ComputeType, minutes, what)
	}
	e.add("delivery", "S3 artifacts", "s3_standard_gb_month", e.assume("artifact_gb"), "pipeline artifacts")
	if p.Source == "CodeCommit" {
		e.add("delivery", "CodeCommit users", "codecommit_user_month", e.assume("codecommit_users"), "active users")
	}

	secrets := float64(len(p.Secrets))
	if db.ManagedMasterSecret {
		secrets++
	}
	e.add("secrets", "Secrets Manager secrets", "secretsmanager_secret_month", secrets, "the data stack's secrets and RDS's master secret")
	if p.KMSKeys > 0 {
		// Yearly rotation adds $1 a month at each of the first two
		// rotations; this is the first year. Alarm notifications use a few
		// requests, within KMS's 20,000 free a month.
		e.add("secrets", "KMS keys", "kms_key_month", float64(p.KMSKeys), "customer managed keys (the alarm topic's), in their first year")
	}
	e.add("secrets", "Secrets Manager API calls", "secretsmanager_10k_calls", (taskStarts*3+buildRuns*4)/10000,
		"read at each task start and migration")

	if len(e.missing) > 0 {
		return nil, fmt.Errorf("the estimate needs %s", strings.Join(e.missing, ", "))
	}
	est.Items = e.items
	for _, it := range est.Items {
		est.Monthly += it.Monthly
	}
	return est, nil
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

package plan

import (
	"math"
	"strings"
	"testing"
)

// handPlatform is a small platform whose figures are easy to check by hand.
func handPlatform() *Platform {
	return &Platform{
		Env: "hand", AZs: 2, Egress: "NatGateway", NatGateways: 1, ElasticIPs: 1,
		Services: []Service{
			{Name: "customer", CPU: 256, MemoryMiB: 512, Arch: "X86_64", Containers: []string{"customer", "cloudwatch-agent"},
				MinTasks: 2, MaxTasks: 6, CPUTarget: 60, RequestsPerTask: 500, Deployment: "CodeDeployDefault.ECSCanary10Percent5Minutes"},
			{Name: "employee", CPU: 512, MemoryMiB: 1024, Arch: "X86_64", Containers: []string{"employee"},
				MinTasks: 2, MaxTasks: 4, CPUTarget: 60, RequestsPerTask: 500, Deployment: "CodeDeployDefault.ECSAllAtOnce"},
		},
		Database:     Database{Engine: "mysql", Version: "8.4", Class: "db.t4g.small", StorageType: "gp3", StorageGB: 20, MultiAZ: true, BackupRetentionDays: 14, ManagedMasterSecret: true},
		Secrets:      []string{"a", "b", "c", "d"},
		Repositories: []string{"customer", "employee"}, KeepImages: 30,
		LogGroups: []LogGroup{{"logs", 30}},
		Source:    "CodeCommit",
		Pipelines: []Pipeline{{Name: "p", Type: "V2", Stages: []string{"Source", "Build", "Migrate", "Deploy"}}},
		BuildProjects: []BuildProject{
			{Resource: "Build", ComputeType: "BUILD_GENERAL1_MEDIUM"},
			{Resource: "Migrate", ComputeType: "BUILD_GENERAL1_SMALL", InVPC: true},
		},
		TerminationWaitMinutes: 10, Alarms: 19, Dashboards: 1, Topics: 1, KMSKeys: 2,
	}
}

// handPrices are round prices, so every expected figure below is plain
// arithmetic.
func handPrices() *PriceTable {
	p := map[string]Price{
		"fargate_vcpu_hour_x86_64": {USD: 0.04}, "fargate_gb_hour_x86_64": {USD: 0.004},
		"fargate_vcpu_hour_arm64": {USD: 0.03}, "fargate_gb_hour_arm64": {USD: 0.003},
		"fargate_spot_vcpu_hour_x86_64": {USD: 0.01}, "fargate_spot_gb_hour_x86_64": {USD: 0.001},
		"alb_hour": {USD: 0.02}, "alb_lcu_hour": {USD: 0.01},
		"rds_mysql_hour_db.t4g.small": {USD: 0.03}, "rds_mysql_hour_db.t4g.small_multi_az": {USD: 0.06},
		"rds_gp3_gb_month": {USD: 0.1}, "rds_gp3_gb_month_multi_az": {USD: 0.2}, "rds_backup_gb_month": {USD: 0.1},
		"nat_gateway_hour": {USD: 0.05}, "nat_gateway_gb": {USD: 0.05},
		"vpc_interface_endpoint_hour": {USD: 0.01}, "vpc_interface_endpoint_gb": {USD: 0.01},
		"public_ipv4_hour":          {USD: 0.005},
		"cloudwatch_logs_ingest_gb": {USD: 0.5, Free: 5}, "cloudwatch_logs_storage_gb_month": {USD: 0.03},
		"cloudwatch_metric_month": {USD: 0.3, Free: 10}, "cloudwatch_alarm_month": {USD: 0.1, Free: 10},
		"cloudwatch_dashboard_month": {USD: 3, Free: 3}, "ecr_storage_gb_month": {USD: 0.1},
		"codepipeline_v2_action_minute":         {USD: 0.002, Free: 100},
		"codebuild_minute_BUILD_GENERAL1_SMALL": {USD: 0.005, Free: 100}, "codebuild_minute_BUILD_GENERAL1_MEDIUM": {USD: 0.01},
		"secretsmanager_secret_month": {USD: 0.4}, "secretsmanager_10k_calls": {USD: 0.05},
		"data_transfer_out_gb": {USD: 0.09, Free: 100}, "data_transfer_inter_az_gb": {USD: 0.02},
		"s3_standard_gb_month": {USD: 0.02}, "codecommit_user_month": {USD: 1, Free: 5},
		"kms_key_month": {USD: 1},
	}
	return &PriceTable{Region: "test-1", AsOf: "2026-01-01", Prices: p}
}

// handAssumptions: 720 hours a month, 6 of 24 hours busy with half the
// requests, so peak hours are 180 and quiet 540.
func handAssumptions() *Assumptions {
	v := map[string]float64{
		"hours_per_month": 720, "peak_hours_per_day": 6, "peak_share_of_requests": 0.5,
		// customer: 10.8M requests: peak 5.4M / (180 h x 60) = 500/min, quiet 5.4M / (540 x 60) = 166.7/min.
		"requests_per_month.customer": 10_800_000, "requests_per_month.employee": 108_000,
		"response_kb.customer": 20, "response_kb.employee": 10,
		"requests_per_connection": 5, "connection_seconds": 6,
		"cpu_seconds_per_1000_requests.customer": 1, "cpu_seconds_per_1000_requests.employee": 1,
		"log_bytes_per_request": 500, "agent_log_mb_per_task_day": 3, "log_archive_ratio": 0.2, "build_log_mb_per_run": 5,
		"db_kb_per_request": 10, "db_gb": 30, "backup_daily_change": 0.05,
		"metrics_per_service": 9, "container_insights_metrics_per_service": 11, "container_insights_metrics_per_cluster": 8,
		"image_mb": 20, "agent_image_mb": 80,
		"deployments_per_month.customer": 10, "deployments_per_month.employee": 5,
		"task_replacements_per_month": 4,
		"source_minutes":              1, "build_minutes": 6, "migrate_minutes": 2, "deploy_overhead_minutes": 4,
		"artifact_gb": 2, "codecommit_users": 7,
	}
	a := &Assumptions{Values: map[string]Assumption{}}
	for k, x := range v {
		a.Values[k] = Assumption{Value: x}
	}
	return a
}

func estimate(t *testing.T, p *Platform, v Variant) *Estimate {
	t.Helper()
	e, err := EstimateCost(p, handPrices(), handAssumptions(), v)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// monthly is the named line item's monthly cost, failing when it is missing.
func monthly(t *testing.T, e *Estimate, service, item string) float64 {
	t.Helper()
	for _, it := range e.Items {
		if it.Service == service && it.Item == item {
			return it.Monthly
		}
	}
	t.Fatalf("no line item %s / %s in %+v", service, item, e.Items)
	return 0
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }

// TestLineItems checks each line item against figures worked out by hand.
func TestLineItems(t *testing.T) {
	e := estimate(t, handPlatform(), Variant{Name: "hand"})
	// Customer: 500 req/min at peak needs ceil(500/500) = 1 by requests,
	// ceil(500/60 x 1/1000 / (0.25 x 0.6)) = ceil(0.0556) = 1 by CPU: the
	// minimum of 2 in both parts of the day. 2 x 720 task-hours.
	cases := []struct {
		service, item string
		want          float64
		why           string
	}{
		{"customer", "Fargate vCPU", 1440 * 0.25 * 0.04, "1440 task-hours x 0.25 vCPU x $0.04"},
		{"customer", "Fargate memory", 1440 * 0.5 * 0.004, "1440 task-hours x 0.5 GB x $0.004"},
		{"employee", "Fargate vCPU", 1440 * 0.5 * 0.04, "the minimum 2 tasks, 0.5 vCPU"},
		{"load balancer", "ALB hours", 720 * 0.02, "720 h x $0.02"},
		{"database", "RDS db.t4g.small Multi-AZ", 720 * 0.06, "the Multi-AZ hourly price"},
		{"database", "RDS storage (gp3)", 20 * 0.2, "20 GB at the Multi-AZ storage price"},
		// 30 GB x (1 + 0.05 x 14) = 51 GB of snapshots, 20 free.
		{"database", "RDS backups", 31 * 0.1, "51 GB less the 20 GB provisioned"},
		{"network", "NAT gateway hours", 720 * 0.05, "one NAT gateway"},
		{"network", "Public IPv4 addresses", 3 * 720 * 0.005, "2 for the ALB, 1 for NAT"},
		// 10.8M x 20 KB + 108k x 10 KB = 216 + 1.08 GB, 100 free.
		{"network", "Data transfer out", (216 + 1.08 - 100) * 0.09, "responses less 100 GB free"},
		// (10.8M + 108k) x 10 KB = 109.08 GB, half across zones.
		{"network", "Data transfer between zones", 109.08 / 2 * 0.02, "half the database traffic"},
		// 48 metrics: 2 x (9 + 11) + 8, 10 free.
		{"monitoring", "CloudWatch metrics", 38 * 0.3, "48 less 10 free"},
		{"monitoring", "CloudWatch alarms", 9 * 0.1, "19 less 10 free"},
		{"monitoring", "CloudWatch dashboards", 0, "1 of 3 free"},
		{"registry", "ECR storage", 2 * 30 * 20.0 / 1000 * 0.1, "2 repositories x 30 images x 20 MB"},
		// 15 releases x (1 + 6 + 2) = 135; deploys: customer 10 x (5 canary + 10 wait + 4), employee 5 x (0 + 10 + 4).
		{"delivery", "CodePipeline V2 action minutes", (135 + 190 + 70 - 100) * 0.002, "395 minutes less 100 free"},
		{"delivery", "CodeBuild Build", 6 * 15 / 2.0 * 0.01, "6 minutes per release, per project"},
		{"delivery", "CodeBuild Migrate", 0, "30 minutes, within the 100 free"},
		{"delivery", "S3 artifacts", 2 * 0.02, "2 GB"},
		{"delivery", "CodeCommit users", 2 * 1, "7 users, 5 free"},
		{"secrets", "Secrets Manager secrets", 5 * 0.4, "4 secrets and RDS's master secret"},
		{"secrets", "KMS keys", 2 * 1, "2 customer managed keys at $1 a month each"},
	}
	for _, c := range cases {
		if got := monthly(t, e, c.service, c.item); !near(got, c.want) {
			t.Errorf("%s / %s = %.6f, want %.6f (%s)", c.service, c.item, got, c.want, c.why)
		}
	}
	// The busiest dimension at the peak: 508.33 req/min is 1.694 new
	// connections a second (0.0678 LCU), 10.17 active (0.0034), and
	// 508.33 x 60 x 19.9 KB = 0.6071 GB an hour (0.6071 LCU): bytes.
	perMin := func(monthly, share, hours float64) float64 { return monthly * share / (hours * 60) }
	peak := perMin(10_800_000, 0.5, 180) + perMin(108_000, 0.5, 180)
	quiet := perMin(10_800_000, 0.5, 540) + perMin(108_000, 0.5, 540)
	kbPerRequest := (216 + 1.08) / 10.908 // GB per million requests
	lcu := (peak*60*kbPerRequest/1e6*180 + quiet*60*kbPerRequest/1e6*540) * 0.01
	if got := monthly(t, e, "load balancer", "ALB capacity units"); !near(got, lcu) {
		t.Errorf("ALB capacity units = %.6f, want %.6f (processed bytes dominate)", got, lcu)
	}

	var sum float64
	for _, it := range e.Items {
		sum += it.Monthly
	}
	if !near(e.Monthly, sum) || !near(e.Yearly(), 12*sum) {
		t.Errorf("total %.4f (yearly %.4f), want the items' sum %.4f (x12)", e.Monthly, e.Yearly(), sum)
	}
}

// TestAutoScalingFollowsTraffic: at 10x the catalogue's peak of 500
// requests a minute, 5,000 need 10 tasks by requests per task, above the
// maximum of 6; the quiet hours' 1,667 need 4.
func TestAutoScalingFollowsTraffic(t *testing.T) {
	e := estimate(t, handPlatform(), Variant{Traffic: 10})
	want := (6*180 + 4*540) / 720.0
	if got := e.Tasks["customer"]; !near(got, want) {
		t.Errorf("customer runs %.3f tasks on average, want %.3f", got, want)
	}
	if got, want := monthly(t, e, "customer", "Fargate vCPU"), (6*180+4*540)*0.25*0.04; !near(got, want) {
		t.Errorf("customer vCPU at 10x = %.4f, want %.4f", got, want)
	}
	if got := e.Tasks["employee"]; got != 2 {
		t.Errorf("employee runs %.3f tasks, want its minimum of 2", got)
	}
}

func TestVariants(t *testing.T) {
	p := handPlatform()
	spot := estimate(t, p, Variant{Spot: true, Graviton: true})
	if got, want := monthly(t, spot, "customer", "Fargate vCPU"), 1440*0.25*0.01; !near(got, want) {
		t.Errorf("Spot catalogue vCPU = %.4f, want %.4f at the Spot price", got, want)
	}
	if got, want := monthly(t, spot, "employee", "Fargate vCPU"), 1440*0.5*0.03; !near(got, want) {
		t.Errorf("Graviton administration vCPU = %.4f, want %.4f at the ARM64 price", got, want)
	}
	for _, it := range spot.Items {
		if it.Service == "customer" && !strings.Contains(it.PriceKey, "spot") {
			t.Errorf("the Spot catalogue is billed at %s: Fargate Spot runs x86_64 only", it.PriceKey)
		}
	}

	// Endpoints instead of a NAT gateway: no NAT line, four interface
	// endpoints in two zones, no NAT address.
	p.Egress, p.NatGateways, p.ElasticIPs = "VpcEndpoints", 0, 0
	p.InterfaceEndpoints, p.GatewayEndpoints = []string{"ecr.api", "ecr.dkr", "logs", "secretsmanager"}, []string{"s3"}
	e := estimate(t, p, Variant{})
	for _, it := range e.Items {
		if strings.HasPrefix(it.Item, "NAT") {
			t.Errorf("VPC endpoints but a %s line", it.Item)
		}
	}
	if got, want := monthly(t, e, "network", "VPC interface endpoints"), 4*2*720*0.01; !near(got, want) {
		t.Errorf("endpoints = %.4f, want %.4f", got, want)
	}
	if got, want := monthly(t, e, "network", "Public IPv4 addresses"), 2*720*0.005; !near(got, want) {
		t.Errorf("public addresses = %.4f, want %.4f (the ALB's two)", got, want)
	}

	p.Database.MultiAZ = false
	single := estimate(t, p, Variant{})
	if got, want := monthly(t, single, "database", "RDS db.t4g.small single-AZ"), 720*0.03; !near(got, want) {
		t.Errorf("single-AZ instance = %.4f, want %.4f", got, want)
	}
}

// TestMissingPriceOrAssumption: an estimate never silently prices at zero.
func TestMissingPriceOrAssumption(t *testing.T) {
	prices := handPrices()
	delete(prices.Prices, "alb_hour")
	a := handAssumptions()
	delete(a.Values, "image_mb")
	_, err := EstimateCost(handPlatform(), prices, a, Variant{})
	if err == nil || !strings.Contains(err.Error(), "price alb_hour") || !strings.Contains(err.Error(), "assumption image_mb") {
		t.Errorf("EstimateCost without a price and an assumption = %v, want an error naming both", err)
	}
}

func TestShiftMinutes(t *testing.T) {
	for config, want := range map[string]float64{
		"CodeDeployDefault.ECSCanary10Percent5Minutes":      5,
		"CodeDeployDefault.ECSCanary10Percent15Minutes":     15,
		"CodeDeployDefault.ECSLinear10PercentEvery3Minutes": 27,
		"CodeDeployDefault.ECSLinear10PercentEvery1Minute":  9,
		"CodeDeployDefault.ECSAllAtOnce":                    0,
		"":                                                  0,
	} {
		if got := shiftMinutes(config); got != want {
			t.Errorf("shiftMinutes(%q) = %g, want %g", config, got, want)
		}
	}
}

package plan

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Inputs are where an estimate's figures come from.
type Inputs struct {
	Sources     *Sources
	Prices      *PriceTable
	Assumptions *Assumptions
}

// Report is the whole cost estimate: the baseline, each variant on its own,
// the traffic scenarios, and the cheapest configuration.
type Report struct {
	Env         string           `json:"environment"`
	Region      string           `json:"region"`
	PricesAsOf  string           `json:"prices_as_of"`
	Baseline    *Estimate        `json:"baseline"`
	Variants    []*Estimate      `json:"-"`
	Traffic     []*Estimate      `json:"-"`
	Options     []*Estimate      `json:"-"`
	Cheapest    *Estimate        `json:"-"`
	PricesNote  string           `json:"prices_note"`
	Prices      map[string]Price `json:"prices"`
	Assumptions *Assumptions     `json:"assumptions"`
}

// Total is an estimate without its line items.
type Total struct {
	Name    string             `json:"name"`
	Variant Variant            `json:"variant"`
	Monthly float64            `json:"monthly_usd"`
	Yearly  float64            `json:"twelve_months_usd"`
	Tasks   map[string]float64 `json:"average_tasks"`
}

func totals(es []*Estimate) []Total {
	out := make([]Total, len(es))
	for i, e := range es {
		out[i] = Total{Name: e.Variant.Name, Variant: e.Variant, Monthly: round2(e.Monthly), Yearly: round2(e.Yearly()), Tasks: e.Tasks}
	}
	return out
}

// JSON is the report as docs/cost-estimate.json: the baseline line by line,
// the other estimates as totals.
func (r *Report) JSON() ([]byte, error) {
	type out struct {
		*Report
		BaselineYearly float64 `json:"baseline_twelve_months_usd"`
		Variants       []Total `json:"variants"`
		Traffic        []Total `json:"traffic"`
		Options        []Total `json:"configurations"`
		Cheapest       Total   `json:"cheapest"`
	}
	b, err := json.MarshalIndent(out{r, round2(r.Baseline.Yearly()), totals(r.Variants), totals(r.Traffic), totals(r.Options), totals([]*Estimate{r.Cheapest})[0]}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode the estimate: %w", err)
	}
	return append(b, '\n'), nil
}

// estimate loads the platform with the variant's parameter overrides and
// prices it.
func (in Inputs) estimate(v Variant) (*Estimate, error) {
	overrides := map[string]map[string]string{"network": {}, "data": {}}
	if v.Egress != "" {
		overrides["network"]["Egress"] = v.Egress
	}
	if v.MultiAZ != "" {
		overrides["data"]["MultiAZ"] = v.MultiAZ
	}
	p, err := in.Sources.Platform(overrides)
	if err != nil {
		return nil, err
	}
	return EstimateCost(p, in.Prices, in.Assumptions, v)
}

// other is the choice of two that is not current.
func other(current, a, b string) string {
	if current == a {
		return b
	}
	return a
}

// BuildReport prices the environment as its parameters configure it, then
// each variant alone, then 10 and 100 times the traffic, then every
// combination of the variants to find the cheapest.
func BuildReport(in Inputs) (*Report, error) {
	base, err := in.Sources.Platform(nil)
	if err != nil {
		return nil, err
	}
	r := &Report{Env: in.Sources.Env, Region: in.Prices.Region, PricesAsOf: in.Prices.AsOf, PricesNote: in.Prices.Note, Prices: in.Prices.Prices, Assumptions: in.Assumptions}
	multiAZ := map[bool]string{true: "true", false: "false"}[base.Database.MultiAZ]
	otherEgress := other(base.Egress, "NatGateway", "VpcEndpoints")
	otherAZ := other(multiAZ, "true", "false")
	variants := []Variant{
		{Name: "Graviton (ARM64) tasks", Graviton: true},
		{Name: map[string]string{"VpcEndpoints": "VPC endpoints instead of a NAT gateway", "NatGateway": "A NAT gateway instead of VPC endpoints"}[otherEgress], Egress: otherEgress},
		{Name: "Fargate Spot for the catalogue", Spot: true},
		{Name: map[string]string{"false": "Single-AZ database", "true": "Multi-AZ database"}[otherAZ], MultiAZ: otherAZ},
	}
	if r.Baseline, err = in.estimate(Variant{Name: "baseline"}); err != nil {
		return nil, err
	}
	for _, v := range variants {
		e, err := in.estimate(v)
		if err != nil {
			return nil, err
		}
		r.Variants = append(r.Variants, e)
	}
	for _, x := range []float64{1, 10, 100} {
		e, err := in.estimate(Variant{Name: fmt.Sprintf("%gx traffic", x), Traffic: x})
		if err != nil {
			return nil, err
		}
		r.Traffic = append(r.Traffic, e)
	}
	for _, graviton := range []bool{false, true} {
		for _, spot := range []bool{false, true} {
			for _, egress := range []string{"NatGateway", "VpcEndpoints"} {
				for _, az := range []string{"true", "false"} {
					v := Variant{Graviton: graviton, Spot: spot, Egress: egress, MultiAZ: az}
					v.Name = configName(v)
					e, err := in.estimate(v)
					if err != nil {
						return nil, err
					}
					r.Options = append(r.Options, e)
				}
			}
		}
	}
	slices.SortStableFunc(r.Options, func(a, b *Estimate) int { return cmpFloat(a.Monthly, b.Monthly) })
	r.Cheapest = r.Options[0]
	return r, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// configName describes a combination of the variants.
func configName(v Variant) string {
	var parts []string
	switch {
	case v.Spot && v.Graviton:
		parts = append(parts, "Spot catalogue (x86_64), Graviton administration")
	case v.Spot:
		parts = append(parts, "Spot catalogue, x86_64 administration")
	default:
		parts = append(parts, map[bool]string{false: "x86_64", true: "Graviton"}[v.Graviton])
	}
	parts = append(parts, map[string]string{"NatGateway": "NAT gateway", "VpcEndpoints": "VPC endpoints"}[v.Egress])
	parts = append(parts, map[string]string{"true": "Multi-AZ database", "false": "single-AZ database"}[v.MultiAZ])
	return strings.Join(parts, ", ")
}

func usd(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	// Thousands separators, for the 100x figures.
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return "$" + b.String() + "." + frac
}

func qty(f float64) string {
	switch {
	case f == 0:
		return "0"
	case f >= 100:
		return fmt.Sprintf("%.0f", f)
	case f >= 1:
		return fmt.Sprintf("%.1f", f)
	}
	return fmt.Sprintf("%.3g", f)
}

// Markdown is the report as docs/cost-estimate.md.
func (r *Report) Markdown(command string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	b0 := r.Baseline
	w("# Cost estimate: %s environment, %s\n\n", r.Env, r.Region)
	w("Generated by `%s` from the CloudFormation templates (`infra/templates/`), the `%s` parameters (`infra/params/%s.json`), ", command, r.Env, r.Env)
	w("the assumptions in `infra/costs/assumptions.json` and the prices in `infra/costs/%s.json` (as of %s). ", r.Region, r.PricesAsOf)
	w("Do not edit: change those and run the command again (a test fails while this file is stale).\n\n")
	w("**Baseline: %s a month, %s for 12 months**", usd(b0.Monthly), usd(b0.Yearly()))
	w(" (on-demand, no free tier beyond the allowances that never expire, traffic flat over the year).\n\n")
	w("**Cheapest configuration that keeps two tasks per service in two zones: %s — %s a month, %s for 12 months** (%s less than the baseline).",
		r.Cheapest.Variant.Name, usd(r.Cheapest.Monthly), usd(r.Cheapest.Yearly()), usd(b0.Monthly-r.Cheapest.Monthly))
	w(" Every configuration below keeps each service's minimum of two tasks, which ECS spreads over the two zones; ")
	w("Spot tasks may be stopped with two minutes' notice and are replaced, so the catalogue can briefly run on one.\n\n")

	w("## Baseline, line by line\n\n")
	w("| part | item | billed quantity | unit | unit price | monthly | how |\n|---|---|---:|---|---:|---:|---|\n")
	for _, it := range b0.Items {
		w("| %s | %s | %s | %s | $%s | %s | %s |\n", it.Service, it.Item, qty(it.Quantity), it.Unit, trimFloat(it.USD), usd(it.Monthly), it.How)
	}
	w("| | **total** | | | | **%s** | 12 months: **%s** |\n\n", usd(b0.Monthly), usd(b0.Yearly()))

	w("By part:\n\n| part | monthly | share |\n|---|---:|---:|\n")
	byPart := map[string]float64{}
	for _, it := range b0.Items {
		byPart[it.Service] += it.Monthly
	}
	parts := slices.SortedFunc(maps.Keys(byPart), func(a, b string) int { return cmpFloat(byPart[b], byPart[a]) })
	for _, part := range parts {
		w("| %s | %s | %.0f%% |\n", part, usd(byPart[part]), 100*byPart[part]/b0.Monthly)
	}

	w("\n## Variants, one at a time\n\n| variant | monthly | 12 months | vs baseline |\n|---|---:|---:|---:|\n")
	w("| baseline | %s | %s | |\n", usd(b0.Monthly), usd(b0.Yearly()))
	for _, e := range r.Variants {
		w("| %s | %s | %s | %+.1f%% |\n", e.Variant.Name, usd(e.Monthly), usd(e.Yearly()), 100*(e.Monthly-b0.Monthly)/b0.Monthly)
	}
	w("\nThe Graviton variant deploys as it is estimated: `infra/params/graviton.json` is `prod.json` with `CustomerCpuArchitecture` and `EmployeeCpuArchitecture` set to `ARM64` (`make deploy ENV=graviton`; or set the two in any environment's file). ")
	w("deploy.sh and the pipeline build each service's image for its architecture, cross-compiled without emulation.\n")

	w("\n## Traffic, with auto scaling\n\nThe requests of the assumptions multiplied; auto scaling runs enough tasks for both target-tracking policies (requests per task and CPU), within each service's bounds.\n\n")
	names := make([]string, 0, len(b0.Tasks))
	for _, s := range slices.Sorted(maps.Keys(b0.Tasks)) {
		names = append(names, s)
	}
	w("| traffic |")
	for _, n := range names {
		w(" %s tasks (average) |", n)
	}
	w(" monthly | 12 months |\n|---|")
	for range names {
		w("---:|")
	}
	w("---:|---:|\n")
	for _, e := range r.Traffic {
		w("| %s |", e.Variant.Name)
		for _, n := range names {
			w(" %.1f |", e.Tasks[n])
		}
		w(" %s | %s |\n", usd(e.Monthly), usd(e.Yearly()))
	}

	w("\n## Every configuration at 1x traffic, cheapest first\n\n| configuration | monthly | 12 months |\n|---|---:|---:|\n")
	for _, e := range r.Options {
		w("| %s | %s | %s |\n", e.Variant.Name, usd(e.Monthly), usd(e.Yearly()))
	}
	w("\nFargate Spot runs x86_64 tasks only: with Graviton too, the catalogue stays x86_64 on Spot and the administration runs on Graviton.\n")

	w("\n## Assumptions\n\n%s\n\n| assumption | value | why |\n|---|---:|---|\n", r.Assumptions.Note)
	for _, k := range slices.Sorted(maps.Keys(r.Assumptions.Values)) {
		a := r.Assumptions.Values[k]
		w("| `%s` | %s | %s |\n", k, trimFloat(a.Value), a.Why)
	}
	w("\n## Prices (%s, as of %s)\n\n%s\n\n| price | USD | unit | free each month | source |\n|---|---:|---|---:|---|\n", r.Region, r.PricesAsOf, r.PricesNote)
	for _, k := range slices.Sorted(maps.Keys(r.Prices)) {
		p := r.Prices[k]
		free := ""
		if p.Free > 0 {
			free = trimFloat(p.Free)
		}
		w("| `%s` | %s | %s | %s | <%s> |\n", k, trimFloat(p.USD), p.Unit, free, p.Source)
	}
	return b.String()
}

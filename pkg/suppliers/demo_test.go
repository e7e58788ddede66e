package suppliers_test

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// place is what an atlas says about a demo city: its state or region, its
// country, how the country writes a phone number (with the city's area
// code), and what its street addresses look like in its language.
type place struct {
	state, country string
	phone, street  *regexp.Regexp
}

var (
	usStreet = regexp.MustCompile(`^\d+ [A-Z][a-z]+( [A-Z][a-z]+)? (Street|Avenue|Road|Way|Lane|Boulevard)$`)
	esStreet = regexp.MustCompile(`^(Calle|Avenida|Carrera|Paseo) .+`)
)

// atlas holds every city the demo data may use.
var atlas = map[string]place{
	"Seattle":           {"WA", "United States", regexp.MustCompile(`^\+1 206-555-01\d\d$`), usStreet},
	"Portland":          {"OR", "United States", regexp.MustCompile(`^\+1 503-555-01\d\d$`), usStreet},
	"San Francisco":     {"CA", "United States", regexp.MustCompile(`^\+1 415-555-01\d\d$`), usStreet},
	"Kailua-Kona":       {"HI", "United States", regexp.MustCompile(`^\+1 808-555-01\d\d$`), usStreet},
	"New York":          {"NY", "United States", regexp.MustCompile(`^\+1 212-555-01\d\d$`), usStreet},
	"Chicago":           {"IL", "United States", regexp.MustCompile(`^\+1 312-555-01\d\d$`), usStreet},
	"Boston":            {"MA", "United States", regexp.MustCompile(`^\+1 617-555-01\d\d$`), usStreet},
	"Austin":            {"TX", "United States", regexp.MustCompile(`^\+1 512-555-01\d\d$`), usStreet},
	"Denver":            {"CO", "United States", regexp.MustCompile(`^\+1 303-555-01\d\d$`), usStreet},
	"Miami":             {"FL", "United States", regexp.MustCompile(`^\+1 305-555-01\d\d$`), usStreet},
	"Medellín":          {"Antioquia", "Colombia", regexp.MustCompile(`^\+57 604 \d{3} \d{4}$`), esStreet},
	"Antigua Guatemala": {"Sacatepéquez", "Guatemala", regexp.MustCompile(`^\+502 7832 \d{4}$`), esStreet},
	"Xalapa":            {"Veracruz", "Mexico", regexp.MustCompile(`^\+52 228 \d{3} \d{4}$`), esStreet},
	"San José":          {"San José", "Costa Rica", regexp.MustCompile(`^\+506 2\d{3} \d{4}$`), esStreet},
	"São Paulo":         {"SP", "Brazil", regexp.MustCompile(`^\+55 11 \d{4}-\d{4}$`), regexp.MustCompile(`^(Rua|Avenida|Alameda) .+, \d+$`)},
	"Nairobi":           {"Nairobi County", "Kenya", regexp.MustCompile(`^\+254 20 \d{3} \d{4}$`), regexp.MustCompile(`^\d+ [A-Z][a-z]+ (Street|Avenue|Road)$`)},
	"Hamburg":           {"Hamburg", "Germany", regexp.MustCompile(`^\+49 40 \d{7,8}$`), regexp.MustCompile(`^(\p{L}+(straße|weg|damm|kai|allee)|Am \p{L}+|Große \p{L}+) \d+$`)},
	"Trieste":           {"Friuli-Venezia Giulia", "Italy", regexp.MustCompile(`^\+39 040 \d{3} \d{4}$`), regexp.MustCompile(`^(Via|Viale|Piazza|Riva) .+ \d+$`)},
	"Kigali":            {"Kigali", "Rwanda", regexp.MustCompile(`^\+250 788 \d{3} \d{3}$`), regexp.MustCompile(`^K[NGK] \d+ (Avenue|Street|Road), \d+$`)},
	"Đà Lạt":            {"Lâm Đồng", "Vietnam", regexp.MustCompile(`^\+84 263 \d{4} \d{3}$`), regexp.MustCompile(`^\d+ Đường .+`)},
}

// TestDemoDataReadsTrue: every demo supplier's city lies in its state and
// country, its phone number is written as that country writes them (the
// city's area code, local grouping) and its street is named in the
// country's language and numbered its way.
func TestDemoDataReadsTrue(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	seen := map[string]bool{}
	for range 2000 {
		s := suppliers.DemoSupplier(rng)
		p, ok := atlas[s.City]
		if !ok {
			t.Errorf("%s: the demo city %q is not in the test's atlas", s.Name, s.City)
			continue
		}
		seen[s.City] = true
		if s.State != p.state {
			t.Errorf("%s: %s lies in %s, %s, not in %q", s.Name, s.City, p.state, p.country, s.State)
		}
		if !p.phone.MatchString(s.Phone) {
			t.Errorf("%s in %s: phone %q is not written as %s writes numbers there (%s)", s.Name, s.City, s.Phone, p.country, p.phone)
		}
		if !p.street.MatchString(s.Address) {
			t.Errorf("%s in %s: address %q does not read like a street in %s (%s)", s.Name, s.City, s.Address, p.country, p.street)
		}
		if testing.Short() && len(seen) == len(atlas) {
			break
		}
	}
	if len(seen) < len(atlas)/2 {
		t.Errorf("2000 demo suppliers use only %d cities", len(seen))
	}
}

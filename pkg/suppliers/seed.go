package suppliers

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Demo data: coffee-trade names, real growing regions and roasting cities,
// with accents and apostrophes on purpose so every demo exercises Unicode and
// escaping. Emails use example.com's reserved domains and phone numbers the
// 555-01xx fictional range, so nobody real is ever contacted.
var (
	seedAdjectives = []string{"Highland", "Blue Ridge", "Sierra Verde", "Golden", "Volcanic", "Misty Peak",
		"Old Harbor", "Red Cherry", "Cloud Forest", "Sunrise", "Black Rock", "Green Valley", "Copper Kettle",
		"Riverbend", "Café de l'Étoile", "O'Brien & Sons", "Andean", "Kilimanjaro", "Java Street", "Mocha Port",
		"Cascade", "Harvest Moon", "Wild Orchid", "Stone Mill", "Lighthouse", "Tres Ríos", "Nordic", "Yirgacheffe",
		"Huehuetenango", "Sumatra Gold"}
	seedNouns = []string{"Coffee", "Bean", "Roast", "Espresso", "Arabica", "Harvest", "Cupping", "Estate",
		"Brew", "Grind", "Crema", "Cherry", "Leaf", "Origin", "Terroir"}
	seedKinds = []string{"Roasters", "Co.", "Traders", "Importers", "Growers", "Cooperative", "Ltd.",
		"& Partners", "Collective", "Exports"}
	seedStreets = []string{"Main", "Harbor", "Market", "Mill", "Plantation", "Station", "Orchard", "Bay",
		"Roaster", "Rua das Flores", "Calle Real", "Avenida Central", "Pike", "Hill", "Quay"}
	seedStreetKinds = []string{"Street", "Avenue", "Road", "Way", "Lane", "Boulevard"}
	seedPlaces      = [][2]string{
		{"Seattle", "WA"}, {"Portland", "OR"}, {"San Francisco", "CA"}, {"Kailua-Kona", "HI"}, {"New York", "NY"},
		{"Chicago", "IL"}, {"Austin", "TX"}, {"Denver", "CO"}, {"Boston", "MA"}, {"Miami", "FL"},
		{"Medellín", "Antioquia"}, {"Antigua Guatemala", "Sacatepéquez"}, {"São Paulo", "SP"},
		{"Addis Ababa", "Addis Ababa"}, {"Nairobi", "Nairobi County"}, {"San José", "San José"},
		{"Hamburg", "Hamburg"}, {"Trieste", "Friuli-Venezia Giulia"}, {"Đà Lạt", "Lâm Đồng"}, {"Kigali", "Kigali"},
	}
)

// DemoSupplier draws one realistic, valid demo supplier from rng.
func DemoSupplier(rng *rand.Rand) Input {
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	name := pick(seedAdjectives) + " " + pick(seedNouns) + " " + pick(seedKinds)
	place := seedPlaces[rng.IntN(len(seedPlaces))]
	return Input{
		Name:    name,
		Address: fmt.Sprintf("%d %s %s", 1+rng.IntN(9899), pick(seedStreets), pick(seedStreetKinds)),
		City:    place[0],
		State:   place[1],
		Email:   fmt.Sprintf("orders@%s.example.com", slug(name)),
		Phone:   fmt.Sprintf("+1 %03d 555 %04d", 200+rng.IntN(800), 100+rng.IntN(100)),
	}
}

// slug keeps the ASCII letters and digits of s, lower-cased, for host names.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "supplier"
	}
	return b.String()
}

// seedBatch rows go in one multi-row INSERT: few round trips, and well under
// the prepared-statement placeholder limit (65,535).
const seedBatch = 500

// Seed inserts n demo suppliers drawn from a generator seeded with seed, so
// the same arguments give the same data. Each batch is one atomic statement.
func Seed(ctx context.Context, db *sql.DB, n int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for done := 0; done < n; {
		size := min(seedBatch, n-done)
		args := make([]any, 0, size*6)
		for range size {
			in := DemoSupplier(rng)
			if _, err := Validate(in); err != nil {
				return fmt.Errorf("seed: generated an invalid supplier %+v: %w", in, err)
			}
			args = append(args, in.Name, in.Address, in.City, in.State, in.Email, in.Phone)
		}
		stmt := "INSERT INTO suppliers (name, address, city, state, email, phone) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", size), ", ")
		if _, err := db.ExecContext(ctx, stmt, args...); err != nil {
			return fmt.Errorf("seed: insert rows %d to %d: %w", done+1, done+size, err)
		}
		done += size
	}
	return nil
}

package suppliers

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Demo data: coffee-trade names, and addresses that read true — each city
// in its own state or region, its street named in the country's language
// and numbered the country's way, its phone number written as the country
// writes them, with the city's area code. Accents and apostrophes are there
// on purpose, so every demo exercises Unicode and escaping. Emails use
// example.com's reserved domains and US numbers the 555-01xx fictional
// range, so nobody real is ever contacted.
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
	// seedPlaces is weighted like the trade: roasting cities in the United
	// States and Europe, growing regions elsewhere.
	seedPlaces = []seedPlace{
		usCity("Seattle", "WA", "206"), usCity("Portland", "OR", "503"), usCity("San Francisco", "CA", "415"),
		usCity("Kailua-Kona", "HI", "808"), usCity("New York", "NY", "212"), usCity("Chicago", "IL", "312"),
		usCity("Austin", "TX", "512"), usCity("Denver", "CO", "303"), usCity("Boston", "MA", "617"),
		usCity("Miami", "FL", "305"),
		{City: "Medellín", State: "Antioquia", Streets: []string{"Calle %[2]d # %[1]d-%[3]d", "Carrera %[2]d # %[1]d-%[3]d"},
			Phone: "+57 604 %03[1]d %04[2]d"},
		{City: "Antigua Guatemala", State: "Sacatepéquez", Streets: []string{"Calle del Arco %[1]d", "Avenida Norte %[1]d",
			"Calle de los Pasos %[1]d"}, Phone: "+502 7832 %04[2]d"},
		{City: "Xalapa", State: "Veracruz", Streets: []string{"Calle Juárez %[1]d", "Avenida Ávila Camacho %[1]d",
			"Calle Enríquez %[1]d"}, Phone: "+52 228 %03[1]d %04[2]d"},
		{City: "San José", State: "San José", Streets: []string{"Avenida Central, Calle %[2]d", "Calle %[2]d, Avenida %[3]d",
			"Paseo Colón %[1]d"}, Phone: "+506 2%03[1]d %04[2]d"},
		{City: "São Paulo", State: "SP", Streets: []string{"Rua Augusta, %[1]d", "Avenida Paulista, %[1]d",
			"Rua dos Pinheiros, %[1]d", "Alameda Santos, %[1]d"}, Phone: "+55 11 3%03[1]d-%04[2]d"},
		{City: "Nairobi", State: "Nairobi County", Streets: []string{"%[1]d Moi Avenue", "%[1]d Kimathi Street",
			"%[1]d Ngong Road"}, Phone: "+254 20 %03[1]d %04[2]d"},
		{City: "Hamburg", State: "Hamburg", Streets: []string{"Große Elbstraße %[1]d", "Am Sandtorkai %[1]d",
			"Mönckebergstraße %[1]d", "Sternschanzenweg %[1]d"}, Phone: "+49 40 %03[1]d%04[2]d"},
		{City: "Trieste", State: "Friuli-Venezia Giulia", Streets: []string{"Via del Lazzaretto Vecchio %[1]d",
			"Riva del Mandracchio %[1]d", "Piazza della Borsa %[1]d", "Viale Miramare %[1]d"}, Phone: "+39 040 %03[1]d %04[2]d"},
		{City: "Đà Lạt", State: "Lâm Đồng", Streets: []string{"%[1]d Đường Trần Phú", "%[1]d Đường Phan Đình Phùng",
			"%[1]d Đường Hùng Vương"}, Phone: "+84 263 3%03[4]d %03[1]d"},
		{City: "Kigali", State: "Kigali", Streets: []string{"KN %[2]d Avenue, %[1]d", "KG %[2]d Street, %[1]d",
			"KK %[2]d Road, %[1]d"}, Phone: "+250 788 %03[1]d %03[4]d"},
	}
	usStreets     = []string{"Pike", "Harbor", "Market", "Mill", "Orchard", "Station", "Bay", "Hill", "Water", "Front"}
	usStreetKinds = []string{"Street", "Avenue", "Road", "Way", "Lane", "Boulevard"}
)

// seedPlace is a demo city and how its addresses and phone numbers read.
type seedPlace struct {
	City, State string
	// Streets are fmt formats given a house number, a street number and a
	// third small number (Colombia's and Costa Rica's grids use them).
	Streets []string
	// Phone is an fmt format given random numbers of three, four, two and
	// three digits, which it uses as it needs.
	Phone string
}

// usCity is a United States city: English street names ("1200 Pike
// Street") and the 555-01xx fictional numbers with the city's area code.
func usCity(city, state, areaCode string) seedPlace {
	var streets []string
	for _, name := range usStreets {
		for _, kind := range usStreetKinds {
			streets = append(streets, "%[1]d "+name+" "+kind)
		}
	}
	return seedPlace{City: city, State: state, Streets: streets, Phone: "+1 " + areaCode + "-555-01%02[3]d"}
}

// DemoSupplier draws one realistic, valid demo supplier from rng.
func DemoSupplier(rng *rand.Rand) Input {
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	name := pick(seedAdjectives) + " " + pick(seedNouns) + " " + pick(seedKinds)
	place := seedPlaces[rng.IntN(len(seedPlaces))]
	address := fmt.Sprintf(pick(place.Streets), 1+rng.IntN(989), 1+rng.IntN(98), 1+rng.IntN(98))
	return Input{
		Name:    name,
		Address: address,
		City:    place.City,
		State:   place.State,
		Email:   fmt.Sprintf("orders@%s.example.com", slug(name)),
		Phone:   fmt.Sprintf(place.Phone, rng.IntN(1000), rng.IntN(10000), rng.IntN(100), rng.IntN(1000)),
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

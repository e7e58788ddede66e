package suppliers

import "testing"

// BenchmarkValidate checks a typical valid supplier, and one wrong in every
// field (the form shown again with six messages): the work each add or
// edit does before touching the database.
//
//	go test -run '^$' -bench Validate ./pkg/suppliers
func BenchmarkValidate(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   Input
	}{
		{"valid", Input{Name: "  Café de l'Étoile Roasters ", Address: "12 Rua das Flores", City: "São Paulo",
			State: "SP", Email: "orders@cafe-etoile.example.com", Phone: "+55 11 5550 0123"}},
		{"invalid", Input{Name: " ", Address: "", City: "\x00", State: "", Email: "not an email", Phone: "call me"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = Validate(bc.in)
			}
		})
	}
}

package suppliers

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzValidate checks that Validate never panics and that whatever it
// accepts fits its column: trimmed, present, valid single-line text within
// the field's limit, in NFC, without invisible (Cf, Zl, Zp) characters, and
// accepted again unchanged; an accepted email is one plain address that no
// mailto link can turn into headers.
func FuzzValidate(f *testing.F) {
	seeds := []Input{
		valid(),
		{},
		{Name: "  Café de l'Étoile ", Address: "1 Rua", City: "São Paulo", State: "SP", Email: "a@b.co", Phone: "+55 11 5555 0100"},
		{Name: strings.Repeat("é", 256), Address: "\x00", City: "\xff", State: " \t", Email: "Name <a@b.co>", Phone: "1-800-FLOWERS"},
		{Name: "<script>alert(1)</script>", Address: "'; DROP TABLE suppliers; --", City: "%_\\", State: "😀", Email: "o'brien@example.ie", Phone: "(206) 555-0100"},
		{Name: "a\u2028b", Address: "\u00a0x\u00a0", City: "\u200b", State: "\ufeffWA", Email: "x@y.z.", Phone: "+1234567"},
		{Name: "Cafe\u0301 \u202egnp.exe", Address: "1 Main\u2066 St", City: "Sea\u00adttle", State: "W\u200dA", Email: "sales?bcc=spy%40evil.example&subject=hi@supplier.example", Phone: "+1 206 555 0100"},
		{Name: "A", Address: "B", City: "C", State: "D", Email: `"a b"@x.example`, Phone: "5550100"},
	}
	for _, s := range seeds {
		f.Add(s.Name, s.Address, s.City, s.State, s.Email, s.Phone)
	}
	f.Fuzz(func(t *testing.T, name, address, city, state, email, phone string) {
		out, err := Validate(Input{Name: name, Address: address, City: city, State: state, Email: email, Phone: phone})
		if err != nil {
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("Validate error %v is not a non-empty FieldErrors", err)
			}
			for _, f := range Fields {
				if msg, ok := fe[f.Name]; ok && msg == "" {
					t.Fatalf("empty message for %s", f.Name)
				}
			}
			return
		}
		for _, f := range Fields {
			v := f.Value(out)
			switch {
			case v == "":
				t.Fatalf("%s accepted empty", f.Name)
			case strings.TrimSpace(v) != v:
				t.Fatalf("%s accepted untrimmed: %q", f.Name, v)
			case !utf8.ValidString(v):
				t.Fatalf("%s accepted invalid UTF-8: %q", f.Name, v)
			case utf8.RuneCountInString(v) > f.MaxChars:
				t.Fatalf("%s accepted %d characters, limit %d", f.Name, utf8.RuneCountInString(v), f.MaxChars)
			case strings.ContainsFunc(v, unicode.IsControl):
				t.Fatalf("%s accepted a control character: %q", f.Name, v)
			case strings.ContainsFunc(v, func(r rune) bool { return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) }):
				t.Fatalf("%s accepted an invisible character: %q", f.Name, v)
			case !norm.NFC.IsNormalString(v):
				t.Fatalf("%s accepted text not in NFC: %q", f.Name, v)
			}
		}
		if strings.ContainsAny(out.Email, "?&%#\"") || strings.Count(out.Email, "@") != 1 {
			t.Fatalf("email accepted with a character a mailto link gives meaning: %q", out.Email)
		}
		again, err := Validate(out)
		if err != nil || again != out {
			t.Fatalf("Validate is not idempotent: %+v -> %+v, %v", out, again, err)
		}
	})
}

// FuzzParseID checks ParseID and ParseVersion against strconv: they accept
// exactly the canonical decimal form of 1..2147483647 and 1..4294967295.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"1", "42", "0", "-1", "+1", "007", "1.5", " 1", "2147483647", "2147483648",
		"4294967295", "4294967296", "9223372036854775808", "", "١٢٣", "1_000", "0x1f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []struct {
			name  string
			parse func(string) (int64, error)
			max   int64
			err   error
		}{
			{"ParseID", ParseID, 2147483647, ErrInvalidID},
			{"ParseVersion", ParseVersion, 4294967295, ErrInvalidVersion},
		} {
			got, err := p.parse(s)
			n, perr := strconv.ParseInt(s, 10, 64)
			want := perr == nil && n >= 1 && n <= p.max && strconv.FormatInt(n, 10) == s
			if want {
				if err != nil || got != n {
					t.Fatalf("%s(%q) = %d, %v; want %d", p.name, s, got, err, n)
				}
				if strconv.FormatInt(got, 10) != s {
					t.Fatalf("%s(%q) = %d does not round-trip", p.name, s, got)
				}
				continue
			}
			if !errors.Is(err, p.err) || got != 0 {
				t.Fatalf("%s(%q) = %d, %v; want 0, %v", p.name, s, got, err, p.err)
			}
		}
	})
}

package suppliers

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// valid is an input every rule accepts; cases change one field of it.
func valid() Input {
	return Input{
		Name:    "Highland Coffee Roasters",
		Address: "100 Main Street",
		City:    "Seattle",
		State:   "WA",
		Email:   "orders@highland.example.com",
		Phone:   "+1 206 555 0100",
	}
}

// with returns valid() with field set to v.
func with(field, v string) Input {
	in := valid()
	fieldNamed(field).Set(&in, v)
	return in
}

func fieldNamed(name string) Field {
	for _, f := range Fields {
		if f.Name == name {
			return f
		}
	}
	panic("no field " + name)
}

// emailOfLength builds a syntactically valid address of exactly n bytes.
func emailOfLength(n int) string {
	const suffix = "@example.com"
	return strings.Repeat("a", n-len(suffix)) + suffix
}

func TestValidateAcceptsAndTrims(t *testing.T) {
	t.Parallel()
	in := Input{
		Name:    "  Café de l'Étoile  ",
		Address: "\t12 Rua das Flores\n",
		City:    " São Paulo ",
		State:   "SP ",
		Email:   " orders@etoile.example.com ",
		Phone:   " (11) 5555-0100 ",
	}
	got, err := Validate(in)
	if err != nil {
		t.Fatalf("Validate(%+v) = %v, want nil", in, err)
	}
	want := Input{Name: "Café de l'Étoile", Address: "12 Rua das Flores", City: "São Paulo", State: "SP",
		Email: "orders@etoile.example.com", Phone: "(11) 5555-0100"}
	if got != want {
		t.Errorf("Validate trimmed to %+v, want %+v", got, want)
	}
}

func TestValidateRefusesEachField(t *testing.T) {
	t.Parallel()
	for _, f := range Fields {
		for _, tc := range []struct {
			name, value, wantInMessage string
		}{
			{"empty", "", "is required"},
			{"whitespace only", " \t\n ", "is required"},
			{"NUL byte", "Ac\x00me", "control characters"},
			{"inner tab", "Ac\tme", "control characters"},
			{"inner newline", "Acme\nInc", "control characters"},
			{"DEL", "Acme\x7f", "control characters"},
			{"invalid UTF-8", "Acme\xff", "not valid text"},
			{"truncated UTF-8", "Caf\xc3", "not valid text"},
		} {
			t.Run(f.Name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				in := with(f.Name, tc.value)
				_, err := Validate(in)
				var fe FieldErrors
				if !errors.As(err, &fe) {
					t.Fatalf("Validate = %v, want FieldErrors", err)
				}
				msg, ok := fe[f.Name]
				if !ok || len(fe) != 1 {
					t.Fatalf("errors = %v, want exactly one for %s", fe, f.Name)
				}
				if !strings.Contains(msg, f.Label) || !strings.Contains(msg, tc.wantInMessage) {
					t.Errorf("message %q should name %q and say %q", msg, f.Label, tc.wantInMessage)
				}
			})
		}
	}
}

func TestValidateLengthCountsCharacters(t *testing.T) {
	t.Parallel()
	type tc struct {
		field, value string
		ok           bool
	}
	var cases []tc
	for _, f := range []string{"name", "address", "city", "state"} {
		cases = append(cases,
			tc{f, strings.Repeat("é", 255), true}, // 510 bytes, 255 characters
			tc{f, strings.Repeat("é", 256), false},
			tc{f, strings.Repeat("咖", 255), true}, // 3 bytes each
			tc{f, strings.Repeat("☕", 254) + "😀", true},
			tc{f, strings.Repeat("a", 256), false},
			tc{f, " " + strings.Repeat("a", 255) + " ", true}, // trimmed first
		)
	}
	cases = append(cases,
		tc{"email", emailOfLength(254), true},
		tc{"email", emailOfLength(255), false},
		tc{"phone", strings.Repeat("-", 85) + "123456789012345", true}, // 100 characters
		tc{"phone", strings.Repeat("-", 86) + "123456789012345", false},
	)
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%d", c.field, utf8.RuneCountInString(c.value)), func(t *testing.T) {
			t.Parallel()
			_, err := Validate(with(c.field, c.value))
			if c.ok {
				if err != nil {
					t.Fatalf("%d characters in %s: %v, want accepted", utf8.RuneCountInString(strings.TrimSpace(c.value)), c.field, err)
				}
				return
			}
			var fe FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("%d characters in %s accepted, want refused", utf8.RuneCountInString(c.value), c.field)
			}
			f := fieldNamed(c.field)
			if msg := fe[c.field]; !strings.Contains(msg, f.Label) || !strings.Contains(msg, "at most") {
				t.Errorf("message %q should name %q and the limit", msg, f.Label)
			}
		})
	}
}

func TestValidateEmail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		email string
		ok    bool
	}{
		{"orders@example.com", true},
		{"first.last+beans@sub.example.co.uk", true},
		{"o'brien@example.ie", true},
		{"ORDERS@EXAMPLE.COM", true},
		{"orders", false},
		{"orders@", false},
		{"@example.com", false},
		{"orders@example", false},
		{"orders@.example.com", false},
		{"orders@example.com.", false},
		{"Orders <orders@example.com>", false},
		{"<orders@example.com>", false},
		{"orders@example.com, sales@example.com", false},
		{"two@at@example.com", false},
		{"or ders@example.com", false},
		{"orders@exa mple.com", false},
	} {
		t.Run(tc.email, func(t *testing.T) {
			t.Parallel()
			_, err := Validate(with("email", tc.email))
			if tc.ok && err != nil {
				t.Fatalf("email %q refused: %v", tc.email, err)
			}
			if !tc.ok {
				var fe FieldErrors
				if !errors.As(err, &fe) || !strings.Contains(strings.ToLower(fe["email"]), "email") {
					t.Fatalf("email %q: err = %v, want an Email message", tc.email, err)
				}
			}
		})
	}
}

func TestValidatePhone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		phone string
		ok    bool
	}{
		{"+1 206 555 0100", true},
		{"(206) 555-0100", true},
		{"206.555.0100", true},
		{"5550100", true},          // 7 digits
		{"123456789012345", true},  // 15 digits
		{"+44 20 7946 0958", true}, // international
		{"555010", false},          // 6 digits
		{"1234567890123456", false},
		{"1-800-FLOWERS", false},
		{"206 555 0100 ext 5", false},
		{"1+206 555 0100", false},
		{"++1 206 555 0100", false},
		{"+", false},
		{"206/555/0100", false},
		{"２０６５５５０１００", false}, // full-width digits
	} {
		t.Run(tc.phone, func(t *testing.T) {
			t.Parallel()
			_, err := Validate(with("phone", tc.phone))
			if tc.ok && err != nil {
				t.Fatalf("phone %q refused: %v", tc.phone, err)
			}
			if !tc.ok {
				var fe FieldErrors
				if !errors.As(err, &fe) || !strings.Contains(strings.ToLower(fe["phone"]), "phone") {
					t.Fatalf("phone %q: err = %v, want a phone message", tc.phone, err)
				}
			}
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	t.Parallel()
	got, err := Validate(Input{Name: "  ", Email: " not-an-email ", Phone: "12"})
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want FieldErrors", err)
	}
	if len(fe) != len(Fields) {
		t.Errorf("got %d field errors (%v), want one per field", len(fe), fe)
	}
	if got.Email != "not-an-email" {
		t.Errorf("returned email %q, want it trimmed even when invalid (to refill the form)", got.Email)
	}
	// The summary lists fields in form order, each by name.
	msg := err.Error()
	last := -1
	for _, f := range Fields {
		i := strings.Index(msg, f.Name+": ")
		if i < 0 || i < last {
			t.Fatalf("Error() = %q: want %s listed in form order", msg, f.Name)
		}
		last = i
	}
}

func TestSupplierInputAndFields(t *testing.T) {
	t.Parallel()
	s := Supplier{ID: 3, Name: "n", Address: "a", City: "c", State: "s", Email: "e", Phone: "p", Version: 7}
	in := s.Input()
	want := map[string]string{"name": "n", "address": "a", "city": "c", "state": "s", "email": "e", "phone": "p"}
	if len(Fields) != len(want) {
		t.Fatalf("Fields has %d entries, want %d", len(Fields), len(want))
	}
	for _, f := range Fields {
		if got := f.Value(in); got != want[f.Name] {
			t.Errorf("%s = %q, want %q", f.Name, got, want[f.Name])
		}
		if f.Label == "" || f.MaxChars <= 0 {
			t.Errorf("field %s has label %q and limit %d", f.Name, f.Label, f.MaxChars)
		}
	}
}

func TestParseID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64 // 0: refused
	}{
		{"1", 1},
		{"42", 42},
		{"2147483647", 2147483647},
		{"0", 0},
		{"00", 0},
		{"-1", 0},
		{"+1", 0},
		{"007", 0},
		{"1.5", 0},
		{"1e3", 0},
		{"0x10", 0},
		{" 1", 0},
		{"1 ", 0},
		{"2147483648", 0},
		{"9999999999", 0},
		{"99999999999999999999999", 0},
		{"", 0},
		{"١٢٣", 0}, // Arabic-Indic digits
		{"１２", 0},  // full-width digits
		{"12abc", 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseID(tc.in)
			if tc.want != 0 {
				if err != nil || got != tc.want {
					t.Fatalf("ParseID(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("ParseID(%q) = %d, %v; want ErrInvalidID", tc.in, got, err)
			}
		})
	}
}

func TestDemoSupplierIsValidAndDeterministic(t *testing.T) {
	t.Parallel()
	a := rand.New(rand.NewPCG(1, 2))
	b := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		x, y := DemoSupplier(a), DemoSupplier(b)
		if x != y {
			t.Fatalf("draw %d differs with the same seed: %+v vs %+v", i, x, y)
		}
		if got, err := Validate(x); err != nil || got != x {
			t.Fatalf("demo supplier %+v: Validate = %+v, %v; want valid and already trimmed", x, got, err)
		}
		if !strings.HasSuffix(x.Email, ".example.com") {
			t.Fatalf("demo email %q must use a reserved example.com domain", x.Email)
		}
	}
}

package suppliers

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// deceptiveCharacters are invisible in a browser yet change what a reader
// sees or what a program compares (issue 12, point 9): Unicode format (Cf)
// and line or paragraph separator (Zl, Zp) characters.
var deceptiveCharacters = map[string]string{
	"right-to-left override":  "\u202e",
	"left-to-right isolate":   "\u2066",
	"pop directional isolate": "\u2069",
	"zero-width space":        "\u200b",
	"zero-width joiner":       "\u200d",
	"byte order mark":         "\ufeff",
	"soft hyphen":             "\u00ad",
	"arabic letter mark":      "\u061c",
	"line separator":          "\u2028",
	"paragraph separator":     "\u2029",
	"interlinear annotation":  "\ufff9",
}

// TestValidateRefusesDeceptiveCharacters: each field refuses them anywhere
// (inside, or where trimming would not take them away) with its own
// message.
func TestValidateRefusesDeceptiveCharacters(t *testing.T) {
	t.Parallel()
	for _, f := range Fields {
		for name, char := range deceptiveCharacters {
			for _, where := range []string{"inside", "leading"} {
				if r, _ := utf8.DecodeRuneInString(char); where == "leading" && unicode.IsSpace(r) {
					continue // trimmed away like any space, never stored
				}
				t.Run(f.Name+"/"+name+"/"+where, func(t *testing.T) {
					t.Parallel()
					v := fieldNamed(f.Name).Value(valid())
					if where == "inside" {
						v = v[:1] + char + v[1:]
					} else {
						v = char + v
					}
					_, err := Validate(with(f.Name, v))
					var fe FieldErrors
					if !errors.As(err, &fe) {
						t.Fatalf("%q accepted in %s, want refused", v, f.Name)
					}
					msg, ok := fe[f.Name]
					if !ok || len(fe) != 1 {
						t.Fatalf("errors = %v, want exactly one for %s", fe, f.Name)
					}
					if !strings.Contains(msg, f.Label) || !strings.Contains(msg, "invisible") {
						t.Errorf("message %q should name %q and say what is wrong (invisible characters)", msg, f.Label)
					}
				})
			}
		}
	}
}

// TestValidateStoresNFC: text is stored in one normal form (NFC), so a
// name typed with a combining accent and one typed with the precomposed
// letter are the same text, searchable and compared alike.
func TestValidateStoresNFC(t *testing.T) {
	t.Parallel()
	in := valid()
	in.Name = "Cafe\u0301 de l'E\u0301toile"
	in.City = "Sa\u0303o Paulo"
	in.Email = "cafe\u0301@example.com"
	out, err := Validate(in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Name != "Caf\u00e9 de l'\u00c9toile" || out.City != "S\u00e3o Paulo" || out.Email != "caf\u00e9@example.com" {
		t.Errorf("Validate = %+q, want the precomposed (NFC) forms", []string{out.Name, out.City, out.Email})
	}
	// The limit counts the stored characters: 255 e + combining acute
	// are 510 code points typed, 255 stored.
	if _, err := Validate(with("name", strings.Repeat("e\u0301", 255))); err != nil {
		t.Errorf("255 accented letters typed decomposed: %v, want accepted (255 characters stored)", err)
	}
}

// TestValidateEmailIsAPlainAddress: only a dot-atom local part of letters,
// digits and the RFC 5322 atext symbols that mean nothing in a mailto URL,
// at a domain of letter, digit and hyphen labels (issue 12, point 10).
// Refused: ? (starts a mailto's headers), & (separates them), % (an
// escape, hiding either), # (ends the address), quoted local parts,
// comments, domain literals.
func TestValidateEmailIsAPlainAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		email string
		ok    bool
	}{
		{"orders@example.com", true},
		{"o'brien@example.ie", true},
		{"first.last+beans@sub.example.co.uk", true},
		{"a!b$c*d/e=f^g_h`i{j|k}l~m-n@example.com", true},
		{"josé@café.example", true},
		{"orders@xn--caf-dma.example", true},
		{"sales?bcc=spy%40evil.example&subject=hi@supplier.example", false},
		{"sales?bcc=spy@supplier.example", false},
		{"sales&x@supplier.example", false},
		{"sales%40evil.example@supplier.example", false},
		{"sales#x@supplier.example", false},
		{`"sales"@supplier.example`, false},
		{`"sales?cc=x"@supplier.example`, false},
		{"sales(comment)@supplier.example", false},
		{"sales@supplier.example?cc=spy@evil.example", false},
		{"sales@supplier?cc=x.example", false},
		{"sales@supplier.example&body=x", false},
		{"sales@[192.0.2.1]", false},
		{"sales@-supplier.example", false},
		{"sales@supplier-.example", false},
		{"sales@supplier..example", false},
		{"sales@sup_plier.example", false},
		{"sa..les@supplier.example", false},
		{".sales@supplier.example", false},
		{"sales.@supplier.example", false},
		{"sa les@supplier.example", false},
		{"sales\u00a0x@supplier.example", false},
	} {
		t.Run(tc.email, func(t *testing.T) {
			t.Parallel()
			_, err := Validate(with("email", tc.email))
			if tc.ok && err != nil {
				t.Fatalf("email %q refused: %v", tc.email, err)
			}
			if !tc.ok {
				var fe FieldErrors
				if !errors.As(err, &fe) || !strings.Contains(fe["email"], "Email") && !strings.Contains(fe["email"], "email") {
					t.Fatalf("email %q: err = %v, want an Email message", tc.email, err)
				}
			}
		})
	}
}

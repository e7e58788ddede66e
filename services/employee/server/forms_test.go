package server

import (
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

func TestParseVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"1": 1, "42": 42, "4294967295": 4294967295} {
		if got, err := parseVersion(in); err != nil || got != want {
			t.Errorf("parseVersion(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "00", "01", "-1", "+1", " 1", "1 ", "1.0", "1e3", "abc", "٣", "4294967296", "99999999999999999999"} {
		if got, err := parseVersion(in); err == nil {
			t.Errorf("parseVersion(%q) = %d, want an error", in, got)
		}
	}
}

// TestEveryFieldHasAnInputKind keeps the form's input types and
// autocomplete tokens in step with the domain's field list.
func TestEveryFieldHasAnInputKind(t *testing.T) {
	t.Parallel()
	form := newSupplierForm(suppliers.Input{}, nil)
	if len(form.Fields) != len(suppliers.Fields) {
		t.Fatalf("form has %d inputs, domain has %d fields", len(form.Fields), len(suppliers.Fields))
	}
	for i, f := range suppliers.Fields {
		if _, ok := inputKinds[f.Name]; !ok {
			t.Errorf("field %q has no entry in inputKinds", f.Name)
		}
		got := form.Fields[i]
		if got.Name != f.Name || got.Label != f.Label || got.MaxChars != f.MaxChars {
			t.Errorf("form field %d is %+v, want the domain's %s (%d characters)", i, got, f.Name, f.MaxChars)
		}
	}
}

func TestFormListsErrorsInFieldOrder(t *testing.T) {
	t.Parallel()
	form := newSupplierForm(suppliers.Input{}, suppliers.FieldErrors{"phone": "p", "name": "n", "city": "c"})
	var order []string
	for _, f := range form.Errors {
		order = append(order, f.Name)
	}
	if got := len(order); got != 3 || order[0] != "name" || order[1] != "city" || order[2] != "phone" {
		t.Errorf("error summary order %v, want [name city phone]", order)
	}
}

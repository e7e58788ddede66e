package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
)

// inputKind is how a field's input behaves in a browser: its type picks the
// right on-screen keyboard, its autocomplete token lets the browser offer
// saved values (WCAG 1.3.5, identify input purpose).
type inputKind struct {
	Type         string
	Autocomplete string
}

// inputKinds covers every entry of suppliers.Fields (a test checks it).
var inputKinds = map[string]inputKind{
	"name":    {Type: "text", Autocomplete: "organization"},
	"address": {Type: "text", Autocomplete: "street-address"},
	"city":    {Type: "text", Autocomplete: "address-level2"},
	"state":   {Type: "text", Autocomplete: "address-level1"},
	"email":   {Type: "email", Autocomplete: "email"},
	"phone":   {Type: "tel", Autocomplete: "tel"},
}

// formField is one input of the supplier form, ready to print: every
// decision is made here so the template stays a plain layout.
type formField struct {
	ID           string // the input's id, which its label and the error summary point at
	ErrorID      string // the message's id, which the input's aria-describedby names
	Name         string
	Label        string
	Value        string
	Error        string
	Type         string
	MaxChars     int
	Autocomplete string
}

// detail is one labelled value of a stored supplier, for a <dl>.
type detail struct {
	Label string
	Value string
}

// supplierForm is the data of the add and edit page.
type supplierForm struct {
	Heading string
	Action  string // where the form posts
	Submit  string // the button's words
	Fields  []formField
	Errors  []formField // the fields with a message, in form order, for the summary
	// Version is the supplier version the edit is based on; zero for a
	// new supplier, which has none.
	Version int64
	// Current is what the database holds after someone else's change; it
	// is set only when the page answers a conflict.
	Current   []detail
	DeleteURL string // empty for a new supplier
	CancelURL string
	// ID is the supplier being edited; zero for a new one.
	ID int64
	// History is the supplier's changes, newest first; ShowHistory is set
	// on the edit page, where an empty history still gets its heading.
	History     []historyEntry
	ShowHistory bool
	// FormToken makes the form's post take effect once (see formToken).
	FormToken string
}

// newSupplierForm is the add page, empty or showing a refused submission.
func newSupplierForm(in suppliers.Input, errs suppliers.FieldErrors) supplierForm {
	f := supplierForm{Heading: "Add supplier", Action: addPath, Submit: "Add supplier", CancelURL: listPath}
	f.setFields(in, errs)
	return f
}

// editSupplierForm is the edit page of supplier id at version.
func editSupplierForm(id, version int64, in suppliers.Input, errs suppliers.FieldErrors) supplierForm {
	idText := strconv.FormatInt(id, 10)
	f := supplierForm{
		ID:        id,
		Heading:   "Edit supplier",
		Action:    updatePath + idText,
		Submit:    "Save changes",
		Version:   version,
		DeleteURL: removePath + idText,
		CancelURL: listPath,
	}
	f.setFields(in, errs)
	return f
}

func (f *supplierForm) setFields(in suppliers.Input, errs suppliers.FieldErrors) {
	f.Fields = make([]formField, 0, len(suppliers.Fields))
	f.Errors = nil
	for _, sf := range suppliers.Fields {
		kind, ok := inputKinds[sf.Name]
		if !ok {
			kind = inputKind{Type: "text", Autocomplete: "off"}
		}
		field := formField{
			ID:           "supplier-" + sf.Name,
			ErrorID:      "supplier-" + sf.Name + "-error",
			Name:         sf.Name,
			Label:        sf.Label,
			Value:        sf.Value(in),
			Error:        errs[sf.Name],
			Type:         kind.Type,
			MaxChars:     sf.MaxChars,
			Autocomplete: kind.Autocomplete,
		}
		f.Fields = append(f.Fields, field)
		if field.Error != "" {
			f.Errors = append(f.Errors, field)
		}
	}
}

// inputFrom reads the supplier fields of a submitted form as typed; the
// store trims and validates them.
func inputFrom(form url.Values) suppliers.Input {
	var in suppliers.Input
	for _, f := range suppliers.Fields {
		f.Set(&in, form.Get(f.Name))
	}
	return in
}

// detailsOf lists a stored supplier's values in form order.
func detailsOf(s suppliers.Supplier) []detail { return inputDetails(s.Input()) }

// removePage is the data of the delete confirmation page.
type removePage struct {
	Heading   string
	Details   []detail
	Version   int64
	Action    string
	CancelURL string // back to the edit form
	// Changed says the supplier changed after the employee opened the
	// confirmation, so the values shown are new to them.
	Changed bool
	// FormToken makes the form's post take effect once (see formToken).
	FormToken string
}

func newRemovePage(s suppliers.Supplier, changed bool) removePage {
	idText := strconv.FormatInt(s.ID, 10)
	return removePage{
		Heading:   "Delete " + s.Name + "?",
		Details:   detailsOf(s),
		Version:   s.Version,
		Action:    removePath + idText,
		CancelURL: updatePath + idText,
		Changed:   changed,
	}
}

// parseVersion reads the hidden version field of an edit or delete form
// (suppliers.ParseVersion), answering a malformed one with a page that says
// what to do.
func parseVersion(s string) (int64, error) {
	v, err := suppliers.ParseVersion(s)
	if err != nil {
		return 0, &web.Error{Status: http.StatusBadRequest, Title: "Missing or malformed version",
			Message: "The form did not say which version of the supplier it was based on. " +
				"Open the supplier again from the list and resubmit your changes."}
	}
	return v, nil
}

// formTokenField is the hidden input that carries a form's one-time token:
// the store records it with the change, so the same form posted twice (a
// double click, a browser retrying) changes the suppliers once, and the
// second post is answered like the first.
const formTokenField = "form_token"

// formToken reads a form's one-time token: empty when the form has none (a
// page served before tokens existed, during a release), else the
// base64url text auth.NewToken makes.
func formToken(form url.Values) (string, error) {
	token := form.Get(formTokenField)
	if token == "" {
		return "", nil
	}
	if len(token) > suppliers.MaxFormTokenLength || strings.Trim(token, base64URLAlphabet) != "" {
		return "", &web.Error{Status: http.StatusBadRequest, Title: "Malformed form",
			Message: "The form's one-time token is damaged, so nothing was changed. Go back, reload the page and submit the form again."}
	}
	return token, nil
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// Package suppliers is the supplier domain shared by the customer and employee
// services: the Supplier type, its validation rules, and its MySQL store.
//
// It is the only package that talks to the database, so the rules about what a
// supplier may contain live next to the SQL that stores it.
package suppliers

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Supplier is one row of the suppliers table. Text is stored as the
// employee typed it, trimmed and in Unicode's composed normal form (NFC);
// escaping happens once, on output.
type Supplier struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address"`
	City    string `json:"city"`
	State   string `json:"state"`
	Email   string `json:"email"`
	Phone   string `json:"phone"`
	// Version increases on every change; an edit made against an older
	// version is refused (optimistic concurrency).
	Version int64 `json:"version"`
}

// Input is what an employee submits for a new or changed supplier.
type Input struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	City    string `json:"city"`
	State   string `json:"state"`
	Email   string `json:"email"`
	Phone   string `json:"phone"`
}

// Input returns the supplier's editable fields, e.g. to prefill a form.
func (s Supplier) Input() Input {
	return Input{Name: s.Name, Address: s.Address, City: s.City, State: s.State, Email: s.Email, Phone: s.Phone}
}

// Field describes one editable column: its form name, its label and the
// most characters its column holds. The limits must match the migrations;
// a test compares them with information_schema.
type Field struct {
	Name     string
	Label    string
	MaxChars int
	get      func(*Input) *string
}

// Fields lists the editable fields in the order forms show them.
var Fields = []Field{
	{Name: "name", Label: "Name", MaxChars: 255, get: func(in *Input) *string { return &in.Name }},
	{Name: "address", Label: "Address", MaxChars: 255, get: func(in *Input) *string { return &in.Address }},
	{Name: "city", Label: "City", MaxChars: 255, get: func(in *Input) *string { return &in.City }},
	{Name: "state", Label: "State", MaxChars: 255, get: func(in *Input) *string { return &in.State }},
	{Name: "email", Label: "Email", MaxChars: 254, get: func(in *Input) *string { return &in.Email }},
	{Name: "phone", Label: "Phone", MaxChars: 100, get: func(in *Input) *string { return &in.Phone }},
}

// Value returns the field's value in the input.
func (f Field) Value(in Input) string { return *f.get(&in) }

// Set stores v as the field's value.
func (f Field) Set(in *Input, v string) { *f.get(in) = v }

// FieldErrors maps a field's form name to a message an employee can act on.
type FieldErrors map[string]string

func (fe FieldErrors) Error() string {
	parts := make([]string, 0, len(fe))
	for _, f := range Fields {
		if msg, ok := fe[f.Name]; ok {
			parts = append(parts, f.Name+": "+msg)
		}
	}
	return "invalid supplier: " + strings.Join(parts, "; ")
}

// Phone numbers may be written with the usual separators; what counts is the
// number of digits (E.164 allows at most 15; fewer than 7 is not a number).
const (
	minPhoneDigits = 7
	maxPhoneDigits = 15
)

// Validate trims every field, brings it to NFC (so an accent typed as a
// combining mark and the precomposed letter are the same text, compared,
// searched and counted alike) and checks it against the column it goes
// into. It returns the cleaned input, and FieldErrors when anything is
// wrong.
func Validate(in Input) (Input, error) {
	errs := FieldErrors{}
	for _, f := range Fields {
		v := strings.TrimSpace(f.Value(in))
		if utf8.ValidString(v) {
			v = norm.NFC.String(v)
		}
		f.Set(&in, v)
		if msg := checkText(f, v); msg != "" {
			errs[f.Name] = msg
		}
	}
	if _, bad := errs["email"]; !bad && !validEmail(in.Email) {
		errs["email"] = "Enter an email address like orders@example.com."
	}
	if _, bad := errs["phone"]; !bad && !validPhone(in.Phone) {
		errs["phone"] = fmt.Sprintf("Enter a phone number with %d to %d digits, like +1 206 555 0100.", minPhoneDigits, maxPhoneDigits)
	}
	if len(errs) > 0 {
		return in, errs
	}
	return in, nil
}

// checkText applies the rules every field shares: present, valid text, and
// no longer than its column.
func checkText(f Field, v string) string {
	switch {
	case v == "":
		return f.Label + " is required."
	case !utf8.ValidString(v):
		return f.Label + " contains characters that are not valid text."
	case strings.ContainsFunc(v, unicode.IsControl):
		return f.Label + " must be a single line without control characters."
	case strings.ContainsFunc(v, invisible):
		return f.Label + " contains invisible characters (direction marks, zero-width spaces or line separators). Type it again without them."
	}
	if n := utf8.RuneCountInString(v); n > f.MaxChars {
		return fmt.Sprintf("%s must be at most %d characters (this one has %d).", f.Label, f.MaxChars, n)
	}
	return ""
}

// invisible reports Unicode format characters (Cf: bidirectional overrides
// and isolates, zero-width spaces and joiners, the byte order mark, soft
// hyphens) and line and paragraph separators (Zl, Zp). A browser shows
// none of them, yet they reorder what a reader sees (an RTL override makes
// "moc.elpmaxe" read "example.com") or make two equal-looking texts differ.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// validEmail accepts a plain address: a dot-atom local part (see
// localPartRune), one @, and a domain of two or more labels of letters,
// digits and inner hyphens. No quoted local parts, comments, display names
// or domain literals: nothing a mailto link or a reader could take for more
// than one address.
func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return false
	}
	for atom := range strings.SplitSeq(s[:at], ".") {
		if atom == "" || strings.ContainsFunc(atom, func(r rune) bool { return !localPartRune(r) }) {
			return false
		}
	}
	labels := strings.Split(s[at+1:], ".")
	if len(labels) < 2 {
		return false
	}
	for _, label := range labels {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.ContainsFunc(label, func(r rune) bool { return r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			return false
		}
	}
	return true
}

// localPartRune is RFC 5322's atext without the four characters that mean
// something in a mailto URL (RFC 6068): ? starts the headers a link adds
// to the message (cc, bcc, subject, body), & separates them, % is an escape
// that can hide either from a reader, and # ends the address. What is left
// (letters, digits and !$'*+-/=^_`{|}~) only ever names a mailbox; = is
// kept because it means nothing without a ?. Letters, digits and marks of
// other scripts are kept for internationalised addresses (RFC 6532).
func localPartRune(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return true
	case r < utf8.RuneSelf:
		return strings.ContainsRune("!$'*+-/=^_`{|}~", r)
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// validPhone accepts digits with spaces, dots, dashes and parentheses, and a
// leading plus for the international prefix.
func validPhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= minPhoneDigits && digits <= maxPhoneDigits
}

// ErrInvalidID is returned by ParseID for anything but a positive integer.
var ErrInvalidID = errors.New("supplier id must be a positive whole number")

// ErrInvalidVersion is returned by ParseVersion for anything but a
// positive integer.
var ErrInvalidVersion = errors.New("supplier version must be a positive whole number")

const (
	// maxID is the largest value of the id column (a signed 32-bit INT).
	maxID = 1<<31 - 1
	// maxVersion is the largest value of the version column (INT UNSIGNED).
	maxVersion = 1<<32 - 1
)

// ParseID turns a path segment into a supplier id. Only plain decimal digits
// are accepted: no sign, no spaces, no leading zeros, nothing past the column.
func ParseID(s string) (int64, error) {
	id, ok := parsePositive(s, maxID)
	if !ok {
		return 0, ErrInvalidID
	}
	return id, nil
}

// ParseVersion turns a form's version field into the supplier version an
// edit or delete was based on, by ParseID's rule and the version column's
// bound.
func ParseVersion(s string) (int64, error) {
	version, ok := parsePositive(s, maxVersion)
	if !ok {
		return 0, ErrInvalidVersion
	}
	return version, nil
}

// parsePositive reads s as the canonical decimal form of a number from 1
// to limit, which must fit in ten digits: strconv would also take a sign.
func parsePositive(s string, limit int64) (int64, bool) {
	if s == "" || len(s) > 10 || s[0] == '0' {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n > limit {
		return 0, false
	}
	return n, true
}

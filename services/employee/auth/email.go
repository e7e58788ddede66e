package auth

import (
	"errors"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// MaxEmailChars is the longest email address an account may have.
const MaxEmailChars = 254

// ErrInvalidEmail explains a refused account email.
var ErrInvalidEmail = errors.New("enter an email address like name@example.com")

// NormalizeEmail trims ASCII spaces around an account's email, lower-cases
// its ASCII letters and checks that it is a plain address. Accounts are
// stored and looked up in this form, so Ana@Example.com and ana@example.com
// are the same employee. Nothing else is folded: no other letter's case, no
// accent, no other kind of space. The database's collation ignores
// accents and trailing spaces, so the store compares the form returned here
// exactly.
func NormalizeEmail(email string) (string, error) {
	email = asciiLower(strings.Trim(email, asciiSpace))
	if email == "" || utf8.RuneCountInString(email) > MaxEmailChars {
		return "", ErrInvalidEmail
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "", ErrInvalidEmail
	}
	domain := email[strings.LastIndexByte(email, '@')+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", ErrInvalidEmail
	}
	return email, nil
}

// asciiSpace is the white space a copied email may carry around it.
const asciiSpace = " \t\r\n"

// asciiLower lower-cases A to Z only: strings.ToLower would also fold, for
// example, the Kelvin sign into k.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

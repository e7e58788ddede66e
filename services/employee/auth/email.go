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

// NormalizeEmail trims and lower-cases an account's email and checks that
// it is a plain address. Accounts are stored and looked up in this form, so
// Ana@Example.com and ana@example.com are the same employee.
func NormalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
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

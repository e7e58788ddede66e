package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
)

// CSRFField is the name of the hidden input every state-changing form
// carries.
const CSRFField = "csrf_token"

// tokenBytes is the size of a CSRF token's randomness.
const tokenBytes = 32

// NewToken returns 32 random bytes as base64url text, for a CSRF token.
func NewToken() string {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokensMatch reports whether a submitted token equals the session's, in
// constant time. An empty token never matches.
func TokensMatch(session, submitted string) bool {
	if session == "" || submitted == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(session), []byte(submitted)) == 1
}

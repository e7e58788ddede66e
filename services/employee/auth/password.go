// Package auth holds the employee service's account security, free of HTTP
// handlers and of the database so every rule is unit-tested on its own:
// password hashing and policy, the encrypted session cookie and its expiry,
// CSRF tokens, and the policy that slows and then refuses repeated failed
// sign-ins.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB of memory, two
// passes, one lane). A hash records its own parameters, so raising these
// later keeps old hashes verifiable and NeedsRehash tells when to upgrade.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	saltBytes      = 16
	keyBytes       = 32
)

// Bounds on parameters read back from a stored hash, so a corrupted or
// hostile row cannot make one sign-in allocate gigabytes or spin for
// minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 16
	maxThreads   = 16
)

// The password policy for new passwords. Length is what makes a password
// strong; no composition rules (NIST SP 800-63B).
const (
	MinPasswordChars = 12
	MaxPasswordChars = 256
)

// ErrMalformedHash means a stored password hash is not an argon2id PHC
// string this package can read.
var ErrMalformedHash = errors.New("malformed password hash")

// PolicyError explains why a new password is refused, in words for the
// person choosing it.
type PolicyError struct{ Reason string }

func (e *PolicyError) Error() string { return e.Reason }

// CheckPasswordPolicy refuses passwords that are too short, too long, not
// text, or nothing but spaces.
func CheckPasswordPolicy(password string) error {
	if !utf8.ValidString(password) {
		return &PolicyError{"The password contains bytes that are not valid UTF-8 text."}
	}
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordChars:
		return &PolicyError{fmt.Sprintf("The password must be at least %d characters long (this one has %d). A few unrelated words make a strong, memorable password.", MinPasswordChars, n)}
	case n > MaxPasswordChars:
		return &PolicyError{fmt.Sprintf("The password must be at most %d characters long (this one has %d).", MaxPasswordChars, n)}
	case strings.TrimFunc(password, unicode.IsSpace) == "":
		return &PolicyError{"The password must not be only spaces."}
	case strings.ContainsFunc(password, unicode.IsControl):
		return &PolicyError{"The password must not contain control characters such as tabs or line breaks."}
	}
	return nil
}

// HashPassword hashes password with argon2id and a fresh random salt, as a
// PHC string: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(password string) (string, error) {
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	p := params{memory: argonMemoryKiB, time: argonTime, threads: argonThreads}
	key := deriveKey(password, salt, p, keyBytes)
	return p.encode(salt, key), nil
}

// deriveKey runs argon2id. Each derivation allocates p.memory (19 MiB) and
// drops it: the sign-in handler bounds how many run at once (HashSlots, which
// also collects when the last one ends), and the process's memory limit
// (GOMEMLIMIT, see pkg/web) makes the collector return the memory before the
// container's limit is near, instead of returning it to the system after
// every hash.
func deriveKey(password string, salt []byte, p params, n uint32) []byte {
	return argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, n)
}

// HashSlots bounds how many password hashes run at once: each holds 19 MiB
// and a core for tens of milliseconds, so forty simultaneous sign-ins would
// otherwise take 760 MiB. A request that finds every slot taken is turned
// away at once (503), never queued.
type HashSlots struct{ slots chan struct{} }

// DefaultHashSlots is two hashes per core the Go scheduler uses: enough to
// keep the cores busy, 38 MiB of hashing memory per core at most.
func DefaultHashSlots() int { return 2 * runtime.GOMAXPROCS(0) }

// NewHashSlots allows n hashes at once (n < 1 means DefaultHashSlots).
func NewHashSlots(n int) *HashSlots {
	if n < 1 {
		n = DefaultHashSlots()
	}
	return &HashSlots{slots: make(chan struct{}, n)}
}

// TryAcquire takes a slot if one is free and says whether it did; the
// caller then calls Release when its hash is done.
func (s *HashSlots) TryAcquire() bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release frees a slot taken by TryAcquire. When it frees the last one, it
// starts a collection in the background: a collection that ran during a
// hash saw its 19 MiB alive and set the next goal at about twice that, so
// without one the heap would grow that far under the next load before the
// collector ran again (the employee's RSS under load went from 38 to 60 MB).
// During a burst of sign-ins the slots seldom empty, so this is about one
// small collection per quiet spell, not one per hash.
func (s *HashSlots) Release() {
	<-s.slots
	if len(s.slots) == 0 {
		go runtime.GC()
	}
}

// VerifyPassword reports whether password matches hash, comparing in
// constant time. It reads the parameters from hash, so hashes made with
// other (older or newer) parameters still verify. A hash it cannot read
// returns ErrMalformedHash.
func VerifyPassword(hash, password string) (bool, error) {
	p, salt, key, err := decode(hash)
	if err != nil {
		return false, err
	}
	got := deriveKey(password, salt, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether hash was made with other parameters than
// HashPassword uses now, so a successful sign-in can store a fresh hash.
func NeedsRehash(hash string) bool {
	p, salt, key, err := decode(hash)
	return err != nil || p.memory != argonMemoryKiB || p.time != argonTime || p.threads != argonThreads ||
		len(salt) != saltBytes || len(key) != keyBytes
}

// DummyHash is a hash of a random password with the current parameters,
// made once. Signing in with an unknown email verifies the password against
// it, so the answer takes as long as for a wrong password and its time does
// not tell whether the email has an account.
var DummyHash = sync.OnceValue(func() string {
	h, err := HashPassword(rand.Text())
	if err != nil {
		panic(fmt.Sprintf("auth: hash a dummy password: %v", err))
	}
	return h
})

type params struct {
	memory  uint32
	time    uint32
	threads uint8
}

var b64 = base64.RawStdEncoding

func (p params) encode(salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses a PHC argon2id string strictly.
func decode(hash string) (p params, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported argon2 version %q", ErrMalformedHash, parts[2])
	}
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
	}
	var m, t, threads uint64
	for i, want := range []struct {
		name string
		dst  *uint64
		max  uint64
	}{{"m", &m, maxMemoryKiB}, {"t", &t, maxTime}, {"p", &threads, maxThreads}} {
		name, value, ok := strings.Cut(fields[i], "=")
		if !ok || name != want.name {
			return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
		}
		n, perr := strconv.ParseUint(value, 10, 32)
		if perr != nil || n < 1 || n > want.max {
			return p, nil, nil, fmt.Errorf("%w: parameter %s=%q out of range", ErrMalformedHash, name, value)
		}
		*want.dst = n
	}
	if m < 8*threads {
		return p, nil, nil, fmt.Errorf("%w: memory below 8 KiB per lane", ErrMalformedHash)
	}
	salt, err = b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrMalformedHash)
	}
	key, err = b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("%w: key", ErrMalformedHash)
	}
	return params{memory: uint32(m), time: uint32(t), threads: uint8(threads)}, salt, key, nil
}

package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
)

// CookieName and CookiePath place the session cookie: only the employee
// service's paths ever receive it, never the customer's.
const (
	CookieName = "coffee_session"
	CookiePath = "/admin"
)

// MinKeyBytes is the least secret material a SESSION_KEY entry must hold.
const MinKeyBytes = 32

// Default expiry, and how often a busy session's cookie is re-issued to
// move its idle deadline.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxAge      = 12 * time.Hour
	RefreshEvery       = time.Minute
	// clockSkew is how far in the future another replica's clock may have
	// stamped a session.
	clockSkew = 5 * time.Minute
)

// The bounds a configured idle timeout and maximum age must keep, read
// from the environment or set in code.
const (
	MinIdleTimeout = time.Minute
	MaxIdleTimeout = 24 * time.Hour
	MinMaxAge      = 5 * time.Minute
	MaxMaxAge      = 30 * 24 * time.Hour
)

// Session is what the cookie carries. An anonymous visitor's session has
// only a CSRF token (so the sign-in form is protected too); a signed-in
// employee's also names the employee.
type Session struct {
	EmployeeID int64
	Email      string
	CSRFToken  string
	IssuedAt   time.Time // when the visitor signed in, or first came
	LastSeen   time.Time // the last request that refreshed the cookie
	// Generation is the employee's session generation when they signed
	// in. `employee accounts sign-out-everywhere` and a password reset
	// raise the generation stored with the account, and a session of an
	// older generation is no longer accepted (see SessionChecks).
	Generation int64
}

// SignedIn says whether the session belongs to an employee.
func (s Session) SignedIn() bool { return s.EmployeeID != 0 }

// wire is the session as JSON inside the encrypted cookie: short names and
// Unix seconds keep the cookie small. Cookies sealed before the upgrade
// also hold "d" (the employee's last change, once the page cache's
// concern); decoding ignores it, so they keep working.
type wire struct {
	ID       int64  `json:"i,omitempty"`
	Email    string `json:"e,omitempty"`
	CSRF     string `json:"c"`
	Issued   int64  `json:"t"`
	LastSeen int64  `json:"s"`
	Gen      int64  `json:"g,omitempty"`
}

// SplitKeys reads SESSION_KEY: one or more comma-separated secrets, each
// of at least MinKeyBytes bytes (see CheckKeys). The first encrypts new
// cookies; every one decrypts, so a key can be rotated without signing
// everybody out: put the new key first, keep the old one after it until
// the longest session has expired, then drop it.
func SplitKeys(value string) [][]byte {
	if strings.TrimSpace(value) == "" {
		return nil
	}
	var keys [][]byte
	for part := range strings.SplitSeq(value, ",") {
		keys = append(keys, []byte(strings.TrimSpace(part)))
	}
	return keys
}

// CheckKeys is the one rule for session keys, wherever they come from: at
// least one, and each at least MinKeyBytes long.
func CheckKeys(keys [][]byte) error {
	if len(keys) == 0 {
		return errors.New("is required but not set: set it to at least 32 random bytes, e.g. the output of `openssl rand -base64 48`")
	}
	for i, key := range keys {
		if len(key) < MinKeyBytes {
			// Never echo the value: it is a secret.
			return fmt.Errorf("key %d of %d is %d bytes long; each key must be at least %d bytes of random text, e.g. the output of `openssl rand -base64 48`",
				i+1, len(keys), len(key), MinKeyBytes)
		}
	}
	return nil
}

// Codec encrypts and authenticates session cookies with AES-256-GCM. The
// value is base64url(version ‖ nonce ‖ ciphertext ‖ tag): nobody without
// the key can read it or forge one, and any replica holding SESSION_KEY can
// open it, so sessions need no shared memory.
type Codec struct {
	aeads []cipher.AEAD // the first seals; all open
}

const codecVersion = 1

// additionalData binds a sealed value to its purpose: a value sealed for
// anything else with the same key does not open as a session.
var additionalData = []byte("coffee-suppliers session cookie v1")

// NewCodec derives one AES-256 key per secret with HKDF-SHA256.
func NewCodec(secrets [][]byte) (*Codec, error) {
	if err := CheckKeys(secrets); err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	c := &Codec{}
	for _, secret := range secrets {
		key, err := hkdf.Key(sha256.New, secret, nil, "coffee-suppliers session AES-256-GCM", 32)
		if err != nil {
			return nil, fmt.Errorf("session codec: derive key: %w", err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("session codec: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("session codec: %w", err)
		}
		c.aeads = append(c.aeads, aead)
	}
	return c, nil
}

// ErrInvalidCookie means a cookie value did not decrypt with any key: it
// was tampered with, made with another key, or is not a session at all.
var ErrInvalidCookie = errors.New("invalid session cookie")

// Seal encrypts s with the first key.
func (c *Codec) Seal(s Session) (string, error) {
	plain, err := json.Marshal(wire{ID: s.EmployeeID, Email: s.Email, CSRF: s.CSRFToken,
		Issued: s.IssuedAt.Unix(), LastSeen: s.LastSeen.Unix(), Gen: s.Generation})
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	return c.seal(plain)
}

// seal encrypts plain with the first key.
func (c *Codec) seal(plain []byte) (string, error) {
	aead := c.aeads[0]
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = codecVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return "", fmt.Errorf("session nonce: %w", err)
	}
	out = aead.Seal(out, out[1:], plain, additionalData)
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a cookie value sealed with any of the keys.
func (c *Codec) Open(value string) (Session, error) {
	plain, err := c.open(value)
	if err != nil {
		return Session{}, err
	}
	var w wire
	if err := json.Unmarshal(plain, &w); err != nil || w.CSRF == "" || w.ID < 0 || w.Gen < 0 {
		return Session{}, ErrInvalidCookie
	}
	return Session{EmployeeID: w.ID, Email: w.Email, CSRFToken: w.CSRF,
		IssuedAt: time.Unix(w.Issued, 0).UTC(), LastSeen: time.Unix(w.LastSeen, 0).UTC(), Generation: w.Gen}, nil
}

// open decrypts value with the first key that opens it.
func (c *Codec) open(value string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < 1 || raw[0] != codecVersion {
		return nil, ErrInvalidCookie
	}
	raw = raw[1:]
	for _, aead := range c.aeads {
		if len(raw) < aead.NonceSize()+aead.Overhead() {
			return nil, ErrInvalidCookie
		}
		if plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], additionalData); err == nil {
			return plain, nil
		}
	}
	return nil, ErrInvalidCookie
}

// State is what a request's session cookie turned out to be.
type State int

const (
	// None: no cookie, or one that is invalid or too old even for an
	// anonymous visitor.
	None State = iota
	// Anonymous: a visitor who has not signed in, with a CSRF token.
	Anonymous
	// Active: a signed-in employee within both time limits.
	Active
	// Expired: an employee's session past its idle timeout or maximum age.
	Expired
)

func (s State) String() string {
	switch s {
	case Anonymous:
		return "anonymous"
	case Active:
		return "active"
	case Expired:
		return "expired"
	default:
		return "none"
	}
}

// Manager applies the expiry rules and writes the cookie.
type Manager struct {
	codec       *Codec
	idleTimeout time.Duration
	maxAge      time.Duration
	now         func() time.Time
}

// ManagerConfig configures NewManager. Zero durations take the defaults;
// a nil Now is time.Now.
type ManagerConfig struct {
	Keys        [][]byte
	IdleTimeout time.Duration
	MaxAge      time.Duration
	// Now is the clock sessions are judged by; tests move it forward
	// instead of sleeping.
	Now func() time.Time
}

// NewManager builds a Manager.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	codec, err := NewCodec(cfg.Keys)
	if err != nil {
		return nil, err
	}
	m := &Manager{codec: codec, idleTimeout: cfg.IdleTimeout, maxAge: cfg.MaxAge, now: cfg.Now}
	if m.idleTimeout <= 0 {
		m.idleTimeout = DefaultIdleTimeout
	}
	if m.maxAge <= 0 {
		m.maxAge = DefaultMaxAge
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// Now is the manager's clock.
func (m *Manager) Now() time.Time { return m.now() }

// Judge classifies a decoded session at now. A signed-in session expires
// after IdleTimeout without a request or MaxAge after sign-in, whichever
// comes first; an anonymous one (it only carries a CSRF token) after MaxAge.
func (m *Manager) Judge(s Session, now time.Time) State {
	if s.CSRFToken == "" || s.IssuedAt.After(now.Add(clockSkew)) || s.LastSeen.Before(s.IssuedAt) {
		return None
	}
	age := now.Sub(s.IssuedAt)
	if !s.SignedIn() {
		if age >= m.maxAge {
			return None
		}
		return Anonymous
	}
	if age >= m.maxAge || now.Sub(s.LastSeen) >= m.idleTimeout {
		return Expired
	}
	return Active
}

// Read decodes the request's session cookie and judges it. An expired
// employee session is returned with it, so its CSRF token can still be
// checked; an invalid cookie counts as none.
func (m *Manager) Read(r *http.Request) (Session, State) {
	cookie, err := r.Cookie(CookieName)
	if err != nil || cookie.Value == "" {
		return Session{}, None
	}
	s, err := m.codec.Open(cookie.Value)
	if err != nil {
		return Session{}, None
	}
	state := m.Judge(s, m.now())
	if state == None {
		return Session{}, None
	}
	return s, state
}

// NewAnonymous starts a visitor's session: a fresh CSRF token, no employee.
func (m *Manager) NewAnonymous() Session {
	now := m.now()
	return Session{CSRFToken: NewToken(), IssuedAt: now, LastSeen: now}
}

// NewSignedIn starts an employee's session with a fresh CSRF token, so
// nothing from before sign-in (a token an attacker planted) carries over.
// generation is the account's session generation now.
func (m *Manager) NewSignedIn(employeeID int64, email string, generation int64) Session {
	now := m.now()
	return Session{EmployeeID: employeeID, Email: email, CSRFToken: NewToken(), IssuedAt: now, LastSeen: now,
		Generation: generation}
}

// Ends is when s expires at the latest, whatever its use (MaxAge after
// sign-in, plus the clock skew allowed between replicas): an ended session
// need not be remembered longer.
func (m *Manager) Ends(s Session) time.Time { return s.IssuedAt.Add(m.maxAge + clockSkew) }

// Touch moves an active session's last-seen time to now when it is at
// least RefreshEvery old, and says whether it did: re-issuing the cookie on
// every request would be wasted work, so the idle deadline moves in steps
// of a minute.
func (m *Manager) Touch(s *Session) bool {
	now := m.now()
	if now.Sub(s.LastSeen) < RefreshEvery {
		return false
	}
	s.LastSeen = now
	return true
}

// Write sets the session cookie on the response.
func (m *Manager) Write(w http.ResponseWriter, r *http.Request, s Session) error {
	value, err := m.codec.Seal(s)
	if err != nil {
		return err
	}
	http.SetCookie(w, cookie(r, value, 0))
	return nil
}

// Clear removes the session cookie from the browser.
func (m *Manager) Clear(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, cookie(r, "", -1))
}

// cookie is the session cookie: readable only by the server (HttpOnly),
// not sent with other sites' form posts (SameSite=Lax), only over HTTPS
// when the page was served over HTTPS, and only to /admin. It has no
// Max-Age: the browser drops it when closed, and the server enforces the
// time limits whatever the browser keeps.
func cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     CookieName,
		Value:    value,
		Path:     CookiePath,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   web.IsHTTPS(r),
		SameSite: http.SameSiteLaxMode,
	}
}

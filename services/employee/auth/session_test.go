package auth

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webtest"
)

var (
	keyA = []byte("key-a-0123456789abcdef0123456789abcdef")
	keyB = []byte("key-b-0123456789abcdef0123456789abcdef")
)

func newFakeClock() *webtest.Clock {
	return webtest.NewClock(time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC))
}

func mustCodec(t *testing.T, keys ...[]byte) *Codec {
	t.Helper()
	c, err := NewCodec(keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleSession() Session {
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	return Session{EmployeeID: 42, Email: "ana@coffee.example", CSRFToken: NewToken(), IssuedAt: at, LastSeen: at.Add(time.Minute)}
}

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	c := mustCodec(t, keyA)
	s := sampleSession()
	value, err := c.Seal(s)
	if err != nil {
		t.Fatal(err)
	}
	// The cookie must be sealed, not just encoded: its bytes must not hold
	// the email. (A search of the text itself for a short name fails now
	// and then, when the random ciphertext happens to spell it.)
	sealed, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || strings.ContainsAny(value, "=+/;, ") {
		t.Fatalf("cookie value %q is not unpadded base64url: %v", value, err)
	}
	if strings.Contains(string(sealed), s.Email) {
		t.Errorf("cookie value %q shows the email %q", value, s.Email)
	}
	got, err := c.Open(value)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if got != s {
		t.Errorf("opened %+v, want %+v", got, s)
	}
	again, _ := c.Seal(s)
	if again == value {
		t.Error("two seals of one session are equal: the nonce is not random")
	}
}

// TestCookieCarriesOnlyTheSession: the cookie holds who is signed in and
// the session's times, token and generation, nothing any page cache needs.
// Cookies sealed while it also held the employee's last change ("d", Unix
// milliseconds) still open, that field ignored, so nobody is signed out by
// the upgrade.
func TestCookieCarriesOnlyTheSession(t *testing.T) {
	t.Parallel()
	c := mustCodec(t, keyA)
	value, err := c.Seal(Session{EmployeeID: 42, Email: "ana@coffee.example", CSRFToken: "token",
		IssuedAt: time.Unix(1773478800, 0), LastSeen: time.Unix(1773478860, 0), Generation: 3})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := c.open(value)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(plain, &fields); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(fields)); !slices.Equal(got, []string{"c", "e", "g", "i", "s", "t"}) {
		t.Errorf("the cookie holds %q, want the employee, email, token, times and generation only", got)
	}

	old, err := c.seal([]byte(`{"i":42,"e":"ana@coffee.example","c":"token","t":1773478800,"s":1773478860,"d":1773478830123,"g":3}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Open(old)
	want := Session{EmployeeID: 42, Email: "ana@coffee.example", CSRFToken: "token",
		IssuedAt: time.Unix(1773478800, 0).UTC(), LastSeen: time.Unix(1773478860, 0).UTC(), Generation: 3}
	if err != nil || got != want {
		t.Errorf("a cookie with the last change opened as %+v, %v; want %+v", got, err, want)
	}
}

func TestCodecRefusesTamperedValues(t *testing.T) {
	t.Parallel()
	c := mustCodec(t, keyA)
	value, _ := c.Seal(sampleSession())
	raw, _ := base64.RawURLEncoding.DecodeString(value)
	for i := range raw {
		tampered := append([]byte{}, raw...)
		tampered[i] ^= 0x01
		if _, err := c.Open(base64.RawURLEncoding.EncodeToString(tampered)); err == nil {
			t.Fatalf("a value with byte %d flipped opened", i)
		}
	}
	for _, bad := range []string{"", "x", "not base64!", value[:len(value)-4], value + "AA", base64.RawURLEncoding.EncodeToString([]byte{1})} {
		if _, err := c.Open(bad); err != ErrInvalidCookie {
			t.Errorf("Open(%q) = %v, want ErrInvalidCookie", bad, err)
		}
	}
}

func TestCodecRefusesOtherKeys(t *testing.T) {
	t.Parallel()
	value, _ := mustCodec(t, keyB).Seal(sampleSession())
	if _, err := mustCodec(t, keyA).Open(value); err != ErrInvalidCookie {
		t.Errorf("a cookie sealed with another key opened: %v", err)
	}
}

// TestKeyRotation: the first key seals, every key opens, and a key that
// has been dropped no longer opens anything.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	s := sampleSession()
	old, _ := mustCodec(t, keyA).Seal(s)
	rotated := mustCodec(t, keyB, keyA)
	if got, err := rotated.Open(old); err != nil || got != s {
		t.Errorf("a cookie of the previous key did not open after rotation: %v", err)
	}
	fresh, _ := rotated.Seal(s)
	if _, err := mustCodec(t, keyB).Open(fresh); err != nil {
		t.Errorf("rotation does not seal with the first key: %v", err)
	}
	if _, err := mustCodec(t, keyB).Open(old); err == nil {
		t.Error("a cookie of a dropped key still opens")
	}
}

func TestSplitAndCheckKeys(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("k", 32)
	keys := SplitKeys(long + " , " + strings.Repeat("j", 40))
	if err := CheckKeys(keys); err != nil || len(keys) != 2 || string(keys[0]) != long {
		t.Errorf("SplitKeys(two keys) = %q, CheckKeys: %v", keys, err)
	}
	for _, bad := range []string{"", "   ", "short-secret", long + ",", long + ",tooshort"} {
		err := CheckKeys(SplitKeys(bad))
		if err == nil {
			t.Errorf("CheckKeys(SplitKeys(%q)) accepted", bad)
			continue
		}
		if strings.Contains(bad, "short") && strings.Contains(err.Error(), "short") {
			t.Errorf("the error repeats the secret: %v", err)
		}
	}
	if _, err := NewCodec([][]byte{[]byte("short")}); err == nil {
		t.Error("NewCodec accepted a short key")
	}
}

func newManager(t *testing.T, clock *webtest.Clock) *Manager {
	t.Helper()
	m, err := NewManager(ManagerConfig{Keys: [][]byte{keyA}, IdleTimeout: 30 * time.Minute, MaxAge: 12 * time.Hour, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// roundTrip writes s as a response cookie and reads it back as the next
// request's, as a browser would.
func roundTrip(t *testing.T, m *Manager, s Session) (Session, State) {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := m.Write(rec, httptest.NewRequest(http.MethodGet, "/admin/suppliers", nil), s); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/admin/suppliers", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	return m.Read(req)
}

func TestIdleTimeoutWithFakeClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m := newManager(t, clock)
	s := m.NewSignedIn(7, "ana@coffee.example", 0)
	if _, state := roundTrip(t, m, s); state != Active {
		t.Fatalf("new session is %v", state)
	}
	clock.Advance(29 * time.Minute)
	if _, state := roundTrip(t, m, s); state != Active {
		t.Fatalf("after 29 idle minutes: %v, want active", state)
	}
	// A request now moves the idle deadline.
	if !m.Touch(&s) {
		t.Fatal("Touch did not refresh a 29-minute-old last-seen")
	}
	if m.Touch(&s) {
		t.Error("Touch refreshed twice within a minute")
	}
	clock.Advance(29 * time.Minute)
	if _, state := roundTrip(t, m, s); state != Active {
		t.Fatalf("29 minutes after the refresh: %v, want active", state)
	}
	clock.Advance(2 * time.Minute)
	got, state := roundTrip(t, m, s)
	if state != Expired {
		t.Fatalf("31 idle minutes: %v, want expired", state)
	}
	if got.CSRFToken != s.CSRFToken {
		t.Error("an expired session is not returned with its token")
	}
}

func TestAbsoluteLifetimeWithFakeClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m := newManager(t, clock)
	s := m.NewSignedIn(7, "ana@coffee.example", 0)
	// Busy all day: a request every 10 minutes keeps it from idling out,
	// but not past 12 hours.
	for elapsed := time.Duration(0); elapsed < 12*time.Hour; elapsed += 10 * time.Minute {
		if _, state := roundTrip(t, m, s); state != Active {
			t.Fatalf("after %v of use: %v, want active", elapsed, state)
		}
		m.Touch(&s)
		clock.Advance(10 * time.Minute)
	}
	if _, state := roundTrip(t, m, s); state != Expired {
		t.Fatalf("after 12 h: %v, want expired", state)
	}
}

func TestAnonymousSessions(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m := newManager(t, clock)
	anon := m.NewAnonymous()
	if anon.SignedIn() || len(anon.CSRFToken) < 43 {
		t.Fatalf("anonymous session %+v", anon)
	}
	clock.Advance(2 * time.Hour) // idle time does not matter to a visitor's token
	if got, state := roundTrip(t, m, anon); state != Anonymous || got.CSRFToken != anon.CSRFToken {
		t.Errorf("anonymous after 2 h: %v", state)
	}
	clock.Advance(11 * time.Hour)
	if _, state := roundTrip(t, m, anon); state != None {
		t.Errorf("anonymous after 13 h: %v, want none", state)
	}
}

func TestSessionsFromTheFutureOrWithoutTokenAreRefused(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m := newManager(t, clock)
	future := m.NewSignedIn(7, "ana@coffee.example", 0)
	future.IssuedAt = clock.Now().Add(time.Hour)
	future.LastSeen = future.IssuedAt
	if _, state := roundTrip(t, m, future); state != None {
		t.Errorf("a session issued in an hour: %v, want none", state)
	}
	skewed := m.NewSignedIn(7, "ana@coffee.example", 0)
	skewed.IssuedAt = clock.Now().Add(time.Minute) // another replica's clock runs ahead
	skewed.LastSeen = skewed.IssuedAt
	if _, state := roundTrip(t, m, skewed); state != Active {
		t.Errorf("a session from a clock a minute ahead: %v, want active", state)
	}
	if state := m.Judge(Session{EmployeeID: 7, IssuedAt: clock.Now(), LastSeen: clock.Now()}, clock.Now()); state != None {
		t.Errorf("a session without a CSRF token: %v, want none", state)
	}
}

func TestReadIgnoresMissingAndForgedCookies(t *testing.T) {
	t.Parallel()
	m := newManager(t, newFakeClock())
	req := httptest.NewRequest(http.MethodGet, "/admin/suppliers", nil)
	if _, state := m.Read(req); state != None {
		t.Errorf("no cookie: %v", state)
	}
	req.AddCookie(&http.Cookie{Name: CookieName, Value: "forged"})
	if _, state := m.Read(req); state != None {
		t.Errorf("forged cookie: %v", state)
	}
}

func TestCookieAttributes(t *testing.T) {
	t.Parallel()
	m := newManager(t, newFakeClock())
	for _, tc := range []struct {
		name   string
		req    func() *http.Request
		secure bool
	}{
		{"plain http", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/admin/login", nil) }, false},
		{"tls", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/admin/login", nil)
			r.TLS = &tls.ConnectionState{}
			return r
		}, true},
		{"behind an https load balancer", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/admin/login", nil)
			r.Header.Set("X-Forwarded-Proto", "https")
			return r
		}, true},
		{"behind a load balancer writing the scheme in capitals", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/admin/login", nil)
			r.Header.Set("X-Forwarded-Proto", "HTTPS")
			return r
		}, true},
	} {
		rec := httptest.NewRecorder()
		if err := m.Write(rec, tc.req(), m.NewAnonymous()); err != nil {
			t.Fatal(err)
		}
		header := rec.Header().Get("Set-Cookie")
		for _, want := range []string{CookieName + "=", "Path=/admin", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(header, want) {
				t.Errorf("%s: Set-Cookie %q lacks %s", tc.name, header, want)
			}
		}
		if strings.Contains(header, "Secure") != tc.secure {
			t.Errorf("%s: Set-Cookie %q, want Secure=%v", tc.name, header, tc.secure)
		}
		if strings.Contains(header, "Max-Age") || strings.Contains(header, "Expires") {
			t.Errorf("%s: the session cookie outlives the browser: %q", tc.name, header)
		}
	}
	rec := httptest.NewRecorder()
	m.Clear(rec, httptest.NewRequest(http.MethodPost, "/admin/logout", nil))
	if h := rec.Header().Get("Set-Cookie"); !strings.Contains(h, "Max-Age=0") || !strings.Contains(h, "Path=/admin") {
		t.Errorf("Clear sets %q", h)
	}
}

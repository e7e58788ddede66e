package auth

import (
	"strings"
	"testing"
	"time"
)

func TestCSRFTokens(t *testing.T) {
	t.Parallel()
	a, b := NewToken(), NewToken()
	if a == b || len(a) != 43 || strings.ContainsAny(a, "+/=") {
		t.Fatalf("tokens %q and %q: want two different base64url encodings of 32 bytes", a, b)
	}
	if !TokensMatch(a, a) {
		t.Error("a token does not match itself")
	}
	for _, submitted := range []string{"", b, a[:42], a + "x", strings.ToUpper(a)} {
		if submitted != a && TokensMatch(a, submitted) {
			t.Errorf("TokensMatch(%q, %q) = true", a, submitted)
		}
	}
	if TokensMatch("", "") {
		t.Error("two empty tokens match")
	}
}

func TestThrottlePolicy(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		limits   Limits
		failures int
		ago      time.Duration // since the last failure
		want     Verdict
	}{
		{"account: none", AccountLimits, 0, 0, Verdict{}},
		{"account: 2 failures", AccountLimits, 2, time.Second, Verdict{}},
		{"account: 3 failures slow down", AccountLimits, 3, time.Second, Verdict{Delay: 250 * time.Millisecond}},
		{"account: 4", AccountLimits, 4, time.Second, Verdict{Delay: 500 * time.Millisecond}},
		{"account: 5", AccountLimits, 5, time.Second, Verdict{Delay: time.Second}},
		{"account: 6 reaches the cap", AccountLimits, 6, time.Second, Verdict{Delay: 2 * time.Second}},
		{"account: 9 stays at the cap", AccountLimits, 9, time.Second, Verdict{Delay: 2 * time.Second}},
		{"account: 10 refused", AccountLimits, 10, time.Minute, Verdict{Refuse: true, RetryAfter: 14 * time.Minute}},
		{"account: 25 refused", AccountLimits, 25, 0, Verdict{Refuse: true, RetryAfter: 15 * time.Minute}},
		{"account: almost free", AccountLimits, 10, 15*time.Minute - time.Millisecond, Verdict{Refuse: true, RetryAfter: time.Second}},
		{"account: window passed", AccountLimits, 10, 15 * time.Minute, Verdict{}},
		{"account: window long passed", AccountLimits, 6, time.Hour, Verdict{}},
		{"address: 9", AddressLimits, 9, time.Second, Verdict{}},
		{"address: 10 slow down", AddressLimits, 10, time.Second, Verdict{Delay: 250 * time.Millisecond}},
		{"address: 49", AddressLimits, 49, time.Second, Verdict{Delay: 2 * time.Second}},
		{"address: 50 refused", AddressLimits, 50, 5 * time.Minute, Verdict{Refuse: true, RetryAfter: 10 * time.Minute}},
	} {
		got := tc.limits.Judge(tc.failures, now.Add(-tc.ago), now)
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestWorstVerdict(t *testing.T) {
	t.Parallel()
	slow := Verdict{Delay: time.Second}
	refused := Verdict{Refuse: true, RetryAfter: 3 * time.Minute}
	later := Verdict{Refuse: true, RetryAfter: 9 * time.Minute}
	for _, tc := range []struct{ a, b, want Verdict }{
		{Verdict{}, Verdict{}, Verdict{}},
		{slow, Verdict{}, slow},
		{Verdict{}, refused, refused},
		{slow, refused, Verdict{Delay: time.Second, Refuse: true, RetryAfter: 3 * time.Minute}},
		{refused, later, later},
	} {
		if got := Worst(tc.a, tc.b); got != tc.want {
			t.Errorf("Worst(%+v, %+v) = %+v, want %+v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, 14 * time.Minute: 840} {
		if got := RetryAfterSeconds(d); got != want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestThrottleKeys(t *testing.T) {
	t.Parallel()
	if AccountKey("Ana@Coffee.example ") != AccountKey("ana@coffee.example") {
		t.Error("account keys depend on case or spaces")
	}
	if AccountKey("ana@coffee.example") == AccountKey("bob@coffee.example") {
		t.Error("two emails share a key")
	}
	if k := AccountKey("my secret password"); strings.Contains(k, "secret") || len(k) != len("email:")+32 {
		t.Errorf("account key %q shows what was typed or has an odd length", k)
	}
	for ip, want := range map[string]string{
		"203.0.113.7":          "ip:203.0.113.7",
		"::ffff:203.0.113.7":   "ip:203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "ip:2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "ip:2001:db8:1:2::/64",
		"fe80::1%eth0":         "ip:fe80::/64",
		"":                     "ip:unknown",
		"not an address":       "ip:unknown",
	} {
		if got := AddressKey(ip); got != want {
			t.Errorf("AddressKey(%q) = %q, want %q", ip, got, want)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ana@coffee.example":          "ana@coffee.example",
		"  Ana.Lopez@Coffee.Example ": "ana.lopez@coffee.example",
		"o'brien+admin@example.co.uk": "o'brien+admin@example.co.uk",
	} {
		if got, err := NormalizeEmail(in); err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ana", "ana@localhost", "Ana <ana@coffee.example>", "ana@coffee.example.", "a b@coffee.example", strings.Repeat("a", 250) + "@x.example"} {
		if got, err := NormalizeEmail(bad); err == nil {
			t.Errorf("NormalizeEmail(%q) = %q, want an error", bad, got)
		}
	}
}

package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Limits is how repeated failed sign-ins are met for one key (an account
// from one address, an account from anywhere, or a client address).
// Failures count within Window of the last one: the count starts again
// once Window has passed without a failure.
type Limits struct {
	Window time.Duration
	// SlowAfter failures, each further attempt waits Delay, doubling with
	// each failure up to MaxDelay.
	SlowAfter int
	Delay     time.Duration
	MaxDelay  time.Duration
	// RefuseAfter failures, attempts are refused (429) until Window has
	// passed since the last failure, even with the right password. Zero
	// never refuses.
	RefuseAfter int
}

// ThrottleWindow is how long failed sign-ins are remembered.
const ThrottleWindow = 15 * time.Minute

// AccountLimits apply to one account (or one email without an account, so
// the answer never tells which emails exist) from one client address. The
// refusal only ever stops that address: the employee, from their own
// address, still signs in.
var AccountLimits = Limits{Window: ThrottleWindow, SlowAfter: 3, Delay: 250 * time.Millisecond,
	MaxDelay: 2 * time.Second, RefuseAfter: 10}

// AccountWideLimits apply to one account from every address together:
// guessing from many addresses meets a growing delay, never a refusal, so
// nobody can lock an employee out by failing on purpose.
var AccountWideLimits = Limits{Window: ThrottleWindow, SlowAfter: 10, Delay: time.Second,
	MaxDelay: 8 * time.Second}

// AddressLimits apply per client address. They are higher because an
// office or a mobile carrier puts many people behind one address.
var AddressLimits = Limits{Window: ThrottleWindow, SlowAfter: 10, Delay: 250 * time.Millisecond,
	MaxDelay: 2 * time.Second, RefuseAfter: 50}

// Verdict is what to do with one sign-in attempt.
type Verdict struct {
	// Delay is how long to wait before checking the password.
	Delay time.Duration
	// Refuse says to answer 429 without checking the password at all;
	// RetryAfter is when the window frees up.
	Refuse     bool
	RetryAfter time.Duration
}

// Judge decides about an attempt at now, given the key's failures so far
// and when the last one happened.
func (l Limits) Judge(failures int, last, now time.Time) Verdict {
	if failures <= 0 || now.Sub(last) >= l.Window {
		return Verdict{}
	}
	if l.RefuseAfter > 0 && failures >= l.RefuseAfter {
		return Verdict{Refuse: true, RetryAfter: max(last.Add(l.Window).Sub(now), time.Second)}
	}
	if failures < l.SlowAfter {
		return Verdict{}
	}
	delay := l.Delay
	for i := l.SlowAfter; i < failures && delay < l.MaxDelay; i++ {
		delay *= 2
	}
	return Verdict{Delay: min(delay, l.MaxDelay)}
}

// Worst combines the verdicts for the account and the address: the longer
// delay, and a refusal from either, with the later retry time.
func Worst(a, b Verdict) Verdict {
	return Verdict{
		Delay:      max(a.Delay, b.Delay),
		Refuse:     a.Refuse || b.Refuse,
		RetryAfter: max(a.RetryAfter, b.RetryAfter),
	}
}

// RetryAfterSeconds is d as a Retry-After header value: whole seconds,
// rounded up, at least one.
func RetryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// AccountKey is the throttling key of an email that has no account. It is
// a hash, so the table of failures never
// holds what people typed (sometimes a password typed into the wrong box),
// and every key has the same short length.
func AccountKey(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "email:" + hex.EncodeToString(sum[:16])
}

// EmployeeKey is the throttling key of an existing account: the account
// found, however its email was typed.
func EmployeeKey(id int64) string { return "employee:" + strconv.FormatInt(id, 10) }

// PairKey is the throttling key of one account (EmployeeKey or AccountKey)
// tried from one address (AddressKey).
func PairKey(account, address string) string { return account + PairSeparator + address }

// PairSeparator ends the account part of a PairKey, so an account's pairs
// are the keys that begin with its key and PairSeparator.
const PairSeparator = "|"

// AddressKey is the throttling key of a client address. IPv6 clients are
// counted by /64, the block one subscriber usually holds, so rotating
// through its addresses does not reset the count.
func AddressKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "ip:unknown"
	}
	addr = addr.Unmap()
	if addr.Is6() {
		prefix, _ := addr.WithZone("").Prefix(64)
		return "ip:" + prefix.String()
	}
	return "ip:" + addr.String()
}

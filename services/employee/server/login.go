package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

// The words of the sign-in page. One message for an unknown email and a
// wrong password, so the page never tells whether an email has an account.
const (
	msgIncorrect    = "Email or password is incorrect."
	msgMissing      = "Enter your email and password."
	msgExpired      = "Your session expired. Please sign in again."
	msgSignedOut    = "You have signed out."
	msgBusy         = "Too many people are signing in at this moment. Nothing is wrong with your details: please try again in a few seconds."
	msgTooManyStart = "Too many failed sign-in attempts. For your security, signing in is paused: try again in "
)

// loginPage is the data of the sign-in page.
type loginPage struct {
	Email   string // as typed, kept after a failed attempt; never the password
	Next    string // where to go afterwards
	Error   string // why the last attempt failed
	Warning string // the session expired
	Notice  string // signed out
}

func (h handlers) loginForm(c *gin.Context) error {
	next := safeNext(c.Query("next"))
	if session(c).SignedIn() {
		c.Redirect(http.StatusSeeOther, next)
		return nil
	}
	page := loginPage{Next: next}
	if c.Query("expired") == "1" {
		page.Warning = msgExpired
	}
	if c.Query("signed_out") == "1" {
		page.Notice = msgSignedOut
	}
	return h.showLogin(c, http.StatusOK, page)
}

func (h handlers) login(c *gin.Context) error {
	form := c.Request.PostForm // parsed, and its CSRF token checked, by the guard
	email := strings.TrimSpace(form.Get("email"))
	password := form.Get("password")
	page := loginPage{Email: email, Next: safeNext(form.Get("next"))}
	if email == "" || password == "" {
		page.Error = msgMissing
		return h.showLogin(c, http.StatusBadRequest, page)
	}
	ctx := c.Request.Context()
	if err := h.firstAdmin.ensure(ctx, h.log, h.store); err != nil {
		return err
	}

	// The account found, not the text typed, is what the limits count:
	// however an email is spelt, one account has one count. An email
	// without an account is counted the same way under its own key, so
	// the answers never tell which emails exist.
	employee, found, err := h.findEmployee(ctx, form.Get("email"))
	if err != nil {
		return err
	}
	account := auth.AccountKey(email)
	if found {
		account = auth.EmployeeKey(employee.ID)
	}
	address := auth.AddressKey(c.ClientIP())
	attempt, err := h.countAttempt(ctx, h.sessions.Now(), []throttleKey{
		{auth.PairKey(account, address), auth.AccountLimits},
		{account, auth.AccountWideLimits},
		{address, auth.AddressLimits},
	})
	if err != nil {
		return err
	}
	if attempt.verdict.Refuse {
		// Refused before the password is even looked at, so the right
		// password does not get through either, and the answer is the
		// same whether or not the email has an account.
		if err := h.forgetAttempt(ctx, attempt); err != nil {
			return err
		}
		seconds := auth.RetryAfterSeconds(attempt.verdict.RetryAfter)
		c.Header("Retry-After", strconv.Itoa(seconds))
		h.log.LogAttrs(ctx, slog.LevelWarn, "sign-in refused: too many failures", attrRequest(c)...)
		page.Error = msgTooManyStart + minutes(seconds) + "."
		return h.showLogin(c, http.StatusTooManyRequests, page)
	}
	if attempt.verdict.Delay > 0 {
		if err := h.sleep(ctx, attempt.verdict.Delay); err != nil {
			return errors.Join(err, h.forgetAttempt(ctx, attempt))
		}
	}

	// Each check holds 19 MiB and a core: past the bound, answer at once
	// rather than queue (or allocate) without limit.
	if !h.hashSlots.TryAcquire() {
		if err := h.forgetAttempt(ctx, attempt); err != nil {
			return err
		}
		c.Header("Retry-After", strconv.Itoa(busyRetrySeconds))
		h.log.LogAttrs(ctx, slog.LevelWarn, "sign-in turned away: every password check slot is busy", attrRequest(c)...)
		page.Error = msgBusy
		return h.showLogin(c, http.StatusServiceUnavailable, page)
	}
	ok := h.checkPassword(employee, found, password)
	if ok && auth.NeedsRehash(employee.PasswordHash) {
		h.upgradeHash(ctx, employee, password) // hashes too: within the slot
	}
	h.hashSlots.Release()
	if !ok {
		// The attempt stays counted. The email is not logged: people
		// sometimes type their password into the email box.
		h.log.LogAttrs(ctx, slog.LevelInfo, "sign-in failed", attrRequest(c)...)
		page.Error = msgIncorrect
		return h.showLogin(c, http.StatusUnauthorized, page)
	}

	if err := h.clearAttempt(ctx, attempt); err != nil {
		return err
	}
	// A new session with a new CSRF token: nothing an attacker may have
	// planted before sign-in carries over (no session fixation).
	if !h.writeSession(c, h.sessions.NewSignedIn(employee.ID, employee.Email, employee.SessionGeneration)) {
		return nil
	}
	h.log.LogAttrs(ctx, slog.LevelInfo, "signed in", append(attrRequest(c), attrEmployee(employee.ID, employee.Email)...)...)
	c.Redirect(http.StatusSeeOther, page.Next)
	return nil
}

// busyRetrySeconds is the Retry-After of a sign-in turned away because
// every password check slot was busy: a check takes tens of milliseconds.
const busyRetrySeconds = 2

// throttleKey is one count a sign-in attempt is judged by.
type throttleKey struct {
	key    string
	limits auth.Limits
}

// attempt is a sign-in attempt as counted: the verdict on it, its keys (the
// pair, the account, the address, in that order) and those it was counted
// under.
type attempt struct {
	verdict auth.Verdict
	keys    []string
	counted []string
	address string
}

// countAttempt counts the attempt under each key before its password is
// checked (see suppliers.Store.CountLoginAttempt) and judges it by the
// failures before it.
func (h handlers) countAttempt(ctx context.Context, now time.Time, keys []throttleKey) (attempt, error) {
	var a attempt
	a.address = keys[len(keys)-1].key
	for _, k := range keys {
		a.keys = append(a.keys, k.key)
		got, err := h.store.CountLoginAttempt(ctx, k.key, now, k.limits.Window, k.limits.RefuseAfter)
		if err != nil {
			return a, errors.Join(err, h.forgetAttempt(ctx, a))
		}
		if got.Counted {
			a.counted = append(a.counted, k.key)
		}
		a.verdict = auth.Worst(a.verdict, k.limits.Judge(got.Failures, got.Last, now))
	}
	return a, nil
}

// forgetAttempt takes back an attempt whose password was never checked.
// It runs even when the request's context has ended (the client gave up
// during the delay).
func (h handlers) forgetAttempt(ctx context.Context, a attempt) error {
	ctx = context.WithoutCancel(ctx)
	for _, key := range a.counted {
		if err := h.store.ForgetLoginAttempt(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// clearAttempt follows a successful sign-in: the account's failures, from
// this address and overall, are forgotten; the address only takes this
// attempt back, so signing in to one's own account does not wipe what the
// address failed on others.
func (h handlers) clearAttempt(ctx context.Context, a attempt) error {
	for _, key := range a.keys {
		var err error
		switch {
		case key != a.address:
			err = h.store.ClearLoginFailures(ctx, key)
		case slices.Contains(a.counted, key):
			err = h.store.ForgetLoginAttempt(ctx, key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// findEmployee looks the account up by its exact email.
func (h handlers) findEmployee(ctx context.Context, email string) (suppliers.Employee, bool, error) {
	normalized, err := auth.NormalizeEmail(email)
	if err != nil {
		return suppliers.Employee{}, false, nil // no account has an invalid email
	}
	employee, err := h.store.EmployeeByEmail(ctx, normalized)
	if errors.Is(err, suppliers.ErrNotFound) {
		return suppliers.Employee{}, false, nil
	}
	if err != nil {
		return suppliers.Employee{}, false, err
	}
	return employee, true, nil
}

// checkPassword verifies the password of the account found. An unknown
// email costs the same hashing time as a wrong password.
func (h handlers) checkPassword(employee suppliers.Employee, found bool, password string) bool {
	if !found {
		_, _ = h.verify(auth.DummyHash(), password)
		return false
	}
	ok, err := h.verify(employee.PasswordHash, password)
	if err != nil {
		// A stored hash this code cannot read: nobody can sign in as this
		// employee until the password is reset. Say so in the log, and
		// answer as for a wrong password.
		h.log.Error("unreadable password hash; reset the password with `employee accounts reset-password`",
			"employee_id", employee.ID, "error", err)
		return false
	}
	return ok
}

// upgradeHash stores a hash with the current parameters after a successful
// sign-in with an older one. Failing is harmless: the old hash still works.
func (h handlers) upgradeHash(ctx context.Context, employee suppliers.Employee, password string) {
	hash, err := auth.HashPassword(password)
	if err == nil {
		err = h.store.UpgradePasswordHash(ctx, employee.ID, employee.PasswordHash, hash)
	}
	if err != nil {
		h.log.Warn("could not upgrade a password hash", "error", err)
	}
}

func (h handlers) logout(c *gin.Context) error {
	s := session(c)
	// The session ends for good, copies of this cookie included: at once
	// on this replica, within auth.SessionCheckTTL on the others. The
	// employee's other sessions (another browser, a phone) go on.
	if err := h.store.EndSession(c.Request.Context(), auth.SessionID(s), h.sessions.Ends(s)); err != nil {
		return err
	}
	h.sessionChecks.Ended(s)
	// A fresh anonymous session replaces the employee's: its token is new,
	// so forms of the old session no longer post.
	if !h.writeSession(c, h.sessions.NewAnonymous()) {
		return nil
	}
	h.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "signed out", append(attrRequest(c), attrEmployee(s.EmployeeID, s.Email)...)...)
	c.Redirect(http.StatusSeeOther, loginPath+"?signed_out=1")
	return nil
}

func (h handlers) showLogin(c *gin.Context, status int, page loginPage) error {
	title := "Sign in"
	if page.Error != "" {
		title = "Error: " + title
	}
	return h.app.HTML(c, status, "login", title, page)
}

// minutes says how long seconds is, rounded up to whole minutes.
func minutes(seconds int) string {
	n := (seconds + 59) / 60
	if n <= 1 {
		return "1 minute"
	}
	return strconv.Itoa(n) + " minutes"
}

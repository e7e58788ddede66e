package server

import (
	"context"
	"errors"
	"net/http"
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

	now := h.sessions.Now()
	accountKey, addressKey := auth.AccountKey(email), auth.AddressKey(c.ClientIP())
	verdict, err := h.throttle(ctx, now, accountKey, addressKey)
	if err != nil {
		return err
	}
	if verdict.Refuse {
		// Refused before the password is even looked at, so the right
		// password does not get through either, and the answer is the
		// same whether or not the email has an account.
		seconds := auth.RetryAfterSeconds(verdict.RetryAfter)
		c.Header("Retry-After", strconv.Itoa(seconds))
		h.log.LogAttrs(ctx, slogWarn, "sign-in refused: too many failures", attrRequest(c)...)
		page.Error = msgTooManyStart + minutes(seconds) + "."
		return h.showLogin(c, http.StatusTooManyRequests, page)
	}
	if verdict.Delay > 0 {
		if err := h.sleep(ctx, verdict.Delay); err != nil {
			return err
		}
	}

	employee, ok, err := h.checkPassword(ctx, email, password)
	if err != nil {
		return err
	}
	if !ok {
		for _, key := range []string{accountKey, addressKey} {
			if _, err := h.store.RecordLoginFailure(ctx, key, now, auth.ThrottleWindow); err != nil {
				return err
			}
		}
		// The email is not logged: people sometimes type their password
		// into the email box.
		h.log.LogAttrs(ctx, slogInfo, "sign-in failed", attrRequest(c)...)
		page.Error = msgIncorrect
		return h.showLogin(c, http.StatusUnauthorized, page)
	}

	if err := h.store.ClearLoginFailures(ctx, accountKey); err != nil {
		return err
	}
	if auth.NeedsRehash(employee.PasswordHash) {
		h.upgradeHash(ctx, employee.Email, password)
	}
	// A new session with a new CSRF token: nothing an attacker may have
	// planted before sign-in carries over (no session fixation).
	if !h.writeSession(c, h.sessions.NewSignedIn(employee.ID, employee.Email)) {
		return nil
	}
	h.log.LogAttrs(ctx, slogInfo, "signed in", append(attrRequest(c), attrEmployee(employee.ID, employee.Email)...)...)
	c.Redirect(http.StatusSeeOther, page.Next)
	return nil
}

// throttle judges an attempt by the failures of its account and address.
func (h handlers) throttle(ctx context.Context, now time.Time, accountKey, addressKey string) (auth.Verdict, error) {
	var verdict auth.Verdict
	for _, k := range []struct {
		key    string
		limits auth.Limits
	}{{accountKey, auth.AccountLimits}, {addressKey, auth.AddressLimits}} {
		failures, last, err := h.store.LoginFailures(ctx, k.key, now, k.limits.Window)
		if err != nil {
			return auth.Verdict{}, err
		}
		verdict = auth.Worst(verdict, k.limits.Judge(failures, last, now))
	}
	return verdict, nil
}

// checkPassword looks the account up and verifies the password. An unknown
// email costs the same hashing time as a wrong password.
func (h handlers) checkPassword(ctx context.Context, email, password string) (suppliers.Employee, bool, error) {
	employee, err := h.store.EmployeeByEmail(ctx, email)
	if errors.Is(err, suppliers.ErrNotFound) {
		auth.DummyVerify(password)
		return suppliers.Employee{}, false, nil
	}
	if err != nil {
		return suppliers.Employee{}, false, err
	}
	ok, err := auth.VerifyPassword(employee.PasswordHash, password)
	if err != nil {
		// A stored hash this code cannot read: nobody can sign in as this
		// employee until the password is reset. Say so in the log, and
		// answer as for a wrong password.
		h.log.Error("unreadable password hash; reset the password with `employee accounts reset-password`",
			"employee_id", employee.ID, "error", err)
		return suppliers.Employee{}, false, nil
	}
	return employee, ok, nil
}

// upgradeHash stores a hash with the current parameters after a successful
// sign-in with an older one. Failing is harmless: the old hash still works.
func (h handlers) upgradeHash(ctx context.Context, email, password string) {
	hash, err := auth.HashPassword(password)
	if err == nil {
		err = h.store.SetEmployeePassword(ctx, email, hash)
	}
	if err != nil {
		h.log.Warn("could not upgrade a password hash", "error", err)
	}
}

func (h handlers) logout(c *gin.Context) error {
	s := session(c)
	// A fresh anonymous session replaces the employee's: its token is new,
	// so forms of the old session no longer post.
	if !h.writeSession(c, h.sessions.NewAnonymous()) {
		return nil
	}
	h.log.LogAttrs(c.Request.Context(), slogInfo, "signed out", append(attrRequest(c), attrEmployee(s.EmployeeID, s.Email)...)...)
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

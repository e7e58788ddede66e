package server

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

// sessionKey holds the request's session in the gin context.
const sessionKey = "employee.session"

// guard runs before every /admin route (the static files excepted): it
// reads the session cookie, sends visitors who have not signed in to the
// sign-in page, and refuses any form post whose CSRF token does not match
// the session's. Only the sign-in page itself is open to visitors.
func (h handlers) guard(c *gin.Context) {
	p := c.Request.URL.Path
	session, state := h.sessions.Read(c.Request)
	if state == auth.Active {
		var err error
		if state, err = h.checkSession(c, session); err != nil {
			h.fail(c, err)
			return
		}
	}
	switch {
	case state == auth.Active:
		if h.sessions.Touch(&session) {
			// Move the idle deadline, at most once a minute.
			if !h.writeSession(c, session) {
				return
			}
		}
		web.SetAccount(c, web.Account{Email: session.Email, SignOutURL: logoutPath})
	case p == loginPath && state != auth.Anonymous:
		// A visitor without a usable session gets an anonymous one, whose
		// CSRF token protects the sign-in form itself.
		session = h.sessions.NewAnonymous()
		if !h.writeSession(c, session) {
			return
		}
		state = auth.Anonymous
	}
	c.Set(sessionKey, session)
	web.SetCSRFToken(c, session.CSRFToken)

	if state != auth.Active && p != loginPath {
		h.refuseVisitor(c, state)
		return
	}
	// Every route that changes something is a form post and must carry the
	// session's token. (Unrouted methods and paths answer 404 or 405 and
	// change nothing.)
	if !safeMethod(c.Request.Method) && c.FullPath() != "" {
		form, err := web.ParseForm(c)
		if err != nil {
			h.fail(c, err)
			return
		}
		if !auth.TokensMatch(session.CSRFToken, form.Get(auth.CSRFField)) {
			h.fail(c, &web.Error{Status: http.StatusForbidden, Title: "This form has expired",
				Message: "The form was missing its security token, or the token belongs to an earlier session " +
					"(for example after you signed out, or signed in again in another tab). Nothing was changed. " +
					"Go back, reload the page and submit the form again."})
			return
		}
	}
	c.Next()
}

// guardUnrouted guards the not-found and method-not-allowed answers for
// paths under /admin, as the admin group's routes are guarded; elsewhere
// it lets them answer at once.
func (h handlers) guardUnrouted(c *gin.Context) {
	if p := c.Request.URL.Path; p == adminPath || strings.HasPrefix(p, adminPath+"/") {
		h.guard(c)
	}
}

// checkSession refuses a session that was signed out, or whose employee
// was signed out everywhere or had their password reset, since it began:
// it is then treated as expired, so it opens nothing and is never
// refreshed. The answer comes from this replica's cache, at most
// auth.SessionCheckTTL old, so most requests cost no query.
func (h handlers) checkSession(c *gin.Context, s auth.Session) (auth.State, error) {
	valid, err := h.sessionChecks.Valid(c.Request.Context(), s)
	switch {
	case err != nil:
		return auth.None, err
	case !valid:
		return auth.Expired, nil
	}
	return auth.Active, nil
}

// refuseVisitor answers a request that needs a signed-in employee. Pages
// redirect to the sign-in page, which comes back here afterwards; an
// expired session says so there. A form post from someone who never signed
// in is refused with 401: nothing is changed.
func (h handlers) refuseVisitor(c *gin.Context, state auth.State) {
	expired := state == auth.Expired
	switch {
	case c.Request.URL.Path == logoutPath:
		// Signing out without a session: there is nothing to end.
		c.Redirect(http.StatusSeeOther, loginURL(listPath, expired))
		c.Abort()
	case safeMethod(c.Request.Method):
		c.Redirect(http.StatusSeeOther, loginURL(c.Request.URL.RequestURI(), expired))
		c.Abort()
	case expired:
		// The form is lost either way; after signing in the employee
		// returns to the page it was posted from.
		c.Redirect(http.StatusSeeOther, loginURL(c.Request.URL.Path, true))
		c.Abort()
	default:
		h.fail(c, &web.Error{Status: http.StatusUnauthorized, Title: "Please sign in",
			Message: "Only signed-in employees can change suppliers, so nothing was changed. Sign in, then try again."})
	}
}

// fail answers err as the error page and stops the chain.
func (h handlers) fail(c *gin.Context, err error) {
	h.app.Page(func(*gin.Context) error { return err })(c)
	c.Abort()
}

// writeSession sets the session cookie, or answers 500 and says false.
func (h handlers) writeSession(c *gin.Context, s auth.Session) bool {
	if err := h.sessions.Write(c.Writer, c.Request, s); err != nil {
		h.fail(c, err)
		return false
	}
	return true
}

func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// session is the request's session, as the guard read it.
func session(c *gin.Context) auth.Session {
	s, _ := c.MustGet(sessionKey).(auth.Session)
	return s
}

// actor is the signed-in employee, as the audit trail records them.
func actor(c *gin.Context) suppliers.Actor {
	s := session(c)
	return suppliers.Actor{ID: s.EmployeeID, Email: s.Email}
}

// loginURL is the sign-in page, returning to next afterwards.
func loginURL(next string, expired bool) string {
	v := url.Values{}
	if next = safeNext(next); next != listPath {
		v.Set("next", next)
	}
	if expired {
		v.Set("expired", "1")
	}
	if len(v) == 0 {
		return loginPath
	}
	return loginPath + "?" + v.Encode()
}

// maxNextLength bounds the return address a sign-in carries.
const maxNextLength = 2048

// safeNext accepts where to go after signing in only if it is a page of
// this administration (a path under /admin, with its query), so a link to
// the sign-in page cannot send an employee to another site afterwards. Any
// other value means the supplier list.
func safeNext(next string) string {
	if next == "" || len(next) > maxNextLength || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\x00\r\n\t") {
		return listPath
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return listPath
	}
	p := u.Path
	if p != adminPath && !strings.HasPrefix(p, adminPath+"/") {
		return listPath
	}
	if clean := path.Clean(p); clean != p && clean+"/" != p {
		return listPath // dot segments: /admin/../elsewhere
	}
	if p == loginPath || p == logoutPath {
		return listPath
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}

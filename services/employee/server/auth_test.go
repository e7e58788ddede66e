package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webclient"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

// TestVisitorsAreSentToSignIn: every administration page redirects a
// visitor to the sign-in page, which brings them back afterwards; the
// sign-in page, static files, health checks stay open.
func TestVisitorsAreSentToSignIn(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())
	for _, path := range []string{
		"/admin", "/admin/", listPath, listPath + "?q=kona&page=2", addPath,
		updatePathOf(s.ID), removePathOf(s.ID), "/admin/no-such-page",
	} {
		rec := get(t, svc.raw, path)
		want := loginPath + "?" + url.Values{"next": {path}}.Encode()
		if path == listPath {
			want = loginPath
		}
		wantRedirect(t, rec, want)
		wantNoBody(t, rec, "Blue Ridge Roasters")
		if rec.Header().Get("Set-Cookie") != "" {
			t.Errorf("GET %s: a visitor's redirect sets a cookie", path)
		}
	}
	for path, want := range map[string]int{
		loginPath: http.StatusOK, "/admin/static/style.css": http.StatusOK,
		"/healthz": http.StatusOK, "/readyz": http.StatusOK, "/": http.StatusNotFound,
	} {
		wantStatus(t, get(t, svc.raw, path), want)
	}
}

// TestVisitorsCannotChangeAnything posts every form without a session,
// with a forged session cookie, and with a token but no session: each is
// refused and nothing changes.
func TestVisitorsCannotChangeAnything(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())
	changed := validInput()
	changed.Name = "Changed By A Visitor"
	forms := []struct {
		path string
		form url.Values
	}{
		{addPath, formOf(changed)},
		{updatePathOf(s.ID), editForm(changed, s.Version)},
		{removePathOf(s.ID), url.Values{"version": {"1"}}},
	}
	for _, tc := range forms {
		for name, prepare := range map[string]func(*http.Request){
			"no cookie":    func(*http.Request) {},
			"forged":       func(r *http.Request) { r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: "forged-session"}) },
			"stolen token": func(*http.Request) {},
		} {
			form := url.Values{}
			for k, v := range tc.form {
				form[k] = v
			}
			if name == "stolen token" {
				form.Set("csrf_token", svc.handler.(*browser).csrfToken())
			}
			req := newFormRequest(tc.path, form)
			prepare(req)
			rec := serve(svc.raw, req)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s, POST %s: status %d, want 401", name, tc.path, rec.Code)
				continue
			}
			wantBody(t, rec, "Please sign in", "nothing was changed")
		}
	}
	if after := getSupplier(t, svc, s.ID); after != s || countRows(t, svc.db) != 1 {
		t.Errorf("a visitor's post changed the data")
	}
	if n := len(history(t, svc, s.ID)); n != 1 {
		t.Errorf("%d audit rows, want only the create", n)
	}
}

func TestSignInAndSignOut(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	b := newBrowser(svc.raw)

	form := get(t, b, loginPath+"?next="+url.QueryEscape("/admin/suppliers?q=kona"))
	wantStatus(t, form, http.StatusOK)
	wantBody(t, form, "<h1>Sign in</h1>", `<label for="login-email">Email</label>`, `<label for="login-password">Password</label>`,
		`autocomplete="username"`, `autocomplete="current-password"`, `<button type="submit">Sign in</button>`,
		`name="next" value="/admin/suppliers?q=kona"`)
	wantNoBody(t, form, "Sign out")
	cookie := form.Header().Get("Set-Cookie")
	for _, attr := range []string{"coffee_session=", "Path=/admin", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}
	visitorToken, visitorCookie := b.csrfToken(), b.sessionCookie()
	if len(visitorToken) < 43 || visitorCookie == "" {
		t.Fatalf("the sign-in form has no token (%q) or no session (%q)", visitorToken, visitorCookie)
	}

	rec := postForm(t, b, loginPath, url.Values{"email": {" Ana.Lopez@Coffee-Suppliers.example "}, "password": {testPassword},
		"next": {"/admin/suppliers?q=kona"}})
	wantRedirect(t, rec, "/admin/suppliers?q=kona")
	if b.sessionCookie() == visitorCookie {
		t.Error("signing in kept the visitor's session cookie")
	}
	list := get(t, b, listPath)
	wantStatus(t, list, http.StatusOK)
	wantBody(t, list, "Signed in as <strong>"+testEmail+"</strong>", `<button type="submit" class="link">Sign out</button>`)
	if b.csrfToken() == visitorToken {
		t.Error("signing in kept the visitor's CSRF token (session fixation)")
	}
	// Signed in, the sign-in page sends the employee on.
	wantRedirect(t, get(t, b, loginPath), listPath)

	signedInToken := b.csrfToken()
	wantRedirect(t, postForm(t, b, logoutPath, url.Values{}), loginPath+"?signed_out=1")
	page := get(t, b, loginPath+"?signed_out=1")
	wantBody(t, page, "You have signed out.")
	if b.csrfToken() == signedInToken {
		t.Error("signing out kept the CSRF token")
	}
	wantRedirect(t, get(t, b, listPath), loginPath)
	// Forms of the ended session no longer post.
	form2 := formOf(validInput())
	form2.Set("csrf_token", signedInToken)
	wantStatus(t, postForm(t, b, addPath, form2), http.StatusUnauthorized)
	if n := countRows(t, svc.db); n != 0 {
		t.Errorf("%d rows after posting a signed-out form", n)
	}
}

// TestSignInFailuresLookAlike: an unknown email and a wrong password get
// the same status and the same words.
func TestSignInFailuresLookAlike(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	b := newBrowser(svc.raw)
	get(t, b, loginPath)
	const typed = "someone@coffee-suppliers.example"
	unknown := postForm(t, b, loginPath, url.Values{"email": {typed}, "password": {testPassword}})
	wrong := postForm(t, b, loginPath, url.Values{"email": {testEmail}, "password": {"not the password at all"}})
	for _, rec := range []*httptest.ResponseRecorder{unknown, wrong} {
		wantStatus(t, rec, http.StatusUnauthorized)
		wantBody(t, rec, "Email or password is incorrect.", "<title>Error: Sign in")
		wantNoBody(t, rec, testPassword, "not the password", "no account", "unknown", "does not exist")
		if rec.Header().Get("Set-Cookie") != "" {
			t.Error("a failed sign-in set a cookie")
		}
	}
	if a, b := strings.ReplaceAll(unknown.Body.String(), typed, "EMAIL"), strings.ReplaceAll(wrong.Body.String(), testEmail, "EMAIL"); a != b {
		t.Errorf("the pages differ:\nunknown email:\n%s\nwrong password:\n%s", a, b)
	}
	wantBody(t, wrong, `value="`+testEmail+`"`)

	missing := postForm(t, b, loginPath, url.Values{"email": {testEmail}})
	wantStatus(t, missing, http.StatusBadRequest)
	wantBody(t, missing, "Enter your email and password.")
	wantRedirect(t, get(t, b, listPath), loginPath)
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                                    listPath,
		"/admin/suppliers":                    listPath,
		"/admin":                              "/admin",
		"/admin/supplier-update/7":            "/admin/supplier-update/7",
		"/admin/suppliers?q=caf%C3%A9&page=2": "/admin/suppliers?q=caf%C3%A9&page=2",
		"/admin/suppliers#top":                listPath + "",
		"https://evil.example/admin":          listPath,
		"//evil.example/admin":                listPath,
		"/\\evil.example":                     listPath,
		"/admin/../suppliers":                 listPath,
		"/admin/%2e%2e/suppliers":             listPath,
		"/administration":                     listPath,
		"/":                                   listPath,
		"/suppliers":                          listPath,
		"admin/suppliers":                     listPath,
		"javascript:alert(1)":                 listPath,
		"/admin/login":                        listPath,
		"/admin/logout":                       listPath,
		"/admin/suppliers\r\nSet-Cookie: x":   listPath,
		"/admin/" + strings.Repeat("a", 3000): listPath,
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSignInOnlyReturnsToLocalPages(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	for _, next := range []string{"https://evil.example/", "//evil.example/admin", "/admin/../x"} {
		b := newBrowser(svc.raw)
		get(t, b, loginPath)
		rec := postForm(t, b, loginPath, url.Values{"email": {testEmail}, "password": {testPassword}, "next": {next}})
		wantRedirect(t, rec, listPath)
	}
}

// TestSessionsExpire moves the service's clock instead of waiting.
func TestSessionsExpire(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())

	// Busy: a request every 20 minutes keeps the session alive.
	for range 3 {
		svc.clock.Advance(20 * time.Minute)
		wantStatus(t, get(t, svc.handler, listPath), http.StatusOK)
	}
	// Idle for 31 minutes: the next page asks to sign in again.
	svc.clock.Advance(31 * time.Minute)
	rec := get(t, svc.handler, updatePathOf(s.ID))
	wantRedirect(t, rec, loginPath+"?"+url.Values{"expired": {"1"}, "next": {updatePathOf(s.ID)}}.Encode())
	page := get(t, svc.handler, rec.Header().Get("Location"))
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, "Your session expired. Please sign in again.", `name="next" value="`+updatePathOf(s.ID)+`"`)

	// A form posted after expiry changes nothing.
	expired := newTestService(t)
	s2 := createSupplier(t, expired, validInput())
	expired.clock.Advance(time.Hour)
	changed := validInput()
	changed.City = "Expired City"
	rec = postForm(t, expired.handler, updatePathOf(s2.ID), editForm(changed, s2.Version))
	wantRedirect(t, rec, loginPath+"?"+url.Values{"expired": {"1"}, "next": {updatePathOf(s2.ID)}}.Encode())
	if after := getSupplier(t, expired, s2.ID); after != s2 {
		t.Errorf("a post after expiry changed the supplier to %+v", after)
	}
	// Signing in again returns to the page.
	b := expired.handler.(*browser)
	get(t, b, loginPath)
	wantRedirect(t, postForm(t, b, loginPath, url.Values{"email": {testEmail}, "password": {testPassword},
		"next": {updatePathOf(s2.ID)}}), updatePathOf(s2.ID))
}

func TestSessionsEndAfterTwelveHoursHoweverBusy(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	for elapsed := time.Duration(0); elapsed < 12*time.Hour; elapsed += 25 * time.Minute {
		if rec := get(t, svc.handler, listPath); rec.Code != http.StatusOK {
			t.Fatalf("after %v of use: status %d", elapsed, rec.Code)
		}
		svc.clock.Advance(25 * time.Minute)
	}
	wantStatus(t, get(t, svc.handler, listPath), http.StatusSeeOther)
}

func TestSessionSettingsAreHonoured(t *testing.T) {
	t.Parallel()
	svc := newTestServiceWith(t, nil, func(o *Options) { o.IdleTimeout = 5 * time.Minute })
	svc.clock.Advance(4 * time.Minute)
	wantStatus(t, get(t, svc.handler, listPath), http.StatusOK)
	svc.clock.Advance(6 * time.Minute)
	wantStatus(t, get(t, svc.handler, listPath), http.StatusSeeOther)
}

// TestSessionsWorkAcrossReplicas: a second replica with the same
// SESSION_KEY accepts the first one's cookie; one with another key does
// not.
func TestSessionsWorkAcrossReplicas(t *testing.T) {
	t.Parallel()
	key := []byte(strings.Repeat("k", 40))
	svc := newTestServiceWith(t, nil, func(o *Options) { o.SessionKeys = [][]byte{key} })
	cookie := svc.handler.(*browser).sessionCookie()
	for name, tc := range map[string]struct {
		keys [][]byte
		want int
	}{
		"same key":          {[][]byte{key}, http.StatusOK},
		"rotated, old kept": {[][]byte{[]byte(strings.Repeat("n", 40)), key}, http.StatusOK},
		"other key":         {[][]byte{[]byte(strings.Repeat("o", 40))}, http.StatusSeeOther},
	} {
		replica, err := New(Deps{Log: quietLog(), Web: webConfig(), DB: svc.db, Options: Options{SessionKeys: tc.keys, Now: svc.clock.Now}})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, listPath, nil)
		req.AddCookie(&http.Cookie{Name: auth.CookieName, Value: cookie})
		if rec := serve(replica.Handler(), req); rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d", name, rec.Code, tc.want)
		}
	}
}

func TestSecureCookieBehindHTTPS(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	req := httptest.NewRequest(http.MethodGet, loginPath, nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	rec := serve(svc.raw, req)
	if c := rec.Header().Get("Set-Cookie"); !strings.Contains(c, "; Secure") {
		t.Errorf("over HTTPS the cookie is not Secure: %q", c)
	}
	if c := get(t, svc.raw, loginPath).Header().Get("Set-Cookie"); strings.Contains(c, "Secure") {
		t.Errorf("over plain HTTP the cookie is Secure, so the browser would drop it: %q", c)
	}
}

// TestFormsWithoutTheRightTokenAreRefused: a signed-in employee's form
// post without its CSRF token, with a wrong one, or with another session's
// answers 403 and changes nothing.
func TestFormsWithoutTheRightTokenAreRefused(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())
	b := svc.handler.(*browser)
	other := newBrowser(svc.raw)
	other.signIn(t, testEmail, testPassword)
	changed := validInput()
	changed.Name = "Forged Change"

	b.autoCSRF = false
	for _, token := range []string{"", "wrong", strings.Repeat("A", 43), other.csrfToken(), b.csrfToken() + "x"} {
		for _, tc := range []struct {
			path string
			form url.Values
		}{
			{addPath, formOf(changed)},
			{updatePathOf(s.ID), editForm(changed, s.Version)},
			{removePathOf(s.ID), url.Values{"version": {"1"}}},
			{logoutPath, url.Values{}},
		} {
			form := url.Values{}
			for k, v := range tc.form {
				form[k] = v
			}
			if token != "" {
				form.Set("csrf_token", token)
			}
			rec := postForm(t, b, tc.path, form)
			if rec.Code != http.StatusForbidden {
				t.Errorf("POST %s with token %q: status %d, want 403", tc.path, token, rec.Code)
				continue
			}
			wantBody(t, rec, "This form has expired", "Nothing was changed", "reload the page")
		}
	}
	if after := getSupplier(t, svc, s.ID); after != s || countRows(t, svc.db) != 1 {
		t.Errorf("a post without the right token changed the data")
	}
	// Still signed in: the refused sign-out did not sign out.
	wantStatus(t, get(t, b, listPath), http.StatusOK)

	// The sign-in form is protected too.
	v := newBrowser(svc.raw)
	v.autoCSRF = false
	get(t, v, loginPath)
	wantStatus(t, postForm(t, v, loginPath, url.Values{"email": {testEmail}, "password": {testPassword}}), http.StatusForbidden)
	wantRedirect(t, get(t, v, listPath), loginPath)

	// With its token, the same form goes through.
	b.autoCSRF = true
	wantNoticeRedirect(t, postForm(t, b, updatePathOf(s.ID), editForm(changed, s.Version)), "updated")
}

// TestRepeatedFailuresAreSlowedThenRefused: per account, failures 3 to 9
// slow the next attempt down; after 10 the account is refused with 429 and
// Retry-After, even with the right password, until the window passes.
func TestRepeatedFailuresAreSlowedThenRefused(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	b := newBrowser(svc.raw)
	get(t, b, loginPath)
	wrong := url.Values{"email": {testEmail}, "password": {"a wrong password!"}}
	for i := 1; i <= 10; i++ {
		wantStatus(t, postForm(t, b, loginPath, wrong), http.StatusUnauthorized)
		if i == 3 {
			svc.clock.Advance(time.Minute) // failures count from the last one
		}
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		2 * time.Second, 2 * time.Second, 2 * time.Second}
	if got := svc.delays.all(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("delays %v, want %v", got, want)
	}

	right := url.Values{"email": {testEmail}, "password": {testPassword}}
	rec := postForm(t, b, loginPath, right)
	wantStatus(t, rec, http.StatusTooManyRequests)
	wantBody(t, rec, "Too many failed sign-in attempts", "try again in 15 minutes")
	if got := rec.Header().Get("Retry-After"); got != "900" {
		t.Errorf("Retry-After %q, want 900 (15 minutes after the last failure)", got)
	}
	svc.clock.Advance(10 * time.Minute)
	rec = postForm(t, b, loginPath, right)
	wantStatus(t, rec, http.StatusTooManyRequests)
	if got := rec.Header().Get("Retry-After"); got != "300" {
		t.Errorf("Retry-After %q, want 300", got)
	}
	wantRedirect(t, get(t, b, listPath), loginPath)

	// Once the window has passed, the right password works and clears
	// the account's failures.
	svc.clock.Advance(5 * time.Minute)
	wantRedirect(t, postForm(t, b, loginPath, right), listPath)
	account := auth.EmployeeKey(svc.employee.ID)
	for _, key := range []string{account, auth.PairKey(account, auth.AddressKey("192.0.2.1"))} {
		if n, _, err := svc.store.LoginFailures(context.Background(), key, svc.clock.Now(), auth.ThrottleWindow); err != nil || n != 0 {
			t.Errorf("after success the account has %d failures under %s (%v), want 0", n, key, err)
		}
	}
}

// TestThrottlingNeverRevealsAccounts: an email without an account is
// throttled exactly like one with, and the refusal reads the same.
func TestThrottlingNeverRevealsAccounts(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	ctx := context.Background()
	pages := map[string]string{}
	keys := map[string]string{testEmail: auth.EmployeeKey(svc.employee.ID), "nobody@coffee-suppliers.example": auth.AccountKey("nobody@coffee-suppliers.example")}
	for _, email := range []string{testEmail, "nobody@coffee-suppliers.example"} {
		for range 10 {
			key := auth.PairKey(keys[email], auth.AddressKey("192.0.2.1")) // httptest's client address
			if _, err := svc.store.CountLoginAttempt(ctx, key, svc.clock.Now(), auth.ThrottleWindow, 0); err != nil {
				t.Fatal(err)
			}
		}
		b := newBrowser(svc.raw)
		get(t, b, loginPath)
		rec := postForm(t, b, loginPath, url.Values{"email": {email}, "password": {testPassword}})
		wantStatus(t, rec, http.StatusTooManyRequests)
		pages[email] = strings.ReplaceAll(strings.ReplaceAll(rec.Body.String(), email, "EMAIL"), b.csrfToken(), "TOKEN")
	}
	if pages[testEmail] != pages["nobody@coffee-suppliers.example"] {
		t.Errorf("the refusals differ:\n%s\n---\n%s", pages[testEmail], pages["nobody@coffee-suppliers.example"])
	}
}

// TestOneAddressIsRefusedAfterManyFailures: 50 failures from one address,
// whatever the emails, refuse that address; other addresses still sign in.
func TestOneAddressIsRefusedAfterManyFailures(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	ctx := context.Background()
	const attacker = "192.0.2.1" // httptest's client address
	for range auth.AddressLimits.RefuseAfter {
		if _, err := svc.store.CountLoginAttempt(ctx, auth.AddressKey(attacker), svc.clock.Now(), auth.ThrottleWindow, 0); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(svc.raw)
	get(t, b, loginPath)
	rec := postForm(t, b, loginPath, url.Values{"email": {testEmail}, "password": {testPassword}})
	wantStatus(t, rec, http.StatusTooManyRequests)
	if ra, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || ra < 1 || ra > 900 {
		t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
	}

	elsewhere := &remoteAddr{next: svc.raw, addr: "198.51.100.7:40000"}
	other := newBrowser(elsewhere)
	other.signIn(t, testEmail, testPassword)
}

// remoteAddr serves requests as if they came from addr.
type remoteAddr struct {
	next http.Handler
	addr string
}

func (h *remoteAddr) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.RemoteAddr = h.addr
	h.next.ServeHTTP(w, r)
}

// TestHistoryShowsWhoWhenBeforeAndAfter makes changes through the forms
// as two employees and reads the edit page's history.
func TestHistoryShowsWhoWhenBeforeAndAfter(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	const second = "bo.chen@coffee-suppliers.example"
	if _, err := svc.store.CreateEmployee(context.Background(), second, testPasswordHash()); err != nil {
		t.Fatal(err)
	}
	bo := newBrowser(svc.raw)
	bo.signIn(t, second, testPassword)

	typed := validInput()
	typed.Name = "O'Brien & Sons"
	wantNoticeRedirect(t, postForm(t, svc.handler, addPath, formOf(typed)), "created")
	s := newestSupplier(t, svc)
	changed := s.Input()
	changed.City, changed.Phone = "Raleigh <NC>", "+1 919 555 0100"
	wantNoticeRedirect(t, postForm(t, bo, updatePathOf(s.ID), editForm(changed, s.Version)), "updated")

	page := get(t, svc.handler, updatePathOf(s.ID))
	wantStatus(t, page, http.StatusOK)
	body := page.Body.String()
	wantBody(t, page, `<h2 id="history-title">History</h2>`,
		`<td data-label="Who">`+second+`</td>`, `<td data-label="Who">`+testEmail+`</td>`,
		`City: <span class="before">Asheville</span> → <span class="after">Raleigh &lt;NC&gt;</span>`,
		`Phone: <span class="before">&#43;1 828 555 0142</span> → <span class="after">&#43;1 919 555 0100</span>`,
		"<li>Name: O&#39;Brien &amp; Sons</li>", `<time datetime="`)
	wantNoBody(t, page, "Name: <span", "&amp;amp;", "&amp;lt;", "Raleigh <NC>")
	if changedAt, addedAt := strings.Index(body, ">Changed"), strings.Index(body, ">Added"); changedAt < 0 || addedAt < 0 || changedAt > addedAt {
		t.Errorf("history is not newest first (changed at %d, added at %d)", changedAt, addedAt)
	}

	changes := history(t, svc, s.ID)
	if len(changes) != 2 || changes[0].Actor.Email != second || changes[1].Actor != svc.actor() {
		t.Fatalf("audit trail %+v", changes)
	}
	when := changes[0].At.UTC().Format(time.RFC3339)
	wantBody(t, page, `<time datetime="`+when+`">`)

	// Deleting records who did it, too.
	wantNoticeRedirect(t, postForm(t, svc.handler, removePathOf(s.ID), url.Values{"version": {"2"}}), "deleted")
	changes = history(t, svc, s.ID)
	if len(changes) != 3 || changes[0].Action != suppliers.ActionDelete || changes[0].Actor != svc.actor() || changes[0].Before == nil {
		t.Errorf("after delete, audit trail %+v", changes)
	}
}

func history(t *testing.T, svc testService, id int64) []suppliers.Change {
	t.Helper()
	changes, err := svc.store.History(context.Background(), id)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	return changes
}

// TestFirstAdministratorFromSettings: with no account, the service creates
// ADMIN_EMAIL's account at its first readiness check; with one, it leaves
// accounts alone.
func TestFirstAdministratorFromSettings(t *testing.T) {
	t.Parallel()
	db := newEmptyDatabase(t)
	store := suppliers.NewStore(db, 0)
	const email, password = "first.admin@coffee-suppliers.example", "a first admin's long password"
	opts := Options{SessionKeys: [][]byte{[]byte(strings.Repeat("k", 32))}, AdminEmail: email, AdminPassword: password}
	svc, err := New(Deps{Log: quietLog(), Web: webConfig(), DB: db, Options: opts})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	wantStatus(t, get(t, svc.Handler(), "/readyz"), http.StatusOK)
	e, err := store.EmployeeByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("the first administrator was not created: %v", err)
	}
	if ok, _ := auth.VerifyPassword(e.PasswordHash, password); !ok {
		t.Error("the first administrator's password does not verify")
	}
	newBrowser(svc.Handler()).signIn(t, email, password)

	// Another replica starting with the same settings, or a later restart
	// with other ones, creates nothing more.
	for _, o := range []Options{opts, {SessionKeys: opts.SessionKeys, AdminEmail: "someone.else@coffee-suppliers.example", AdminPassword: password}} {
		other, err := New(Deps{Log: quietLog(), Web: webConfig(), DB: db, Options: o})
		if err != nil {
			t.Fatalf("restart: %v", err)
		}
		wantStatus(t, get(t, other.Handler(), "/readyz"), http.StatusOK)
	}
	if n, err := store.CountEmployees(context.Background()); err != nil || n != 1 {
		t.Errorf("%d accounts (%v), want 1", n, err)
	}
	// A replica that lost the race to create it is fine too.
	if err := newFirstAdmin(email, password).ensure(context.Background(), quietLog(), store); err != nil {
		t.Errorf("ensure with an existing account: %v", err)
	}
}

func TestFirstAdministratorRaceIsHarmless(t *testing.T) {
	t.Parallel()
	db := newEmptyDatabase(t)
	store := suppliers.NewStore(db, 0)
	const email = "first.admin@coffee-suppliers.example"
	if _, err := store.CreateEmployee(context.Background(), email, testPasswordHash()); err != nil {
		t.Fatal(err)
	}
	// Simulate the other replica winning between the count and the insert.
	f := newFirstAdmin(email, testPassword)
	_, err := store.CreateEmployee(context.Background(), email, testPasswordHash())
	if !errors.Is(err, suppliers.ErrEmployeeExists) {
		t.Fatalf("duplicate create: %v, want ErrEmployeeExists", err)
	}
	if err := f.ensure(context.Background(), quietLog(), store); err != nil {
		t.Errorf("ensure: %v", err)
	}
}

// TestSettingsFromTheEnvironment covers the reading of SESSION_KEY and
// friends, and the errors that name them.
func TestSettingsFromTheEnvironment(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("s", 48)
	for _, tc := range []struct {
		env  map[string]string
		want string // a fragment of the error; "" means accepted
	}{
		{map[string]string{}, "SESSION_KEY: is required"},
		{map[string]string{"SESSION_KEY": "too-short-secret"}, "SESSION_KEY: key 1 of 1 is 16 bytes long"},
		{map[string]string{"SESSION_KEY": key + ",short"}, "SESSION_KEY: key 2 of 2"},
		{map[string]string{"SESSION_KEY": key}, ""},
		{map[string]string{"SESSION_KEY": key + "," + key}, ""},
		{map[string]string{"SESSION_KEY": key, "SESSION_IDLE_TIMEOUT": "soon"}, "SESSION_IDLE_TIMEOUT: must be a duration"},
		{map[string]string{"SESSION_KEY": key, "SESSION_IDLE_TIMEOUT": "2h", "SESSION_MAX_AGE": "1h"}, "SESSION_MAX_AGE: must be at least SESSION_IDLE_TIMEOUT"},
		{map[string]string{"SESSION_KEY": key, "ADMIN_EMAIL": "a@coffee.example"}, "ADMIN_PASSWORD: must be set together with ADMIN_EMAIL"},
		{map[string]string{"SESSION_KEY": key, "ADMIN_PASSWORD": "a long enough password"}, "ADMIN_EMAIL: must be set together"},
		{map[string]string{"SESSION_KEY": key, "ADMIN_EMAIL": "not an email", "ADMIN_PASSWORD": "a long enough password"}, "ADMIN_EMAIL: enter an email address"},
		{map[string]string{"SESSION_KEY": key, "ADMIN_EMAIL": "a@coffee.example", "ADMIN_PASSWORD": "short"}, "ADMIN_PASSWORD: The password must be at least 12 characters"},
		{map[string]string{"SESSION_KEY": key, "ADMIN_EMAIL": "A@Coffee.example", "ADMIN_PASSWORD": "a long enough password"}, ""},
	} {
		env := envconfig.New(envconfig.FromMap(tc.env))
		opts := OptionsFromEnv(env)
		err := env.Err()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("env %v: %v", tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("env %v: error %v, want one saying %q", tc.env, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "too-short-secret") || strings.Contains(err.Error(), "a long enough password")) {
			t.Errorf("the error shows a secret: %v", err)
		}
		if tc.want == "" && tc.env["ADMIN_EMAIL"] != "" && opts.AdminEmail != strings.ToLower(tc.env["ADMIN_EMAIL"]) {
			t.Errorf("admin email %q, want it lower-cased", opts.AdminEmail)
		}
	}
	opts := OptionsFromEnv(envconfig.New(envconfig.FromMap(map[string]string{"SESSION_KEY": key})))
	if opts.IdleTimeout != 30*time.Minute || opts.MaxAge != 12*time.Hour {
		t.Errorf("defaults: idle %v, max age %v", opts.IdleTimeout, opts.MaxAge)
	}
	printed := fmt.Sprint(opts) + fmt.Sprintf("%+v %#v", opts, opts)
	if strings.Contains(printed, key) {
		t.Errorf("fmt shows the session key: %s", printed)
	}
}

// TestSettingsInCode: options built in code (tests, the local launcher)
// are checked by the rules the environment's are, with the same words, and
// the administrator's email is normalised the same way.
func TestSettingsInCode(t *testing.T) {
	t.Parallel()
	key := []byte(strings.Repeat("s", 48))
	for _, tc := range []struct {
		opts Options
		want string // a fragment of New's error
	}{
		{Options{}, "SESSION_KEY: is required"},
		{Options{SessionKeys: [][]byte{key, []byte("short")}}, "SESSION_KEY: key 2 of 2 is 5 bytes long"},
		{Options{SessionKeys: [][]byte{key}, IdleTimeout: time.Second}, "SESSION_IDLE_TIMEOUT: must be a duration from 1m0s to 24h0m0s"},
		{Options{SessionKeys: [][]byte{key}, MaxAge: 365 * 24 * time.Hour}, "SESSION_MAX_AGE: must be a duration from 5m0s to 720h0m0s"},
		{Options{SessionKeys: [][]byte{key}, IdleTimeout: 2 * time.Hour, MaxAge: time.Hour}, "SESSION_MAX_AGE: must be at least SESSION_IDLE_TIMEOUT"},
		{Options{SessionKeys: [][]byte{key}, AdminEmail: "a@coffee.example"}, "ADMIN_PASSWORD: must be set together with ADMIN_EMAIL"},
		{Options{SessionKeys: [][]byte{key}, AdminEmail: "not an email", AdminPassword: "a long enough password"}, "ADMIN_EMAIL: enter an email address"},
	} {
		// The options are checked before the database is touched.
		_, err := New(Deps{Log: quietLog(), Web: webConfig(), Options: tc.opts})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one saying %q", tc.opts, err, tc.want)
		}
	}
	opts := Options{SessionKeys: [][]byte{key}, AdminEmail: " A@Coffee.example", AdminPassword: "a long enough password"}
	if err := opts.validate(); err != nil || opts.AdminEmail != "a@coffee.example" {
		t.Errorf("validate = %v, admin email %q; want it accepted and normalised", err, opts.AdminEmail)
	}
}

func TestUnroutedMethodsStillAnswer405(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	for _, method := range []string{http.MethodPut, http.MethodDelete} {
		rec := serve(svc.handler, httptest.NewRequest(method, listPath, nil))
		wantStatus(t, rec, http.StatusMethodNotAllowed)
		// A visitor is refused before anything else.
		wantStatus(t, serve(svc.raw, httptest.NewRequest(method, listPath, nil)), http.StatusUnauthorized)
	}
}

// TestWebclientMatchesTheService keeps the client that the other modules'
// tests and the benchmark sign in with (pkg/web/webclient, which cannot
// import this service) in step with its paths and CSRF field.
func TestWebclientMatchesTheService(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ what, client, service string }{
		{"CSRF field", webclient.CSRFField, auth.CSRFField},
		{"sign-in path", webclient.LoginPath, loginPath},
		{"list path", webclient.ListPath, listPath},
	} {
		if c.client != c.service {
			t.Errorf("webclient's %s is %q, the service's %q", c.what, c.client, c.service)
		}
	}
}

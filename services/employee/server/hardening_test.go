package server

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

// The attacks of issue 12's penetration test, each replayed over HTTP
// against the service on a real MySQL-protocol server.

// TestACopiedCookieDiesWithSignOut: a session cookie copied before
// signing out (from a shared machine, say) opens nothing afterwards: not on
// this replica at once, not on another once its short cache has expired,
// and it is never refreshed. The employee's other sessions go on.
func TestACopiedCookieDiesWithSignOut(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	b := svc.handler.(*browser)
	other := otherReplica(t, svc)
	copied := b.sessionCookie()
	token := b.csrfToken()
	phone := newBrowser(svc.raw)
	phone.signIn(t, testEmail, testPassword)
	// The other replica has seen the session before the sign-out, so its
	// cache holds it.
	wantStatus(t, serve(other, withCookie(httptest.NewRequest(http.MethodGet, listPath, nil), copied)), http.StatusOK)

	wantRedirect(t, postForm(t, b, logoutPath, url.Values{}), loginPath+"?signed_out=1")
	// A minute on, a live session's cookie would be refreshed.
	svc.clock.Advance(auth.RefreshEvery + auth.SessionCheckTTL)
	for name, h := range map[string]http.Handler{"this replica": svc.raw, "another replica": other} {
		for _, path := range []string{"/admin", listPath, addPath} {
			rec := serve(h, withCookie(httptest.NewRequest(http.MethodGet, path, nil), copied))
			if rec.Code == http.StatusOK || !strings.HasPrefix(rec.Header().Get("Location"), loginPath) {
				t.Errorf("%s: GET %s with the copied cookie: %d %q, want a redirect to sign in", name, path, rec.Code, rec.Header().Get("Location"))
			}
			if strings.Contains(rec.Header().Get("Set-Cookie"), auth.CookieName+"=") &&
				!strings.Contains(rec.Header().Get("Set-Cookie"), "Max-Age=0") {
				t.Errorf("%s: GET %s refreshed the copied cookie: %q", name, path, rec.Header().Get("Set-Cookie"))
			}
		}
		form := formOf(validInput())
		form.Set(auth.CSRFField, token)
		rec := serve(h, withCookie(newFormRequest(addPath, form), copied))
		if rec.Code == http.StatusSeeOther && strings.Contains(rec.Header().Get("Location"), "notice=created") {
			t.Errorf("%s: the copied cookie added a supplier", name)
		}
	}
	if n := countRows(t, svc.db); n != 0 {
		t.Errorf("%d suppliers added with a signed-out session's cookie", n)
	}
	wantStatus(t, get(t, phone, listPath), http.StatusOK)
	// Signing in again works as ever.
	b.signIn(t, testEmail, testPassword)
}

// otherReplica is a second instance of svc's service over the same
// database, with the same key and clock.
func otherReplica(t *testing.T, svc testService) http.Handler {
	t.Helper()
	replica, err := New(Deps{Log: quietLog(), Web: webConfig(), DB: svc.db, Options: Options{SessionKeys: svc.opts.SessionKeys, Now: svc.clock.Now, Sleep: svc.delays.sleep}})
	if err != nil {
		t.Fatal(err)
	}
	return replica.Handler()
}

func withCookie(r *http.Request, value string) *http.Request {
	r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: value})
	return r
}

// TestLookAlikeEmailsDoNotSignIn: the database compares text ignoring
// accents and trailing spaces; an account's email must match exactly (but
// for letter case and surrounding ASCII spaces).
func TestLookAlikeEmailsDoNotSignIn(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	for _, email := range []string{
		strings.Replace(testEmail, "ana", "äna", 1),
		strings.Replace(testEmail, "coffee", "cöffee", 1),
		testEmail + "\u00a0",
		"\u00a0" + testEmail,
		strings.Replace(testEmail, "a", "\u0430", 1), // Cyrillic a
	} {
		b := newBrowser(svc.raw)
		get(t, b, loginPath)
		rec := postForm(t, b, loginPath, url.Values{"email": {email}, "password": {testPassword}})
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("signing in as %q: status %d (Location %q), want 401", email, rec.Code, rec.Header().Get("Location"))
		}
	}
	// Case and surrounding ASCII spaces still do not matter.
	newBrowser(svc.raw).signIn(t, "  "+strings.ToUpper(testEmail)+" ", testPassword)
}

// TestSimultaneousGuessesAreCountedBeforeChecking fires 20 wrong passwords
// for one account from one address at once: only the first ten may be
// checked (401); the others are refused (429) without checking.
func TestSimultaneousGuessesAreCountedBeforeChecking(t *testing.T) {
	t.Parallel()
	const attempts = 20
	// A slot for every attempt: this is about counting before checking; a
	// full set of hashing slots (503) is TestSignInHashingIsBounded's.
	svc := newTestServiceWith(t, nil, func(o *Options) { o.MaxConcurrentHashes = attempts })
	b := newBrowser(svc.raw)
	get(t, b, loginPath)
	codes := make(chan int, attempts)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range attempts {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			rec := postForm(t, b, loginPath, url.Values{"email": {testEmail}, "password": {"wrong guess " + strings.Repeat("x", i)}})
			codes <- rec.Code
		}()
	}
	start.Done()
	done.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[http.StatusUnauthorized] != auth.AccountLimits.RefuseAfter || count[http.StatusTooManyRequests] != attempts-auth.AccountLimits.RefuseAfter {
		t.Errorf("answers %v: want %d checked (401) and the other %d refused (429)", count,
			auth.AccountLimits.RefuseAfter, attempts-auth.AccountLimits.RefuseAfter)
	}
}

// TestAGuesserCannotLockTheEmployeeOut: ten wrong passwords from an
// attacker's address refuse that address, while the employee, from their
// own address, still signs in with the right password (slowed, not
// refused).
func TestAGuesserCannotLockTheEmployeeOut(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	attacker := newBrowser(&remoteAddr{next: svc.raw, addr: "203.0.113.66:5555"})
	get(t, attacker, loginPath)
	wrong := url.Values{"email": {testEmail}, "password": {"a wrong password!"}}
	for range 10 {
		wantStatus(t, postForm(t, attacker, loginPath, wrong), http.StatusUnauthorized)
	}
	wantStatus(t, postForm(t, attacker, loginPath, wrong), http.StatusTooManyRequests)
	wantStatus(t, postForm(t, attacker, loginPath, url.Values{"email": {testEmail}, "password": {testPassword}}), http.StatusTooManyRequests)

	employee := newBrowser(&remoteAddr{next: svc.raw, addr: "198.51.100.20:4444"})
	employee.signIn(t, testEmail, testPassword)
}

// TestSignInHashingIsBounded: with every hashing slot taken by a sign-in
// in progress, the next sign-in answers 503 with Retry-After at once
// instead of queueing (and allocating another 19 MiB), while the pages
// that need no hashing keep answering.
func TestSignInHashingIsBounded(t *testing.T) {
	t.Parallel()
	const slots = 8
	release := make(chan struct{})
	var inHash sync.WaitGroup
	inHash.Add(slots)
	var blocking sync.Once
	svc := newTestServiceWith(t, nil, func(o *Options) {
		o.MaxConcurrentHashes = slots
		verify := auth.VerifyPassword
		o.VerifyPassword = func(hash, password string) (bool, error) {
			if password == testPassword {
				return verify(hash, password) // newTestServiceWith's own sign-in
			}
			inHash.Done()
			<-release
			return false, nil
		}
	})
	defer blocking.Do(func() { close(release) })

	var done sync.WaitGroup
	answeredEarly := make(chan int, slots)
	for i := range slots {
		done.Add(1)
		go func() {
			defer done.Done()
			// Each from an address and for an email of its own: no
			// throttling gets in the way.
			b := newBrowser(&remoteAddr{next: svc.raw, addr: "198.51.100." + strconv.Itoa(i+1) + ":1000"})
			get(t, b, loginPath)
			rec := postForm(t, b, loginPath, url.Values{"email": {"someone" + strconv.Itoa(i) + "@coffee-suppliers.example"}, "password": {"guess"}})
			answeredEarly <- rec.Code // before release only if it never reached the hash
		}()
	}
	allHashing := make(chan struct{})
	go func() { inHash.Wait(); close(allHashing) }()
	select {
	case <-allHashing:
	case code := <-answeredEarly:
		// Without this, one sign-in failing before its hash would leave
		// the test waiting for the package's time-out.
		t.Fatalf("a sign-in answered %d before reaching its password check", code)
	}

	late := newBrowser(&remoteAddr{next: svc.raw, addr: "203.0.113.99:1000"})
	get(t, late, loginPath)
	rec := postForm(t, late, loginPath, url.Values{"email": {testEmail}, "password": {"another guess"}})
	wantStatus(t, rec, http.StatusServiceUnavailable)
	if rec.Header().Get("Retry-After") == "" {
		t.Error("the 503 has no Retry-After")
	}
	wantBody(t, rec, "try again")
	// The administration keeps answering meanwhile.
	wantStatus(t, get(t, svc.handler, listPath), http.StatusOK)

	blocking.Do(func() { close(release) })
	done.Wait()
	// A turned-away attempt is not counted as a failure.
	if n, _, err := svc.store.LoginFailures(t.Context(), auth.PairKey(auth.EmployeeKey(svc.employee.ID), auth.AddressKey("203.0.113.99")), svc.clock.Now(), auth.ThrottleWindow); err != nil || n != 0 {
		t.Errorf("the turned-away attempt left %d failures (%v)", n, err)
	}
}

var formTokenInput = regexp.MustCompile(`<input type="hidden" name="form_token" value="([^"]*)">`)

// formTokenOf is the one-time token of the form on page.
func formTokenOf(t *testing.T, page *httptest.ResponseRecorder) string {
	t.Helper()
	m := formTokenInput.FindStringSubmatch(page.Body.String())
	if m == nil {
		t.Fatalf("the form has no form_token; page:\n%s", page.Body.String())
	}
	return m[1]
}

// TestAFormPostedTwiceAddsOneSupplier: a double click, or a retry after a
// lost answer, submits the same add form twice, even at the same moment;
// one supplier is added and both answers say so.
func TestAFormPostedTwiceAddsOneSupplier(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	page := get(t, svc.handler, addPath)
	wantStatus(t, page, http.StatusOK)
	form := formOf(validInput())
	form.Set("form_token", formTokenOf(t, page))
	for range 2 {
		wantNoticeRedirect(t, postForm(t, svc.handler, addPath, form), "created")
	}
	if n := countRows(t, svc.db); n != 1 {
		t.Errorf("%d suppliers after posting one form twice, want 1", n)
	}

	// At the same moment.
	page = get(t, svc.handler, addPath)
	form = formOf(validInput())
	form.Set("form_token", formTokenOf(t, page))
	var wg sync.WaitGroup
	locations := make(chan string, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := postForm(t, svc.handler, addPath, form)
			locations <- strconv.Itoa(rec.Code) + " " + rec.Header().Get("Location")
		}()
	}
	wg.Wait()
	close(locations)
	for l := range locations {
		if !strings.HasPrefix(l, "303 /admin/suppliers?") || !strings.Contains(l, "notice=created") {
			t.Errorf("a simultaneous post answered %s", l)
		}
	}
	if n := countRows(t, svc.db); n != 2 {
		t.Errorf("%d suppliers after two forms each posted twice, want 2", n)
	}

	// A refused form keeps its token: corrected, it goes through.
	page = get(t, svc.handler, addPath)
	bad := formOf(validInput())
	bad.Set("email", "not an email")
	bad.Set("form_token", formTokenOf(t, page))
	refused := postForm(t, svc.handler, addPath, bad)
	wantStatus(t, refused, http.StatusBadRequest)
	good := formOf(validInput())
	good.Set("form_token", formTokenOf(t, refused))
	wantNoticeRedirect(t, postForm(t, svc.handler, addPath, good), "created")
	if n := countRows(t, svc.db); n != 3 {
		t.Errorf("%d suppliers, want 3", n)
	}
}

// TestAnEditPostedTwiceSavesOnce: the second post of the same edit form
// shows the first one's result, not a conflict with itself.
func TestAnEditPostedTwiceSavesOnce(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())
	page := get(t, svc.handler, updatePathOf(s.ID))
	changed := validInput()
	changed.City = "Raleigh"
	form := editForm(changed, s.Version)
	form.Set("form_token", formTokenOf(t, page))
	for range 2 {
		wantNoticeRedirect(t, postForm(t, svc.handler, updatePathOf(s.ID), form), "updated")
	}
	if got := getSupplier(t, svc, s.ID); got.Version != 2 || got.City != "Raleigh" {
		t.Errorf("after one edit posted twice the supplier is %+v, want version 2", got)
	}
	if n := len(history(t, svc, s.ID)); n != 2 {
		t.Errorf("%d audit rows, want the create and one update", n)
	}

	page = get(t, svc.handler, removePathOf(s.ID))
	remove := url.Values{"version": {"2"}, "form_token": {formTokenOf(t, page)}}
	for range 2 {
		wantNoticeRedirect(t, postForm(t, svc.handler, removePathOf(s.ID), remove), "deleted")
	}
}

// TestAnOlderHashIsUpgradedWithoutEndingTheSession: signing in with a hash
// of older, cheaper parameters stores a current one, and the session just
// begun (and any other) goes on: an upgrade is not a reset.
func TestAnOlderHashIsUpgradedWithoutEndingTheSession(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	const email, password = "older.hash@coffee-suppliers.example", "a password from long ago"
	salt := []byte("sixteen byte slt")
	old := "$argon2id$v=19$m=8192,t=1,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" +
		base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte(password), salt, 1, 8192, 1, 32))
	if _, err := svc.store.CreateEmployee(t.Context(), email, old); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(svc.raw)
	b.signIn(t, email, password)
	e, err := svc.store.EmployeeByEmail(t.Context(), email)
	if err != nil || auth.NeedsRehash(e.PasswordHash) || e.SessionGeneration != 0 {
		t.Fatalf("after signing in: %+v, %v; want a current hash at generation 0", e, err)
	}
	svc.clock.Advance(auth.SessionCheckTTL)
	wantStatus(t, get(t, b, listPath), http.StatusOK)
}

// Package webclient is a browser without a screen, for the tests and the
// benchmark that drive the services over HTTP: a client that keeps cookies,
// shows each redirect instead of following it, signs in through the
// employee's sign-in page and posts forms as a browser submits them, with
// the page's CSRF token and other hidden inputs.
//
//	c := webclient.New(10 * time.Second)
//	if err := c.SignIn(ctx, baseURL, email, password); err != nil { … }
//	resp, body, err := c.PostForm(ctx, baseURL+"/admin/supplier-add", values)
//
// It imports nothing but the standard library, so a command (bench) may
// use it as well as tests.
package webclient

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// CSRFField is the hidden input that carries a session's CSRF token in every
// form that changes something (the employee service's auth.CSRFField).
const CSRFField = "csrf_token"

// The employee service's sign-in page, and the list it lands on when the
// sign-in names no other page.
const (
	LoginPath = "/admin/login"
	ListPath  = "/admin/suppliers"
)

// hiddenInput is a hidden input as the services' templates write it.
var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// HiddenInputs are the hidden inputs of page, the first of each name, their
// values unescaped.
func HiddenInputs(page []byte) url.Values {
	inputs := url.Values{}
	for _, m := range hiddenInput.FindAllSubmatch(page, -1) {
		if name := string(m[1]); !inputs.Has(name) {
			inputs.Set(name, html.UnescapeString(string(m[2])))
		}
	}
	return inputs
}

// Client is one visitor's browser. HTTP is the client it sends with; change
// it to taste (follow redirects with HTTP.CheckRedirect = nil, another
// Transport), keeping its Jar.
type Client struct {
	HTTP *http.Client
}

// New is a client with an empty cookie jar that gives up after timeout and
// returns each redirect to its caller, so the redirect can be checked.
func New(timeout time.Duration) *Client {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &Client{HTTP: &http.Client{
		Jar:           jar,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Get fetches u and reads the whole answer, whatever its status.
func (c *Client) Get(ctx context.Context, u string) (*http.Response, []byte, error) {
	return c.do(ctx, http.MethodGet, u, nil)
}

// Post posts form to u as an HTML form would, exactly as given (add the
// CSRF token yourself, or use PostForm), and reads the whole answer.
func (c *Client) Post(ctx context.Context, u string, form url.Values) (*http.Response, []byte, error) {
	return c.do(ctx, http.MethodPost, u, form)
}

// FormToken fetches the form page at u and returns its CSRF token; the page
// must answer 200 and hold one.
func (c *Client) FormToken(ctx context.Context, u string) (string, error) {
	inputs, err := c.form(ctx, u)
	if err != nil {
		return "", err
	}
	return inputs.Get(CSRFField), nil
}

// PostForm submits the form of the page at formURL as a browser would: it
// fetches the page (which must answer 200 and hold a CSRF token), then posts
// the page's hidden inputs (the token, and a form's version and one-time
// token) with values typed over them, back to formURL.
func (c *Client) PostForm(ctx context.Context, formURL string, values url.Values) (*http.Response, []byte, error) {
	form, err := c.form(ctx, formURL)
	if err != nil {
		return nil, nil, err
	}
	for name, v := range values {
		form[name] = v
	}
	return c.Post(ctx, formURL, form)
}

// SignIn signs the employee in through the sign-in page of the service at
// baseURL; it wants the redirect to the list a successful sign-in answers.
// The session cookie stays in the jar.
func (c *Client) SignIn(ctx context.Context, baseURL, email, password string) error {
	resp, body, err := c.PostForm(ctx, baseURL+LoginPath, url.Values{"email": {email}, "password": {password}})
	if err != nil {
		return fmt.Errorf("sign in as %s: %w", email, err)
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != ListPath {
		return fmt.Errorf("sign in as %s: status %d to %q, want 303 to %s; body starts %.300q",
			email, resp.StatusCode, resp.Header.Get("Location"), ListPath, body)
	}
	return nil
}

// CookieHeader is the Cookie header the client sends to u, for a tool
// that sends the same session (wrk); "" when it holds no cookie for u.
func (c *Client) CookieHeader(u string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("cookies for %s: %w", u, err)
	}
	var parts []string
	for _, cookie := range c.HTTP.Jar.Cookies(parsed) {
		parts = append(parts, cookie.Name+"="+cookie.Value)
	}
	return strings.Join(parts, "; "), nil
}

// form fetches the form page at u and returns its hidden inputs.
func (c *Client) form(ctx context.Context, u string) (url.Values, error) {
	resp, page, err := c.Get(ctx, u)
	if err != nil {
		return nil, err
	}
	inputs := HiddenInputs(page)
	if resp.StatusCode != http.StatusOK || inputs.Get(CSRFField) == "" {
		return nil, fmt.Errorf("GET %s: status %d without a %s field; body starts %.300q", u, resp.StatusCode, CSRFField, page)
	}
	return inputs, nil
}

// do sends a request, with form as its URL-encoded body when not nil, and
// reads the whole answer.
func (c *Client) do(ctx context.Context, method, u string, form url.Values) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: reading the answer: %w", method, u, err)
	}
	return resp, page, nil
}

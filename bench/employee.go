package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// browser is the harness acting as a person: an employee signing in and
// editing a supplier, and a visitor reading the catalogue.
type browser struct {
	client *http.Client
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &browser{client: &http.Client{Jar: jar, Timeout: 5 * time.Second}}
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// get fetches url and fails on anything but 200.
func (b *browser) get(ctx context.Context, url string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return resp, body, nil
}

// postForm fetches the form page, then posts values with its CSRF token;
// it wants the 303 a successful change answers.
func (b *browser) postForm(ctx context.Context, formURL, target string, values url.Values) error {
	_, page, err := b.get(ctx, formURL)
	if err != nil {
		return err
	}
	m := csrfInput.FindSubmatch(page)
	if m == nil {
		return fmt.Errorf("%s has no CSRF token", formURL)
	}
	values.Set("csrf_token", string(m[1]))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(values.Encode()))
	if err != nil {
		return fmt.Errorf("POST %s: %w", target, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	noRedirect := *b.client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", target, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("POST %s: status %d, want 303", target, resp.StatusCode)
	}
	return nil
}

// signIn signs the employee in and returns the Cookie header that carries
// the session, for wrk to send.
func (b *browser) signIn(ctx context.Context, employee, email, password string) (string, error) {
	err := b.postForm(ctx, employee+"/admin/login", employee+"/admin/login",
		url.Values{"email": {email}, "password": {password}, "next": {"/admin/suppliers"}})
	if err != nil {
		return "", fmt.Errorf("sign in: %w", err)
	}
	u, _ := url.Parse(employee + "/admin/suppliers")
	var parts []string
	for _, c := range b.client.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("sign in: no session cookie")
	}
	return strings.Join(parts, "; "), nil
}

// apiSupplier is what the harness reads of the catalogue's JSON API.
type apiSupplier struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address"`
	City    string `json:"city"`
	State   string `json:"state"`
	Email   string `json:"email"`
	Phone   string `json:"phone"`
	Version int64  `json:"version"`
}

// freshness renames the first supplier of the catalogue's first page
// through the employee's edit form, then reads the catalogue's first page
// until the new name shows, for at most limit. It returns how long that
// took from the moment the change was saved.
func (b *browser) freshness(ctx context.Context, customer, employee, newName string, limit time.Duration) (time.Duration, error) {
	_, raw, err := b.get(ctx, customer+"/api/suppliers?per_page=1")
	if err != nil {
		return 0, err
	}
	var list struct{ Items []apiSupplier }
	if err := json.Unmarshal(raw, &list); err != nil || len(list.Items) == 0 {
		return 0, fmt.Errorf("catalogue API: no supplier to rename (%v)", err)
	}
	s := list.Items[0]
	// The first page read just before the change, so the catalogue holds
	// it in its page cache as it does under load: the change has to wait
	// out whatever bound that cache keeps.
	if _, _, err := b.get(ctx, customer+"/suppliers"); err != nil {
		return 0, err
	}
	edit := employee + "/admin/supplier-update/" + strconv.FormatInt(s.ID, 10)
	err = b.postForm(ctx, edit, edit, url.Values{"name": {newName}, "address": {s.Address}, "city": {s.City},
		"state": {s.State}, "email": {s.Email}, "phone": {s.Phone}, "version": {strconv.FormatInt(s.Version, 10)}})
	if err != nil {
		return 0, fmt.Errorf("rename supplier %d: %w", s.ID, err)
	}
	saved := time.Now()
	want := []byte(">" + newName + "<")
	for {
		_, page, err := b.get(ctx, customer+"/suppliers")
		if err != nil {
			return 0, err
		}
		if strings.Contains(string(page), string(want)) {
			return time.Since(saved), nil
		}
		if time.Since(saved) > limit {
			return 0, fmt.Errorf("the catalogue still lacks %q %s after the change was saved", newName, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web/webclient"
)

// browser is the harness acting as a person: an employee signing in and
// editing a supplier, and a visitor reading the catalogue.
type browser struct {
	client *webclient.Client
}

func newBrowser() *browser { return &browser{client: webclient.New(5 * time.Second)} }

// get fetches url and fails on anything but 200.
func (b *browser) get(ctx context.Context, url string) (*http.Response, []byte, error) {
	resp, body, err := b.client.Get(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return resp, body, nil
}

// signIn signs the employee in and returns the Cookie header that carries
// the session, for wrk to send.
func (b *browser) signIn(ctx context.Context, employee, email, password string) (string, error) {
	if err := b.client.SignIn(ctx, employee, email, password); err != nil {
		return "", err
	}
	cookie, err := b.client.CookieHeader(employee + webclient.ListPath)
	if err != nil {
		return "", fmt.Errorf("sign in: %w", err)
	}
	if cookie == "" {
		return "", fmt.Errorf("sign in: no session cookie")
	}
	return cookie, nil
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
	resp, _, err := b.client.PostForm(ctx, edit, url.Values{"name": {newName}, "address": {s.Address}, "city": {s.City},
		"state": {s.State}, "email": {s.Email}, "phone": {s.Phone}, "version": {strconv.FormatInt(s.Version, 10)}})
	if err != nil {
		return 0, fmt.Errorf("rename supplier %d: %w", s.ID, err)
	}
	if resp.StatusCode != http.StatusSeeOther {
		return 0, fmt.Errorf("rename supplier %d: status %d, want the 303 a saved change answers", s.ID, resp.StatusCode)
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

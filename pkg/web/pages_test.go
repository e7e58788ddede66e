package web

import (
	"bytes"
	"encoding/binary"
	"html/template"
	"image/png"
	"net/http"
	"slices"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// TestPageWindow: the pager shows up to five page numbers around the
// current page, fewer near the ends, and the last ones past the end.
func TestPageWindow(t *testing.T) {
	for _, tc := range []struct {
		page, pages int
		want        []int
	}{
		{1, 1, []int{1}},
		{1, 3, []int{1, 2, 3}},
		{1, 50, []int{1, 2, 3, 4, 5}},
		{2, 50, []int{1, 2, 3, 4, 5}},
		{10, 50, []int{8, 9, 10, 11, 12}},
		{49, 50, []int{46, 47, 48, 49, 50}},
		{50, 50, []int{46, 47, 48, 49, 50}},
		{99, 3, []int{1, 2, 3}},
	} {
		list := suppliers.List{Page: tc.page, PerPage: 20, Total: tc.pages * 20}
		if got := pageWindow(list); !slices.Equal(got, tc.want) {
			t.Errorf("page %d of %d shows numbers %v, want %v", tc.page, tc.pages, got, tc.want)
		}
	}
}

// TestCellTextKeepsWordsWhole: words a browser would break inside (after a
// hyphen or slash) are kept together, emails may break after @ and dots
// only, and everything is escaped once.
func TestCellTextKeepsWordsWhole(t *testing.T) {
	for _, tc := range []struct {
		in   string
		got  template.HTML
		want string
	}{
		{"Kailua-Kona", wholeWords("Kailua-Kona"), `<span class="nw">Kailua-Kona</span>`},
		{"San José", wholeWords("San José"), `San José`},
		{"Friuli-Venezia Giulia", wholeWords("Friuli-Venezia Giulia"), `<span class="nw">Friuli-Venezia</span> Giulia`},
		{"O'Brien & <b>", wholeWords("O'Brien & <b>"), `O&#39;Brien &amp; &lt;b&gt;`},
		{"a 31-character word may break", wholeWords("abcdefghijklmnopqrstuvwxyz-abcd"), `abcdefghijklmnopqrstuvwxyz-abcd`},
		{"email", emailBreaks("orders@blue-ridge.example.com"),
			`orders@<wbr><span class="nw">blue-ridge.</span><wbr>example.<wbr>com`},
		{"email with markup", emailBreaks("a<b>@x.com"), `a&lt;b&gt;@<wbr>x.<wbr>com`},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("%s: %q, want %q", tc.in, tc.got, tc.want)
		}
	}
}

// TestFaviconIsServed: /favicon.ico (where browsers look) and the icon the
// layout links answer an ICO holding a 32-pixel PNG.
func TestFaviconIsServed(t *testing.T) {
	ta := newTestApp(t, nil)
	r := ta.do(t, http.MethodGet, "/favicon.ico", nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/x-icon" {
		t.Fatalf("GET /favicon.ico = %d %q", r.status, r.header.Get("Content-Type"))
	}
	body := []byte(r.body)
	if len(body) < 22 || binary.LittleEndian.Uint16(body[2:]) != 1 || binary.LittleEndian.Uint16(body[4:]) != 1 {
		t.Fatalf("favicon.ico is not an icon file with one image: % x", body[:min(len(body), 22)])
	}
	img, err := png.Decode(bytes.NewReader(body[binary.LittleEndian.Uint32(body[18:]):]))
	if err != nil || img.Bounds().Dx() != 32 || img.Bounds().Dy() != 32 {
		t.Fatalf("favicon.ico's image: %v, %v; want a 32×32 PNG", img, err)
	}
	page := ta.do(t, http.MethodGet, "/hello", nil)
	if !bytes.Contains([]byte(page.body), []byte(`<link rel="icon" href="/favicon.ico" sizes="32x32">`)) {
		t.Errorf("the layout does not link /favicon.ico:\n%s", page.body)
	}
}

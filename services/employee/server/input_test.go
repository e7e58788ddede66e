package server

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// inputCase is one value typed into one field.
type inputCase struct {
	name  string
	value string
	valid bool
}

// inputCases are the values every field is tried with. Free-text fields
// take any single line of text; email and phone accept only their formats,
// so text that is fine as a name is refused there.
func inputCases(f suppliers.Field) []inputCase {
	freeText := f.Name != "email" && f.Name != "phone"
	cases := []inputCase{
		{"empty", "", false},
		{"whitespace only", " \t  ", false},
		{"10,000 characters", strings.Repeat("a", 10_000), false},
		{"one over the column in accents", strings.Repeat("é", f.MaxChars+1), false},
		{"line break", "first line\nsecond line", false},
		{"emoji", "☕ Bean Co 🫘", freeText},
		{"accents", "Café de l'Étoile — Señor Müller", freeText},
		{"right to left", "مقهى البن الأخضر", freeText},
		{"html and script", `<script>alert("x")</script><b>bold</b>`, freeText},
		{"sql fragment", "'; DROP TABLE suppliers; --", freeText},
		{"surrounding spaces", "  Padded Value  ", freeText},
		// Invisible characters that reorder or disguise text (Cf, Zl, Zp).
		{"right-to-left override", "Acme \u202egnp.exe", false},
		{"zero-width space", "Ac\u200bme", false},
		{"byte order mark", "\ufeffAcme", false},
		{"line separator", "first\u2028second", false},
	}
	if freeText {
		cases = append(cases, inputCase{"exactly the column in accents", strings.Repeat("é", f.MaxChars), true})
	}
	switch f.Name {
	case "email":
		cases = append(cases,
			inputCase{"plain address", "orders@example.com", true},
			inputCase{"apostrophe and plus", "o'brien+beans@example.co.uk", true},
			inputCase{"display name", "Orders <orders@example.com>", false},
			inputCase{"no domain dot", "orders@localhost", false},
			inputCase{"sql in address", "x'--@example.com", true},
			inputCase{"mailto header injection", "sales?bcc=spy%40evil.example&subject=hi@supplier.example", false},
			inputCase{"quoted local part", `"sales desk"@example.com`, false},
		)
	case "phone":
		cases = append(cases,
			inputCase{"international", "+44 (20) 5555-0100", true},
			inputCase{"dotted", "206.555.0100", true},
			inputCase{"too few digits", "555 01", false},
			inputCase{"letters", "call 555 0100", false},
		)
	}
	return cases
}

// TestEveryFieldWithHostileAndUnusualInput submits each case through the add
// form and the edit form. Valid values are stored exactly as typed (after
// trimming) and shown escaped once; invalid ones come back with status 400,
// the message next to the field and the typing kept, and nothing written.
func TestEveryFieldWithHostileAndUnusualInput(t *testing.T) {
	t.Parallel()
	for _, field := range suppliers.Fields {
		t.Run(field.Name, func(t *testing.T) {
			t.Parallel()
			svc := newTestService(t)
			existing := createSupplier(t, svc, validInput())
			for _, tc := range inputCases(field) {
				in := validInput()
				field.Set(&in, tc.value)
				want := strings.TrimSpace(tc.value)

				t.Run("add/"+tc.name, func(t *testing.T) {
					before := countRows(t, svc.db)
					rec := postForm(t, svc.handler, addPath, formOf(in))
					if !tc.valid {
						wantRefusedNextToField(t, rec, field, in)
						if after := countRows(t, svc.db); after != before {
							t.Errorf("row count went from %d to %d after a refused add", before, after)
						}
						return
					}
					wantNoticeRedirect(t, rec, "created")
					if after := countRows(t, svc.db); after != before+1 {
						t.Fatalf("row count went from %d to %d after an add", before, after)
					}
					if got := field.Value(newestSupplier(t, svc).Input()); got != want {
						t.Errorf("stored %q, want %q", got, want)
					}
				})

				t.Run("edit/"+tc.name, func(t *testing.T) {
					current := getSupplier(t, svc, existing.ID)
					rec := postForm(t, svc.handler, updatePathOf(existing.ID), editForm(in, current.Version))
					if !tc.valid {
						wantRefusedNextToField(t, rec, field, in)
						if after := getSupplier(t, svc, existing.ID); after != current {
							t.Errorf("refused edit changed the supplier to %+v", after)
						}
						return
					}
					wantNoticeRedirect(t, rec, "updated")
					saved := getSupplier(t, svc, existing.ID)
					if got := field.Value(saved.Input()); got != want {
						t.Errorf("stored %q, want %q", got, want)
					}
					page := get(t, svc.handler, updatePathOf(existing.ID))
					wantStatus(t, page, http.StatusOK)
					wantBody(t, page, `value="`+escaped(want)+`"`)
					if strings.ContainsAny(want, `<&'"`) {
						wantNoBody(t, page, "&amp;amp;", "&amp;#", "&amp;lt;", `value="`+want+`"`)
					}
					if strings.Contains(want, "<script>") {
						wantNoBody(t, page, "<script>")
					}
				})
			}
		})
	}
}

// wantRefusedNextToField checks a 400 form page that names the problem
// beside field, links to it from the summary and keeps what was typed.
func wantRefusedNextToField(t *testing.T, rec *httptest.ResponseRecorder, field suppliers.Field, typed suppliers.Input) {
	t.Helper()
	wantStatus(t, rec, http.StatusBadRequest)
	_, err := suppliers.Validate(typed)
	msg := err.(suppliers.FieldErrors)[field.Name]
	if msg == "" {
		t.Fatalf("test case is valid according to suppliers.Validate; fix the case")
	}
	id := "supplier-" + field.Name
	block := fieldBlock(t, rec.Body.String(), id)
	for _, want := range []string{
		`aria-invalid="true"`,
		`aria-describedby="` + id + `-error"`,
		`<p class="error" id="` + id + `-error">` + escaped(msg) + `</p>`,
		`value="` + escaped(field.Value(typed)) + `"`,
	} {
		if !strings.Contains(block, want) {
			t.Errorf("field %s lacks %.200q; field markup:\n%.2000s", field.Name, want, block)
		}
	}
	wantBody(t, rec, `<a href="#`+id+`">`+escaped(msg)+`</a>`)
}

var fieldBlocks = regexp.MustCompile(`(?s)<div class="field">.*?</div>`)

// fieldBlock is the markup of the form field whose input has id.
func fieldBlock(t *testing.T, body, id string) string {
	t.Helper()
	for _, block := range fieldBlocks.FindAllString(body, -1) {
		if strings.Contains(block, `<input id="`+id+`"`) {
			return block
		}
	}
	t.Fatalf("no field with input id %q in:\n%s", id, body)
	return ""
}

// TestOversizeBodiesAreRefused sends more than the 64 KB a form may hold,
// once with its length declared and once chunked, over a real connection.
func TestOversizeBodiesAreRefused(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)
	s := createSupplier(t, svc, validInput())
	server := httptest.NewServer(svc.handler)
	t.Cleanup(server.Close)

	form := formOf(validInput())
	form.Set("padding", strings.Repeat("x", 70<<10))
	body := form.Encode()
	for _, tc := range []struct {
		name    string
		body    func() io.Reader
		chunked bool
	}{
		{"content-length", func() io.Reader { return strings.NewReader(body) }, false},
		// A reader of unknown length makes the client send it chunked.
		{"chunked", func() io.Reader { return io.MultiReader(strings.NewReader(body)) }, true},
	} {
		for _, path := range []string{addPath, updatePathOf(s.ID), removePathOf(s.ID)} {
			t.Run(tc.name+path, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodPost, server.URL+path, tc.body())
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err := server.Client().Do(req)
				if err != nil {
					t.Fatalf("post: %v", err)
				}
				defer res.Body.Close()
				if tc.chunked != (req.ContentLength <= 0) {
					t.Fatalf("request sent with Content-Length %d; test setup is wrong", req.ContentLength)
				}
				page, _ := io.ReadAll(res.Body)
				if res.StatusCode != http.StatusRequestEntityTooLarge {
					t.Fatalf("status %d, want 413; body:\n%s", res.StatusCode, page)
				}
				if !bytes.Contains(page, []byte("Request too large")) || !bytes.Contains(page, []byte("64 KB")) {
					t.Errorf("413 page does not explain the limit:\n%s", page)
				}
			})
		}
	}
	if n := countRows(t, svc.db); n != 1 {
		t.Errorf("%d rows after oversize posts, want 1", n)
	}
	if after := getSupplier(t, svc, s.ID); after != s {
		t.Errorf("oversize post changed the supplier")
	}
}

func TestOnlyURLEncodedFormsAreAccepted(t *testing.T) {
	t.Parallel()
	svc := newTestService(t)

	var multipartBody bytes.Buffer
	mw := multipart.NewWriter(&multipartBody)
	for name, values := range formOf(validInput()) {
		mw.WriteField(name, values[0]) //nolint:errcheck // writes to a buffer
	}
	mw.Close()
	for _, tc := range []struct {
		contentType string
		body        string
	}{
		{mw.FormDataContentType(), multipartBody.String()},
		{"application/json", `{"name":"Blue Ridge Roasters","address":"12 Mill Road","city":"Asheville","state":"NC","email":"orders@blueridge.example.com","phone":"+1 828 555 0142"}`},
		{"text/plain", formOf(validInput()).Encode()},
		{"", formOf(validInput()).Encode()},
	} {
		req := httptest.NewRequest(http.MethodPost, addPath, strings.NewReader(tc.body))
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		rec := serve(svc.handler, req)
		if rec.Code != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: status %d, want 415", tc.contentType, rec.Code)
			continue
		}
		wantBody(t, rec, "Unsupported form encoding", "application/x-www-form-urlencoded")
	}
	if n := countRows(t, svc.db); n != 0 {
		t.Errorf("%d rows stored from refused encodings", n)
	}
}

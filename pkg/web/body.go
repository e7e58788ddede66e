package web

import (
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// MaxBodyBytes is the largest request body any form accepts: a supplier is
// at most a few kilobytes, so anything bigger is a mistake or an attack.
const MaxBodyBytes = 64 << 10

// limitBody refuses a declared oversize body before reading it, and caps
// undeclared (chunked) ones so reading past the limit fails.
func limitBody(c *gin.Context) {
	if c.Request.ContentLength > MaxBodyBytes {
		c.Set(oversizeKey, true)
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	c.Next()
}

const oversizeKey = "web.oversize"

// ParseForm reads an HTML form submission: only URL-encoded bodies (what a
// browser's form sends) are accepted, at most MaxBodyBytes.
func ParseForm(c *gin.Context) (url.Values, error) {
	if c.GetBool(oversizeKey) {
		return nil, &http.MaxBytesError{Limit: MaxBodyBytes}
	}
	mediaType, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mediaType != "application/x-www-form-urlencoded" {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Title: "Unsupported form encoding",
			Message: "This form accepts application/x-www-form-urlencoded bodies, as a browser sends them."}
	}
	if err := c.Request.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, &Error{Status: http.StatusBadRequest, Title: "Unreadable form",
			Message: "The form could not be read. Reload the page and submit it again.", Err: err}
	}
	return c.Request.PostForm, nil
}

package web

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"

	"github.com/gin-gonic/gin"
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:=-]{1,128}$`)

// requestID keeps the caller's X-Request-Id when it looks like one (so a
// request can be followed through the load balancer), or makes a new one.
func requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !validRequestID.MatchString(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

// RequestID returns the current request's id.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

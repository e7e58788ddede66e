package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// contentSecurityPolicy allows nothing but this origin's style sheet and
// form targets: the pages have no scripts at all.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every answer carries; HSTS only over
// HTTPS, where a browser heeds it.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if IsHTTPS(c.Request) {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Next()
}

// IsHTTPS says whether the browser reached us over HTTPS: directly, or
// through a load balancer that terminated TLS and said so in
// X-Forwarded-Proto, in whatever case (a scheme's name is case-insensitive).
//
// The header is believed from any peer, not only TrustedProxies: all it
// can do is ask for more protection (HSTS, which browsers ignore over
// plain HTTP, and Secure cookies, which such a client then never sends
// back), while disbelieving a real load balancer would silently drop both.
func IsHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

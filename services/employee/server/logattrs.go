package server

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
)

// attrRequest ties an account event to its request log line. Never a
// password, cookie, session or CSRF token.
func attrRequest(c *gin.Context) []slog.Attr {
	return []slog.Attr{slog.String("request_id", web.RequestID(c)), slog.String("client_ip", c.ClientIP())}
}

func attrEmployee(id int64, email string) []slog.Attr {
	return []slog.Attr{slog.Int64("employee_id", id), slog.String("employee_email", email)}
}

package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// sameOrigin refuses state-changing requests a browser sent from another
// site (judged by Sec-Fetch-Site or Origin against Host): every change is
// made by a form on these pages, so a cross-site post can only be someone
// else's page acting in an employee's name. Clients that are not browsers
// send neither header and pass.
func (a *App) sameOrigin() gin.HandlerFunc {
	protection := http.NewCrossOriginProtection()
	return func(c *gin.Context) {
		if err := protection.Check(c.Request); err != nil {
			a.fail(c, &Error{Status: http.StatusForbidden, Title: "Form sent from another site",
				Message: "Suppliers can only be changed from the forms on these pages. Open the form here and submit it again.",
				Err:     err})
			return
		}
		c.Next()
	}
}

package web

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// recoverPanic answers a panicking handler with the 500 page, logged with
// the panic's value; http.ErrAbortHandler is re-raised, as net/http means
// it to be.
func (a *App) recoverPanic(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			a.fail(c, fmt.Errorf("panic: %v", r))
		}
	}()
	c.Next()
}

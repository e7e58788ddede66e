// Command employee serves the supplier administration pages under /admin:
// the searchable list, and the forms that add, edit and delete suppliers.
package main

import (
	"context"
	"io"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/server"
)

func main() { web.Main("employee", run) }

// run serves until ctx ends, configured through lookup (os.LookupEnv in
// production) and logging to stdout.
func run(ctx context.Context, lookup func(string) (string, bool), stdout io.Writer) error {
	return web.Run(ctx, "employee", server.New, lookup, stdout)
}

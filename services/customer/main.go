// Command customer serves the public supplier catalogue: the home page, the
// searchable supplier list and a read-only JSON API.
package main

import (
	"context"
	"io"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/services/customer/server"
)

func main() { web.Main("customer", run) }

// run serves until ctx ends, configured through lookup (os.LookupEnv in
// production) and logging to stdout.
func run(ctx context.Context, lookup func(string) (string, bool), stdout io.Writer) error {
	return web.Run(ctx, "customer", server.New, lookup, stdout)
}

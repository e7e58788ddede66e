module github.com/coffee-suppliers/coffee-suppliers/containers

go 1.26.8

require (
	github.com/coffee-suppliers/coffee-suppliers/pkg v0.0.0
	github.com/go-sql-driver/mysql v1.10.1
)

require filippo.io/edwards25519 v1.2.0 // indirect

// The stories sign in and post forms with the tests' client
// (pkg/web/webclient); the replace line lets the module build on its own
// (GOWORK=off) as well as in the workspace.
replace github.com/coffee-suppliers/coffee-suppliers/pkg => ../pkg

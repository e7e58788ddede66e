module github.com/coffee-suppliers/coffee-suppliers/local

go 1.26.8

require (
	github.com/coffee-suppliers/coffee-suppliers/pkg v0.0.0
	github.com/coffee-suppliers/coffee-suppliers/services/customer v0.0.0
	github.com/coffee-suppliers/coffee-suppliers/services/employee v0.0.0
)

// Everything the launcher runs lives in this repository.
replace (
	github.com/coffee-suppliers/coffee-suppliers/pkg => ../pkg
	github.com/coffee-suppliers/coffee-suppliers/services/customer => ../services/customer
	github.com/coffee-suppliers/coffee-suppliers/services/employee => ../services/employee
)

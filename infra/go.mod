module github.com/coffee-suppliers/coffee-suppliers/infra

go 1.26.8

require (
	github.com/coffee-suppliers/coffee-suppliers/local v0.0.0
	gopkg.in/yaml.v3 v3.0.1
)

// The gateway's Rules, the one source of the load balancer's routing.
replace (
	github.com/coffee-suppliers/coffee-suppliers/local => ../local
	github.com/coffee-suppliers/coffee-suppliers/pkg => ../pkg
	github.com/coffee-suppliers/coffee-suppliers/services/customer => ../services/customer
	github.com/coffee-suppliers/coffee-suppliers/services/employee => ../services/employee
)

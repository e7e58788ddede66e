// Command stackparams prints one stack's parameters from an environment's
// parameter file as the Key=Value words of `aws cloudformation deploy
// --parameter-overrides`, after checking that each is a parameter the
// stack's template declares, so a misspelt name fails the deploy instead of
// being ignored.
//
//	stackparams infra/params/dev.json infra/templates/network.yaml network
package main

import (
	"fmt"
	"os"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: stackparams PARAMS.json TEMPLATE.yaml STACK")
		os.Exit(2)
	}
	words, err := cfn.Overrides(os.Args[1], os.Args[2], os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "stackparams:", err)
		os.Exit(1)
	}
	for _, w := range words {
		fmt.Println(w)
	}
}

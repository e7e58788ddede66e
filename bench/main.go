// Command bench is the benchmark harness behind `make bench`: it runs the
// customer and employee services as real processes over a real MySQL
// server, drives them with wrk at fixed concurrency for fixed durations, and
// compares every figure with a ceiling measured in the same run (a bare
// net/http server answering the catalogue page's bytes). It writes
// docs/benchmarks.md and a JSON copy.
//
//	go run ./bench              the full run (about five minutes)
//	go run ./bench -short       a quick run that only checks the harness works
//
// The database is the server named by APP_DB_* when APP_DB_HOST is set (an
// account that may create databases and users), or else a throw-away
// container of BENCH_MYSQL_IMAGE (mysql:8.4) on the local Docker engine.
// Everything listens on and is loaded over 127.0.0.1 only.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == ceilingCommand {
		if err := serveCeiling(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench ceiling:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.LookupEnv); err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

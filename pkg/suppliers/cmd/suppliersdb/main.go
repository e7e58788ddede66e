// Command suppliersdb is the migration step: it applies the schema, creates
// the per-service database accounts, and loads demo data. It connects with
// the APP_DB_* settings of an account allowed to change the schema.
//
//	suppliersdb migrate        apply migrations (and accounts when their passwords are set)
//	suppliersdb seed -n 500    insert 500 demo suppliers
//
// It exits non-zero on any failure, so a pipeline or compose stops there.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

const usage = `usage:
  suppliersdb migrate       apply the schema; with CUSTOMER_DB_PASSWORD and
                            EMPLOYEE_DB_PASSWORD set, also create the services' accounts
  suppliersdb seed [-n N]   insert N demo suppliers (default 50)

settings: APP_DB_HOST, APP_DB_PORT (3306), APP_DB_USER, APP_DB_PASSWORD, APP_DB_NAME (COFFEE),
  APP_DB_TLS (off, or verify: TLS with the server checked against APP_DB_CA_FILE,
  default /etc/ssl/certs/rds-ca-bundle.pem),
  CUSTOMER_DB_USER (coffee_customer), CUSTOMER_DB_PASSWORD,
  EMPLOYEE_DB_USER (coffee_employee), EMPLOYEE_DB_PASSWORD,
  DB_WAIT_TIMEOUT (60s): how long to wait for the database to answer`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("service", "suppliersdb")
	if err := run(ctx, log, os.Args[1:], os.LookupEnv); err != nil {
		log.Error("failed", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, args []string, lookup func(string) (string, bool)) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cmd, args := args[0], args[1:]
	flags := flag.NewFlagSet(cmd, flag.ContinueOnError)
	n := flags.Int("n", 50, "number of demo suppliers to insert")
	if err := flags.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, usage)
	}
	if cmd != "migrate" && cmd != "seed" {
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	if *n < 0 || *n > 1_000_000 {
		return fmt.Errorf("-n must be from 0 to 1000000, got %d", *n)
	}

	env := envconfig.New(lookup)
	dbCfg := suppliers.DBConfigFromEnv(env)
	wait := env.Duration("DB_WAIT_TIMEOUT", time.Minute, time.Second, 30*time.Minute)
	customer := suppliers.Account{User: env.Identifier("CUSTOMER_DB_USER", "coffee_customer"), Password: env.OptionalSecret("CUSTOMER_DB_PASSWORD")}
	employee := suppliers.Account{User: env.Identifier("EMPLOYEE_DB_USER", "coffee_employee"), Password: env.OptionalSecret("EMPLOYEE_DB_PASSWORD")}
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log.Info("starting", "command", cmd, "db", dbCfg)

	db, err := suppliers.Open(dbCfg)
	if err != nil {
		return err
	}
	defer db.Close()
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := suppliers.WaitReady(waitCtx, db); err != nil {
		return err
	}

	switch cmd {
	case "migrate":
		applied, err := suppliers.Migrate(ctx, db)
		if err != nil {
			return err
		}
		log.Info("schema up to date", "applied", applied)
		switch {
		case customer.Password != "" && employee.Password != "":
			if err := suppliers.EnsureAccounts(ctx, db, dbCfg.Name, customer, employee); err != nil {
				return err
			}
			log.Info("service accounts ready", "customer", customer.User, "employee", employee.User)
		case customer.Password != "" || employee.Password != "":
			return errors.New("set both CUSTOMER_DB_PASSWORD and EMPLOYEE_DB_PASSWORD, or neither")
		default:
			log.Warn("CUSTOMER_DB_PASSWORD and EMPLOYEE_DB_PASSWORD not set: service accounts left as they are")
		}
	case "seed":
		if err := suppliers.Seed(ctx, db, *n, uint64(time.Now().UnixNano())); err != nil {
			return err
		}
		log.Info("seeded", "suppliers", *n)
	}
	return nil
}

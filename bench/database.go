package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// defaultImage is the server started when no APP_DB_HOST is given: the
// MySQL that production runs (RDS for MySQL 8.4). CI passes its MariaDB
// stand-in instead, as it does for the tests.
const defaultImage = "mysql:8.4"

// database is the server the run uses, reached with an account that may
// create databases and users, plus the database and the two services'
// least-privilege accounts made for this run.
type database struct {
	host     string
	port     int
	user     string
	password string
	// name is this run's own database; customer and employee are its
	// accounts, created by the migration step as in production.
	name               string
	customer, employee account
	version            string
	admin              *sql.DB
	stop               func() // removes the container, if the harness started one
}

type account struct{ user, password string }

// randomHex returns n random bytes as hex: unique names and passwords.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// openDatabase connects to the APP_DB_* server, or starts a container of
// BENCH_MYSQL_IMAGE on 127.0.0.1, and creates this run's database.
func openDatabase(ctx context.Context, lookup func(string) (string, bool), logw io.Writer) (*database, error) {
	suffix := randomHex(4)
	d := &database{name: "coffee_bench_" + suffix,
		customer: account{"bench_cust_" + suffix, "Bench-" + randomHex(12)},
		employee: account{"bench_emp_" + suffix, "Bench-" + randomHex(12)},
		stop:     func() {}}
	if host, ok := lookup("APP_DB_HOST"); ok && host != "" {
		d.host = host
		d.port = 3306
		if p, ok := lookup("APP_DB_PORT"); ok && p != "" {
			n, err := strconv.Atoi(p)
			if err != nil {
				return nil, fmt.Errorf("APP_DB_PORT %q: %w", p, err)
			}
			d.port = n
		}
		d.user, _ = lookup("APP_DB_USER")
		d.password, _ = lookup("APP_DB_PASSWORD")
		fmt.Fprintf(logw, "database: the server at %s:%d (APP_DB_*), as %s\n", d.host, d.port, d.user)
	} else if err := d.startContainer(ctx, lookup, logw); err != nil {
		return nil, err
	}
	admin, err := sql.Open("mysql", d.dsn(d.user, d.password, ""))
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("open admin connection: %w", err)
	}
	d.admin = admin
	if err := d.waitReady(ctx, 90*time.Second); err != nil {
		d.close(logw)
		return nil, err
	}
	if err := admin.QueryRowContext(ctx, "SELECT VERSION()").Scan(&d.version); err != nil {
		d.close(logw)
		return nil, fmt.Errorf("server version: %w", err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+d.name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		d.close(logw)
		return nil, fmt.Errorf("create database %s: %w", d.name, err)
	}
	return d, nil
}

// startContainer runs the image on the host's network, bound to 127.0.0.1
// on a free port: no Docker port proxy sits between the services and the
// server to blur the figures. Its data lives on tmpfs and it is removed at
// the end (--rm); the label names this process for anyone sweeping up.
func (d *database) startContainer(ctx context.Context, lookup func(string) (string, bool), logw io.Writer) error {
	image := defaultImage
	if v, ok := lookup("BENCH_MYSQL_IMAGE"); ok && v != "" {
		image = v
	}
	if _, err := exec.LookPath("docker"); err != nil {
		return errors.New("no APP_DB_HOST given and no docker command: set APP_DB_* to a MySQL server, or install Docker")
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	d.host, d.port, d.user, d.password = "127.0.0.1", port, "root", "Bench-"+randomHex(12)
	name := "coffee-bench-" + randomHex(6)
	cmd := exec.CommandContext(ctx, "docker", "run", "-d", "--rm", "--name", name,
		"--label", "coffee-suppliers.bench="+strconv.Itoa(os.Getpid()),
		"--network", "host", "--tmpfs", "/var/lib/mysql",
		"-e", "MYSQL_ROOT_PASSWORD="+d.password,
		image, "--port="+strconv.Itoa(port), "--bind-address=127.0.0.1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker run %s: %w: %s", image, err, strings.TrimSpace(string(out)))
	}
	fmt.Fprintf(logw, "database: container %s of %s on 127.0.0.1:%d\n", name, image, port)
	d.stop = func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(stopCtx, "docker", "rm", "-f", name).CombinedOutput(); err != nil {
			fmt.Fprintf(logw, "warning: removing container %s: %v: %s\n", name, err, out)
		}
	}
	return nil
}

func (d *database) dsn(user, password, dbName string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = user, password, dbName
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(d.host, strconv.Itoa(d.port))
	cfg.Timeout = 2 * time.Second
	return cfg.FormatDSN()
}

// waitReady pings until the server accepts the account, or limit passes.
func (d *database) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		pingCtx, cancelPing := context.WithTimeout(ctx, 2*time.Second)
		err := d.admin.PingContext(pingCtx)
		cancelPing()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("database at %s:%d not ready within %s: %w", d.host, d.port, limit, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// env is the APP_DB_* environment for an account on this run's database.
func (d *database) env(a account) []string {
	return []string{"APP_DB_HOST=" + d.host, "APP_DB_PORT=" + strconv.Itoa(d.port),
		"APP_DB_USER=" + a.user, "APP_DB_PASSWORD=" + a.password, "APP_DB_NAME=" + d.name}
}

// adminEnv is the environment of the migration step: the admin account,
// plus the services' accounts for it to create.
func (d *database) adminEnv() []string {
	return append(d.env(account{d.user, d.password}),
		"CUSTOMER_DB_USER="+d.customer.user, "CUSTOMER_DB_PASSWORD="+d.customer.password,
		"EMPLOYEE_DB_USER="+d.employee.user, "EMPLOYEE_DB_PASSWORD="+d.employee.password)
}

// close drops what the run created on a server it was given, and removes
// a container it started.
func (d *database) close(logw io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, stmt := range []string{"DROP DATABASE IF EXISTS " + d.name,
		"DROP USER IF EXISTS '" + d.customer.user + "'@'%'", "DROP USER IF EXISTS '" + d.employee.user + "'@'%'"} {
		if _, err := d.admin.ExecContext(ctx, stmt); err != nil {
			fmt.Fprintf(logw, "warning: %s: %v\n", stmt, err)
			break
		}
	}
	d.admin.Close()
	d.stop()
}

// freePort asks the kernel for a port free on 127.0.0.1 now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

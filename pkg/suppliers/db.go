package suppliers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
)

// DBConfig holds the lab's APP_DB_* settings.
type DBConfig struct {
	Host     string
	Port     int
	User     string
	Password string
	Name     string
	// MaxOpenConns bounds the pool per service replica, so that replicas
	// times connections stays under the server's max_connections.
	MaxOpenConns int
	// TLS is TLSOff (plain, the zero value) or TLSVerify.
	TLS string
	// CAFile is the PEM bundle the server's certificate is verified
	// against when TLS is TLSVerify.
	CAFile string
}

// The APP_DB_TLS settings.
const (
	// TLSOff connects without TLS: a local MySQL, the compose stack and
	// make run, none of which has a certificate.
	TLSOff = "off"
	// TLSVerify requires TLS and verifies the server's certificate against
	// CAFile and the server's host name (RDS, whose parameter group sets
	// require_secure_transport).
	TLSVerify = "verify"
	// DefaultCAFile is where the images put the RDS certificate bundle
	// (their Dockerfiles' RDS_CA_BUNDLE).
	DefaultCAFile = "/etc/ssl/certs/rds-ca-bundle.pem"
)

// DBConfigFromEnv reads APP_DB_HOST, APP_DB_PORT (3306), APP_DB_USER,
// APP_DB_PASSWORD, APP_DB_NAME (COFFEE), APP_DB_MAX_OPEN_CONNS (20),
// APP_DB_TLS (off, or verify) and APP_DB_CA_FILE (DefaultCAFile). Host,
// user and password have no defaults: credentials never live in code.
//
// With APP_DB_TLS=verify, a CA bundle that cannot be read or holds no
// certificate is a configuration error, reported at start with the other
// settings: unlike a database that is not there yet, it never fixes itself
// (the bundle comes with the image), so waiting for it would hide the
// mistake behind a service that is never ready.
func DBConfigFromEnv(env *envconfig.Reader) DBConfig {
	c := DBConfig{
		Host:         env.Required("APP_DB_HOST"),
		Port:         env.Port("APP_DB_PORT", 3306),
		User:         env.Required("APP_DB_USER"),
		Password:     env.Secret("APP_DB_PASSWORD"),
		Name:         env.Identifier("APP_DB_NAME", "COFFEE"),
		MaxOpenConns: env.Int("APP_DB_MAX_OPEN_CONNS", 20, 1, 1000),
		TLS:          env.String("APP_DB_TLS", TLSOff),
		CAFile:       env.String("APP_DB_CA_FILE", DefaultCAFile),
	}
	switch c.TLS {
	case TLSOff:
	case TLSVerify:
		if _, err := loadCABundle(c.CAFile); err != nil {
			env.Invalid("APP_DB_CA_FILE", "APP_DB_TLS=verify needs the CA bundle to verify the database against: %v", err)
		}
	default:
		env.Invalid("APP_DB_TLS", "must be %s or %s, got %q", TLSOff, TLSVerify, c.TLS)
	}
	return c
}

// loadCABundle reads a PEM file of CA certificates.
func loadCABundle(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// LogValue keeps the password out of logs.
func (c DBConfig) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("host", c.Host), slog.Int("port", c.Port), slog.String("user", c.User),
		slog.String("password", envconfig.Mask(c.Password)), slog.String("name", c.Name),
		slog.Int("max_open_conns", c.MaxOpenConns), slog.String("tls", c.tlsMode()),
	}
	if c.tlsMode() == TLSVerify {
		attrs = append(attrs, slog.String("ca_file", c.CAFile))
	}
	return slog.GroupValue(attrs...)
}

func (c DBConfig) tlsMode() string {
	if c.TLS == "" {
		return TLSOff
	}
	return c.TLS
}

// String keeps the password out of fmt output too.
func (c DBConfig) String() string { return c.LogValue().String() }

// Driver settings: a short dial timeout so an unreachable database fails
// fast; read and write timeouts as a backstop behind the query contexts.
const (
	dialTimeout  = 1 * time.Second
	readTimeout  = 5 * time.Second
	writeTimeout = 5 * time.Second
)

// DriverConfig is c as go-sql-driver/mysql's settings, TLS included (which
// a DSN string could only name through the driver's global registry).
func (c DBConfig) DriverConfig() (*mysql.Config, error) {
	cfg := mysql.NewConfig()
	cfg.User = c.User
	cfg.Passwd = c.Password
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	cfg.DBName = c.Name
	cfg.ParseTime = true
	cfg.Timeout = dialTimeout
	cfg.ReadTimeout = readTimeout
	cfg.WriteTimeout = writeTimeout
	// SET NAMES utf8mb4 on each new connection. Not Params["charset"]:
	// only a DSN string's charset is read that way; a Config's Params are
	// sent as SET statements.
	if err := cfg.Apply(mysql.Charset("utf8mb4", "")); err != nil {
		return nil, fmt.Errorf("database charset: %w", err)
	}
	switch c.tlsMode() {
	case TLSOff:
	case TLSVerify:
		roots, err := loadCABundle(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("database TLS: %w", err)
		}
		// The driver refuses a server without TLS rather than falling
		// back to plain text (AllowFallbackToPlaintext stays false).
		cfg.TLS = &tls.Config{RootCAs: roots, ServerName: c.Host, MinVersion: tls.VersionTLS12}
	default:
		return nil, fmt.Errorf("database TLS: unknown mode %q (want %s or %s)", c.TLS, TLSOff, TLSVerify)
	}
	return cfg, nil
}

// Open creates the connection pool. It does not wait for the database: a
// service starts and reports not-ready until the database answers.
func Open(c DBConfig) (*sql.DB, error) {
	cfg, err := c.DriverConfig()
	if err != nil {
		return nil, fmt.Errorf("open database %s on %s:%d: %w", c.Name, c.Host, c.Port, err)
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s on %s:%d: %w", c.Name, c.Host, c.Port, err)
	}
	db := sql.OpenDB(connector)
	maxOpen := c.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = 20
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	// Recycle connections well before common server and proxy idle limits.
	db.SetConnMaxLifetime(5 * time.Minute)
	db.SetConnMaxIdleTime(time.Minute)
	return db, nil
}

// WaitReady pings until the database answers or ctx ends, for one-shot
// commands (migrate, seed) that start alongside the database.
func WaitReady(ctx context.Context, db *sql.DB) error {
	for {
		pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := db.PingContext(pingCtx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("database not reachable: %w", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

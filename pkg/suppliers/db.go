package suppliers

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
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
}

// DBConfigFromEnv reads APP_DB_HOST, APP_DB_PORT (3306), APP_DB_USER,
// APP_DB_PASSWORD, APP_DB_NAME (COFFEE) and APP_DB_MAX_OPEN_CONNS (20).
// Host, user and password have no defaults: credentials never live in code.
func DBConfigFromEnv(env *envconfig.Reader) DBConfig {
	return DBConfig{
		Host:         env.Required("APP_DB_HOST"),
		Port:         env.Port("APP_DB_PORT", 3306),
		User:         env.Required("APP_DB_USER"),
		Password:     env.Secret("APP_DB_PASSWORD"),
		Name:         env.Identifier("APP_DB_NAME", "COFFEE"),
		MaxOpenConns: env.Int("APP_DB_MAX_OPEN_CONNS", 20, 1, 1000),
	}
}

// LogValue keeps the password out of logs.
func (c DBConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host), slog.Int("port", c.Port), slog.String("user", c.User),
		slog.String("password", envconfig.Mask(c.Password)), slog.String("name", c.Name),
		slog.Int("max_open_conns", c.MaxOpenConns))
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

// DSN is the go-sql-driver/mysql connection string for c.
func (c DBConfig) DSN() string {
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
	cfg.Params = map[string]string{"charset": "utf8mb4"}
	return cfg.FormatDSN()
}

// Open creates the connection pool. It does not wait for the database: a
// service starts and reports not-ready until the database answers.
func Open(c DBConfig) (*sql.DB, error) {
	db, err := sql.Open("mysql", c.DSN())
	if err != nil {
		return nil, fmt.Errorf("open database %s on %s:%d: %w", c.Name, c.Host, c.Port, err)
	}
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

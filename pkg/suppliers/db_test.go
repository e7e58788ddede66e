package suppliers

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
)

const testPassword = "s3cr:t@pw/with?odd&chars"

func testDBConfig() DBConfig {
	return DBConfig{Host: "db.internal", Port: 3307, User: "coffee_customer", Password: testPassword, Name: "COFFEE", MaxOpenConns: 5}
}

func TestDriverConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		cfg      DBConfig
		wantAddr string
	}{
		{"host name", testDBConfig(), "db.internal:3307"},
		{"IPv6", DBConfig{Host: "::1", Port: 3306, User: "u", Password: "p", Name: "COFFEE"}, "[::1]:3306"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parsed, err := tc.cfg.DriverConfig()
			if err != nil {
				t.Fatalf("DriverConfig: %v", err)
			}
			if parsed.Net != "tcp" || parsed.Addr != tc.wantAddr {
				t.Errorf("address = %s(%s), want tcp(%s)", parsed.Net, parsed.Addr, tc.wantAddr)
			}
			if parsed.User != tc.cfg.User || parsed.Passwd != tc.cfg.Password || parsed.DBName != tc.cfg.Name {
				t.Errorf("credentials/database = %q %q %q, want %q %q %q",
					parsed.User, parsed.Passwd, parsed.DBName, tc.cfg.User, tc.cfg.Password, tc.cfg.Name)
			}
			if !parsed.ParseTime {
				t.Error("parseTime is off: TIMESTAMP columns would not scan into time.Time")
			}
			if parsed.Timeout <= 0 || parsed.Timeout > 5*time.Second {
				t.Errorf("dial timeout = %v, want a short one so an unreachable database fails fast", parsed.Timeout)
			}
			if parsed.ReadTimeout <= 0 || parsed.WriteTimeout <= 0 {
				t.Errorf("read/write timeouts = %v/%v, want both set", parsed.ReadTimeout, parsed.WriteTimeout)
			}
			if dsn := parsed.FormatDSN(); !strings.Contains(dsn, "charset=utf8mb4") {
				t.Errorf("DSN %q lacks charset=utf8mb4", dsn)
			}
			if parsed.TLS != nil {
				t.Errorf("TLS is on by default; a local MySQL has no certificate")
			}
		})
	}
}

func TestDBConfigNeverShowsPassword(t *testing.T) {
	t.Parallel()
	cfg := testDBConfig()
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("starting", "db", cfg)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("starting", "db", cfg)
	for what, out := range map[string]string{
		"String":          cfg.String(),
		"LogValue":        cfg.LogValue().String(),
		"fmt %v":          fmt.Sprintf("%v", cfg),
		"fmt %+v":         fmt.Sprintf("%+v", cfg),
		"fmt %s":          fmt.Sprintf("%s", cfg),
		"fmt %v pointer":  fmt.Sprintf("%v", &cfg),
		"slog JSON, text": logged.String(),
	} {
		if strings.Contains(out, "s3cr") {
			t.Errorf("%s shows the password: %s", what, out)
		}
		if !strings.Contains(out, "db.internal") || !strings.Contains(out, "(set)") {
			t.Errorf("%s = %s; want the host and a masked password", what, out)
		}
	}
}

func TestDBConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := envconfig.New(envconfig.FromMap(map[string]string{
		"APP_DB_HOST": " db ", "APP_DB_USER": "app", "APP_DB_PASSWORD": " pw with spaces ",
	}))
	cfg := DBConfigFromEnv(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	want := DBConfig{Host: "db", Port: 3306, User: "app", Password: " pw with spaces ", Name: "COFFEE", MaxOpenConns: 20,
		TLS: TLSOff, CAFile: DefaultCAFile}
	if cfg != want {
		t.Errorf("DBConfigFromEnv = %#v, want %#v", cfg, want)
	}

	env = envconfig.New(envconfig.FromMap(map[string]string{
		"APP_DB_PORT": "70000", "APP_DB_NAME": "COFFEE; DROP", "APP_DB_MAX_OPEN_CONNS": "0",
	}))
	DBConfigFromEnv(env)
	err := env.Err()
	for _, name := range []string{"APP_DB_HOST", "APP_DB_USER", "APP_DB_PASSWORD", "APP_DB_PORT", "APP_DB_NAME", "APP_DB_MAX_OPEN_CONNS"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v should name %s", err, name)
		}
	}
}

func TestOpenAppliesPoolLimit(t *testing.T) {
	t.Parallel()
	db, err := Open(testDBConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.Stats().MaxOpenConnections; got != 5 {
		t.Errorf("MaxOpenConnections = %d, want the configured 5", got)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"deadline", context.DeadlineExceeded, true},
		{"wrapped deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), true},
		{"bad connection", driver.ErrBadConn, true},
		{"invalid connection", mysql.ErrInvalidConn, true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{"too many connections", &mysql.MySQLError{Number: 1040}, true},
		{"server shutdown", &mysql.MySQLError{Number: 1053}, true},
		{"lock wait timeout", &mysql.MySQLError{Number: 1205}, true},
		{"read only", &mysql.MySQLError{Number: 1290}, true},
		{"gone away", &mysql.MySQLError{Number: 2006}, true},
		{"lost connection", &mysql.MySQLError{Number: 2013}, true},
		{"duplicate key", &mysql.MySQLError{Number: 1062}, false},
		{"denied", &mysql.MySQLError{Number: 1142}, false},
		{"syntax", &mysql.MySQLError{Number: 1064}, false},
		{"no rows", sql.ErrNoRows, false},
		{"canceled by client", context.Canceled, false},
		{"plain", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := isUnavailable(tc.err); got != tc.unavailable {
				t.Errorf("isUnavailable(%v) = %v, want %v", tc.err, got, tc.unavailable)
			}
			err := classify("list suppliers", tc.err)
			if got := errors.Is(err, ErrUnavailable); got != tc.unavailable {
				t.Errorf("classify: errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tc.unavailable)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("classify lost the cause: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "list suppliers: ") {
				t.Errorf("classify(%q) = %q, want it to say what was being done", "list suppliers", err)
			}
		})
	}
}

func TestConflictError(t *testing.T) {
	t.Parallel()
	var err error = fmt.Errorf("save: %w", &ConflictError{Current: Supplier{ID: 7, Name: "Now", Version: 4}})
	if !errors.Is(err, ErrConflict) {
		t.Error("errors.Is(ConflictError, ErrConflict) = false")
	}
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Current.Name != "Now" {
		t.Errorf("errors.As lost the current values: %v", err)
	}
	if !strings.Contains(err.Error(), "version 4") {
		t.Errorf("message %q should give the current version", err)
	}
}

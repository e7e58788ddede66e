package suppliers

import (
	"context"
	"crypto/rand"
	"database/sql"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// TestDatabaseTLSOnARealServer runs a MySQL-compatible server (the image
// TEST_MYSQL_IMAGE names, as make test-mysql and CI set it) that requires
// TLS, as RDS does with require_secure_transport, with a certificate from
// a CA this test makes: a plain connection is refused by the server,
// APP_DB_TLS=verify with that CA's bundle connects, and verify with
// another CA's bundle fails, saying why.
func TestDatabaseTLSOnARealServer(t *testing.T) {
	t.Parallel()
	image := os.Getenv("TEST_MYSQL_IMAGE")
	if image == "" {
		t.Skip("SKIPPED: TLS to a real database server needs TEST_MYSQL_IMAGE (make test-mysql, or TEST_MYSQL_IMAGE=coffee-standin/mariadb:10.11) and Docker")
	}
	ca, otherCA := NewTestCA(t, "test RDS CA"), NewTestCA(t, "some other CA")
	certPEM, keyPEM := ca.ServerCert(t, "127.0.0.1", "localhost")
	dir := t.TempDir()
	files := map[string][]byte{"ca.pem": ca.CertPEM, "other-ca.pem": otherCA.CertPEM, "server-cert.pem": certPEM, "server-key.pem": keyPEM}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	host, port, password := startTLSServer(t, image, dir)

	config := func(tlsMode, caFile string) DBConfig {
		return DBConfig{Host: host, Port: port, User: "root", Password: password, TLS: tlsMode, CAFile: filepath.Join(dir, caFile)}
	}
	ready := func(cfg DBConfig) (*sql.DB, error) {
		db, err := Open(cfg)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return db, db.PingContext(ctx)
	}
	reason := notReadyReason

	t.Run("plain connection refused by the server", func(t *testing.T) {
		_, err := ready(config(TLSOff, ""))
		if err == nil {
			t.Fatal("a plain connection was accepted by a server that requires TLS")
		}
		if r := reason(err); !strings.Contains(r, "APP_DB_TLS=verify") {
			t.Errorf("reason %q (error %v), want one saying to set APP_DB_TLS=verify", r, err)
		}
	})
	t.Run("verify with the server's CA", func(t *testing.T) {
		db, err := ready(config(TLSVerify, "ca.pem"))
		if err != nil {
			t.Fatalf("verify with the right CA: %v", err)
		}
		var name, cipher string
		if err := db.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil || cipher == "" {
			t.Errorf("Ssl_cipher = %q (%v), want the session encrypted", cipher, err)
		}
	})
	t.Run("verify with another CA", func(t *testing.T) {
		_, err := ready(config(TLSVerify, "other-ca.pem"))
		if err == nil {
			t.Fatal("a server whose certificate another CA signed was trusted")
		}
		if r := reason(err); !strings.Contains(r, "certificate") || !strings.Contains(r, "APP_DB_CA_FILE") {
			t.Errorf("reason %q (error %v), want one saying the certificate does not verify against APP_DB_CA_FILE", r, err)
		}
	})
}

// startTLSServer starts image with TLS required, its certificate and CA
// from dir, and returns where it listens and root's password.
func startTLSServer(t *testing.T, image, dir string) (host string, port int, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	provider, err := testcontainers.NewDockerProvider()
	if err == nil {
		err = provider.Health(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("SKIPPED: TEST_MYSQL_IMAGE=%s asks for a real server, but no Docker engine answers: %v (in CI this fails)", image, err)
		}
		t.Fatalf("no Docker engine answers: %v", err)
	}
	password = rand.Text()
	const certs = "/etc/mysql/test-tls/"
	var files []testcontainers.ContainerFile
	for _, name := range []string{"ca.pem", "server-cert.pem", "server-key.pem"} {
		// Readable by the server's own user; a throwaway test key.
		files = append(files, testcontainers.ContainerFile{HostFilePath: filepath.Join(dir, name), ContainerFilePath: certs + name, FileMode: 0o644})
	}
	bind, err := network.ParsePort("3306/tcp")
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := testcontainers.Run(ctx, image,
		testcontainers.WithEnv(map[string]string{"MYSQL_ROOT_PASSWORD": password, "MARIADB_ROOT_PASSWORD": password}),
		// The label suppliertest's containers carry, so CI's sweep removes
		// this one too if the test binary dies.
		testcontainers.WithLabels(map[string]string{"coffee-suppliers.suppliertest": strconv.Itoa(os.Getpid())}),
		testcontainers.WithFiles(files...),
		testcontainers.WithCmdArgs("--ssl-ca="+certs+"ca.pem", "--ssl-cert="+certs+"server-cert.pem",
			"--ssl-key="+certs+"server-key.pem", "--require-secure-transport=ON"),
		testcontainers.WithExposedPorts("3306/tcp"),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{bind: {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "0"}}}
		}),
		testcontainers.WithTmpfs(map[string]string{"/var/lib/mysql": "rw"}),
		// Waiting needs TLS too, without verification: only the test's
		// own connections below check the certificate.
		testcontainers.WithWaitStrategyAndDeadline(2*time.Minute,
			wait.ForSQL("3306/tcp", "mysql", func(_ string, p network.Port) string {
				cfg := mysql.NewConfig()
				cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "root", password, "tcp", "127.0.0.1:"+p.Port()
				cfg.TLSConfig = "skip-verify"
				return cfg.FormatDSN()
			}).WithPollInterval(250*time.Millisecond)),
	)
	if ctr != nil {
		t.Cleanup(func() {
			if err := testcontainers.TerminateContainer(ctr); err != nil {
				t.Errorf("remove the TLS database container: %v", err)
			}
		})
	}
	if err != nil {
		var logs string
		if ctr != nil {
			if r, lerr := ctr.Logs(context.Background()); lerr == nil {
				b, _ := io.ReadAll(r)
				logs = string(b)
			}
		}
		t.Fatalf("start %s with TLS required: %v\n%s", image, err, logs)
	}
	mapped, err := ctr.MappedPort(ctx, "3306/tcp")
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1", int(mapped.Num()), password
}

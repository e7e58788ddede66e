package suppliertest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// ContainerLabel marks the database containers this package starts, so a
// crashed test binary's container can be found and removed:
//
//	docker rm -f $(docker ps -aq --filter label=coffee-suppliers.suppliertest)
const ContainerLabel = "coffee-suppliers.suppliertest"

// running is the container started by this test binary, if any, for Main
// to remove.
var running struct {
	sync.Mutex
	ctr *testcontainers.DockerContainer
}

// startContainer starts one container of image (MySQL 8.4 or MariaDB 10.11,
// or any image honouring the official images' variables) with a random
// root password, its port 3306 published on a random port of 127.0.0.1,
// and waits until root can run a query over that port. Waiting on SQL
// rather than a log line works for MySQL and MariaDB alike: both print
// "ready for connections" first for a temporary, network-less server that
// runs the init scripts.
func startContainer(image string) (server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return server{}, fmt.Errorf("suppliertest: %w: %v", errNoDocker, err)
	}
	if err := provider.Health(ctx); err != nil {
		return server{}, fmt.Errorf("suppliertest: %w: %v", errNoDocker, err)
	}

	password := rand.Text()
	port, err := network.ParsePort("3306/tcp")
	if err != nil {
		return server{}, fmt.Errorf("suppliertest: %w", err)
	}
	ctr, err := testcontainers.Run(ctx, image,
		testcontainers.WithEnv(map[string]string{
			"MYSQL_ROOT_PASSWORD":   password,
			"MARIADB_ROOT_PASSWORD": password,
		}),
		testcontainers.WithLabels(map[string]string{ContainerLabel: strconv.Itoa(os.Getpid())}),
		testcontainers.WithExposedPorts("3306/tcp"),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{port: {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "0"}}}
		}),
		// A database on tmpfs: the tests' data is thrown away anyway, and
		// the 10,000-row and DDL-heavy tests are much faster without fsync.
		testcontainers.WithTmpfs(map[string]string{"/var/lib/mysql": "rw"}),
		testcontainers.WithWaitStrategyAndDeadline(2*time.Minute,
			wait.ForSQL("3306/tcp", "mysql", func(_ string, p network.Port) string {
				return rootDSN("127.0.0.1", p.Port(), password)
			}).WithPollInterval(250*time.Millisecond)),
	)
	if ctr != nil {
		running.Lock()
		running.ctr = ctr
		running.Unlock()
	}
	if err != nil {
		return server{}, fmt.Errorf("suppliertest: start %s: %w", image, err)
	}
	mapped, err := ctr.MappedPort(ctx, "3306/tcp")
	if err != nil {
		return server{}, fmt.Errorf("suppliertest: %s: mapped port: %w", image, err)
	}
	return server{host: "127.0.0.1", port: int(mapped.Num()), user: "root", password: password}, nil
}

func rootDSN(host, port, password string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = "root", password
	cfg.Net, cfg.Addr = "tcp", host+":"+port
	cfg.Timeout = 5 * time.Second
	return cfg.FormatDSN()
}

// Main runs a package's tests and then removes the database container the
// package's tests started, if any; call it from TestMain:
//
//	func TestMain(m *testing.M) { suppliertest.Main(m) }
//
// Without it a real server's container outlives the test binary (the
// memserver does not: it dies with the process).
func Main(m *testing.M) {
	code := m.Run()
	if err := stopContainer(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func stopContainer() error {
	running.Lock()
	defer running.Unlock()
	if running.ctr == nil {
		return nil
	}
	err := testcontainers.TerminateContainer(running.ctr)
	running.ctr = nil
	if err != nil {
		return fmt.Errorf("suppliertest: remove the database container: %w", err)
	}
	return nil
}

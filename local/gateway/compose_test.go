package gateway

import (
	"net/netip"
	"os"
	"regexp"
	"testing"

	"github.com/goccy/go-yaml"
)

// composeFile is the local production-like stack, whose services must
// trust X-Forwarded-For from HAProxy and from no one else.
const composeFile = "../../docker-compose.yml"

// composeVariable is compose's ${NAME:-default} (or ${NAME-default}).
var composeVariable = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}`)

// withDefaults interpolates s as compose would with no variable set.
func withDefaults(s string) string {
	return composeVariable.ReplaceAllString(s, "$2")
}

type composeConfig struct {
	Services map[string]struct {
		Environment map[string]string `yaml:"environment"`
		Networks    map[string]struct {
			IPv4Address string `yaml:"ipv4_address"`
		} `yaml:"networks"`
	} `yaml:"services"`
	Networks map[string]struct {
		IPAM struct {
			Config []struct {
				Subnet string `yaml:"subnet"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
}

// TestComposeServicesTrustOnlyHAProxy: in the compose stack every
// service's neighbours have private addresses, so trusting private ranges
// would let any of them choose its client address (issue 12, point 11).
// HAProxy gets a fixed address on a fixed subnet, and each service's
// TRUSTED_PROXIES is exactly that address.
func TestComposeServicesTrustOnlyHAProxy(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var cfg composeConfig
	if err := yaml.Unmarshal(text, &cfg); err != nil {
		t.Fatalf("parse %s: %v", composeFile, err)
	}
	network := cfg.Networks["default"]
	if len(network.IPAM.Config) != 1 {
		t.Fatalf("the default network needs one fixed subnet (ipam config) so HAProxy can have a fixed address, got %+v", network.IPAM.Config)
	}
	subnet, err := netip.ParsePrefix(withDefaults(network.IPAM.Config[0].Subnet))
	if err != nil {
		t.Fatalf("subnet: %v", err)
	}
	lb, err := netip.ParseAddr(withDefaults(cfg.Services["haproxy"].Networks["default"].IPv4Address))
	if err != nil {
		t.Fatalf("haproxy needs a fixed ipv4_address on the default network: %v", err)
	}
	if !subnet.Contains(lb) {
		t.Errorf("HAProxy's address %s is outside the network's subnet %s", lb, subnet)
	}
	want := netip.PrefixFrom(lb, 32)
	for _, name := range []string{"customer", "employee"} {
		got := withDefaults(cfg.Services[name].Environment["TRUSTED_PROXIES"])
		if got != want.String() {
			t.Errorf("%s: TRUSTED_PROXIES = %q, want exactly HAProxy's address %s", name, got, want)
		}
	}
}

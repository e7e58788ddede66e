package envconfig_test

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
)

func reader(vars map[string]string) *envconfig.Reader {
	return envconfig.New(envconfig.FromMap(vars))
}

// wantErrNaming fails unless r's error names every variable in names and
// no other variable in others.
func wantErrNaming(t *testing.T, r *envconfig.Reader, names ...string) {
	t.Helper()
	err := r.Err()
	if len(names) == 0 {
		if err != nil {
			t.Fatalf("Err() = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Err() = nil, want an error naming %v", names)
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n+": ") {
			t.Errorf("Err() = %q, want it to name %s", err, n)
		}
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"unset", nil, "def"},
		{"empty", map[string]string{"V": ""}, "def"},
		{"blank", map[string]string{"V": "  "}, "def"},
		{"set", map[string]string{"V": "x"}, "x"},
		{"trimmed", map[string]string{"V": " x \n"}, "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := reader(tc.vars)
			if got := r.String("V", "def"); got != tc.want {
				t.Errorf("String = %q, want %q", got, tc.want)
			}
			wantErrNaming(t, r)
		})
	}
}

func TestRequired(t *testing.T) {
	t.Parallel()
	r := reader(map[string]string{"SET": " value ", "BLANK": "   "})
	if got := r.Required("SET"); got != "value" {
		t.Errorf("Required(SET) = %q, want trimmed value", got)
	}
	r.Required("MISSING")
	r.Required("BLANK")
	wantErrNaming(t, r, "MISSING", "BLANK")
	if strings.Contains(r.Err().Error(), "SET") {
		t.Errorf("Err() = %q names a variable that was fine", r.Err())
	}
}

func TestSecret(t *testing.T) {
	t.Parallel()
	r := reader(map[string]string{"PW": "  pass word \t", "EMPTY": ""})
	if got := r.Secret("PW"); got != "  pass word \t" {
		t.Errorf("Secret = %q, want it untrimmed", got)
	}
	r.Secret("EMPTY")
	r.Secret("MISSING")
	wantErrNaming(t, r, "EMPTY", "MISSING")
	if strings.Contains(r.Err().Error(), "pass word") {
		t.Errorf("Err() = %q shows a secret", r.Err())
	}

	r = reader(map[string]string{"PW": " x "})
	if got := r.OptionalSecret("PW"); got != " x " {
		t.Errorf("OptionalSecret = %q, want untrimmed", got)
	}
	if got := r.OptionalSecret("MISSING"); got != "" {
		t.Errorf("OptionalSecret(unset) = %q, want empty", got)
	}
	wantErrNaming(t, r)
}

func TestInt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value   string
		want    int
		wantErr bool
	}{
		{"", 7, false},
		{"1", 1, false},
		{" 10 ", 10, false},
		{"0", 7, true},
		{"11", 7, true},
		{"-3", 7, true},
		{"five", 7, true},
		{"2.5", 7, true},
		{"99999999999999999999", 7, true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			r := reader(map[string]string{"N": tc.value})
			if got := r.Int("N", 7, 1, 10); got != tc.want {
				t.Errorf("Int = %d, want %d", got, tc.want)
			}
			if tc.wantErr {
				wantErrNaming(t, r, "N")
				if msg := r.Err().Error(); !strings.Contains(msg, "1 to 10") || !strings.Contains(msg, tc.value) {
					t.Errorf("message %q should give the range and the bad value", msg)
				}
			} else {
				wantErrNaming(t, r)
			}
		})
	}
}

func TestPort(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value   string
		want    int
		wantErr bool
	}{
		{"", 8080, false},
		{"0", 0, false},
		{"65535", 65535, false},
		{"65536", 8080, true},
		{"-1", 8080, true},
		{"http", 8080, true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			r := reader(map[string]string{"PORT": tc.value})
			if got := r.Port("PORT", 8080); got != tc.want {
				t.Errorf("Port = %d, want %d", got, tc.want)
			}
			if tc.wantErr {
				wantErrNaming(t, r, "PORT")
			} else {
				wantErrNaming(t, r)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		{"", 20 * time.Second, false},
		{"1s", time.Second, false},
		{"1m30s", 90 * time.Second, false},
		{"10m", 10 * time.Minute, false},
		{"500ms", 20 * time.Second, true},
		{"11m", 20 * time.Second, true},
		{"30", 20 * time.Second, true},
		{"soon", 20 * time.Second, true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			r := reader(map[string]string{"SHUTDOWN_TIMEOUT": tc.value})
			if got := r.Duration("SHUTDOWN_TIMEOUT", 20*time.Second, time.Second, 10*time.Minute); got != tc.want {
				t.Errorf("Duration = %v, want %v", got, tc.want)
			}
			if tc.wantErr {
				wantErrNaming(t, r, "SHUTDOWN_TIMEOUT")
			} else {
				wantErrNaming(t, r)
			}
		})
	}
}

func TestIdentifier(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value   string
		want    string
		wantErr bool
	}{
		{"", "COFFEE", false},
		{"coffee_2", "coffee_2", false},
		{strings.Repeat("a", 64), strings.Repeat("a", 64), false},
		{strings.Repeat("a", 65), "COFFEE", true},
		{"COFFEE; DROP DATABASE x", "COFFEE", true},
		{"cof`fee", "COFFEE", true},
		{"café", "COFFEE", true},
		{"my-db", "COFFEE", true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			r := reader(map[string]string{"APP_DB_NAME": tc.value})
			if got := r.Identifier("APP_DB_NAME", "COFFEE"); got != tc.want {
				t.Errorf("Identifier = %q, want %q", got, tc.want)
			}
			if tc.wantErr {
				wantErrNaming(t, r, "APP_DB_NAME")
			} else {
				wantErrNaming(t, r)
			}
		})
	}
}

func TestPrefixes(t *testing.T) {
	t.Parallel()
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		name, value string
		want        []netip.Prefix
		wantErr     bool
	}{
		{"default", "", []netip.Prefix{p("127.0.0.0/8"), p("::1/128")}, false},
		{"addresses become host prefixes", "10.1.2.3, ::1", []netip.Prefix{p("10.1.2.3/32"), p("::1/128")}, false},
		{"ranges are masked", "10.1.2.3/8,192.168.1.0/24", []netip.Prefix{p("10.0.0.0/8"), p("192.168.1.0/24")}, false},
		{"empty items skipped", ",10.0.0.0/8,,", []netip.Prefix{p("10.0.0.0/8")}, false},
		{"bad item reported, good kept", "10.0.0.0/8,loadbalancer,10.0.0.0/33", []netip.Prefix{p("10.0.0.0/8")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := reader(map[string]string{"TRUSTED_PROXIES": tc.value})
			got := r.Prefixes("TRUSTED_PROXIES", "127.0.0.0/8,::1")
			if !slices.Equal(got, tc.want) {
				t.Errorf("Prefixes = %v, want %v", got, tc.want)
			}
			if tc.wantErr {
				wantErrNaming(t, r, "TRUSTED_PROXIES")
				if msg := r.Err().Error(); !strings.Contains(msg, "loadbalancer") {
					t.Errorf("message %q should quote the bad item", msg)
				}
			} else {
				wantErrNaming(t, r)
			}
		})
	}
}

func TestErrorsAreCollected(t *testing.T) {
	t.Parallel()
	r := reader(map[string]string{"PORT": "x", "METRICS_PORT": "y"})
	r.Port("PORT", 8080)
	r.Port("METRICS_PORT", 9090)
	r.Required("APP_DB_HOST")
	r.Invalid("LOG_LEVEL", "must be debug, info, warn or error, got %q", "loud")
	wantErrNaming(t, r, "PORT", "METRICS_PORT", "APP_DB_HOST", "LOG_LEVEL")
	if got := strings.Count(r.Err().Error(), "\n") + 1; got != 4 {
		t.Errorf("Err() has %d lines, want one per problem:\n%s", got, r.Err())
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	for secret, want := range map[string]string{"": "(unset)", "hunter2": "(set)", " ": "(set)"} {
		if got := envconfig.Mask(secret); got != want {
			t.Errorf("Mask(%q) = %q, want %q", secret, got, want)
		}
	}
}

func TestNewNilReadsProcessEnvironment(t *testing.T) {
	// Not parallel: it sets a process environment variable.
	t.Setenv("ENVCONFIG_TEST_VALUE", "from-os")
	r := envconfig.New(nil)
	if got := r.String("ENVCONFIG_TEST_VALUE", ""); got != "from-os" {
		t.Errorf("String = %q, want the process environment's value", got)
	}
	if _, ok := os.LookupEnv("ENVCONFIG_TEST_UNSET"); !ok {
		if got := r.String("ENVCONFIG_TEST_UNSET", "def"); got != "def" {
			t.Errorf("String(unset) = %q, want default", got)
		}
	}
}

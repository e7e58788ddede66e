package suppliers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/envconfig"
)

// TestDatabaseTLSSettings: APP_DB_TLS is off unless asked (a local MySQL
// has no certificate); verify needs a readable PEM bundle, and a bad value
// or bundle is named in the configuration error at start.
func TestDatabaseTLSSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bundle := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(bundle, NewTestCA(t, "bundle CA").CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pem")
	notPEM := filepath.Join(dir, "not.pem")
	for path, body := range map[string]string{empty: "", notPEM: "this is not a certificate\n"} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := map[string]string{"APP_DB_HOST": "coffee.abc.eu-west-1.rds.amazonaws.com", "APP_DB_USER": "app", "APP_DB_PASSWORD": "pw"}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		tls     bool
		wantErr []string // all in the error; nil means no error
	}{
		{"off by default", nil, false, nil},
		{"off", map[string]string{"APP_DB_TLS": "off", "APP_DB_CA_FILE": filepath.Join(dir, "missing.pem")}, false, nil},
		{"verify", map[string]string{"APP_DB_TLS": "verify", "APP_DB_CA_FILE": bundle}, true, nil},
		{"bad value", map[string]string{"APP_DB_TLS": "on"}, false, []string{"APP_DB_TLS", `"on"`, "off", "verify"}},
		{"verify, no bundle at the default path", map[string]string{"APP_DB_TLS": "verify", "APP_DB_CA_FILE": ""}, false,
			[]string{"APP_DB_CA_FILE", DefaultCAFile}},
		{"verify, missing bundle", map[string]string{"APP_DB_TLS": "verify", "APP_DB_CA_FILE": filepath.Join(dir, "missing.pem")}, false,
			[]string{"APP_DB_CA_FILE", "missing.pem", "no such file"}},
		{"verify, empty bundle", map[string]string{"APP_DB_TLS": "verify", "APP_DB_CA_FILE": empty}, false,
			[]string{"APP_DB_CA_FILE", "empty.pem", "no PEM certificate"}},
		{"verify, not PEM", map[string]string{"APP_DB_TLS": "verify", "APP_DB_CA_FILE": notPEM}, false,
			[]string{"APP_DB_CA_FILE", "not.pem", "no PEM certificate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{}
			for k, v := range base {
				vars[k] = v
			}
			for k, v := range tc.env {
				vars[k] = v
			}
			env := envconfig.New(envconfig.FromMap(vars))
			cfg := DBConfigFromEnv(env)
			err := env.Err()
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("no configuration error, want one naming %v", tc.wantErr)
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("configuration error: %v", err)
			}
			driver, err := cfg.DriverConfig()
			if err != nil {
				t.Fatalf("DriverConfig: %v", err)
			}
			if got := driver.TLS != nil; got != tc.tls {
				t.Fatalf("TLS on = %v, want %v", got, tc.tls)
			}
			if tc.tls {
				if driver.TLS.InsecureSkipVerify || driver.TLS.RootCAs == nil || driver.TLS.ServerName != base["APP_DB_HOST"] {
					t.Errorf("TLS does not verify the server against the bundle and its name: %+v", driver.TLS)
				}
				if driver.AllowFallbackToPlaintext {
					t.Error("the driver may fall back to plain text")
				}
				if logged := cfg.String(); !strings.Contains(logged, "verify") || !strings.Contains(logged, bundle) {
					t.Errorf("the logged settings do not show TLS: %s", logged)
				}
			}
		})
	}
}

// TestCA is a certificate authority a test makes, to sign a database
// server's certificate the way RDS's CA signs an instance's.
type TestCA struct {
	CertPEM []byte
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
}

// NewTestCA makes a CA valid for a day.
func NewTestCA(t testing.TB, name string) *TestCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &TestCA{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), cert: cert, key: key}
}

// ServerCert signs a server certificate for hosts (names or addresses)
// and returns it and its key, PEM-encoded.
func (ca *TestCA) ServerCert(t testing.TB, hosts ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

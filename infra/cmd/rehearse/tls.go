package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// The rehearsal's database stands in for RDS as the templates configure it:
// it accepts TLS only (require_secure_transport, the data stack's parameter
// group), with a server certificate from a CA of the rehearsal's own. That
// CA is what the images ship as their RDS certificate bundle, so the tasks'
// APP_DB_TLS=verify (the task definitions' setting) checks the server as in
// AWS, and a release whose images lack the bundle fails here.

// rdsCABundlePath is where a build takes the bundle from (the Dockerfiles'
// RDS_CA_BUNDLE build argument), relative to the source; .dockerignore lets
// exactly this file through.
const rdsCABundlePath = "containers/stand-ins/rds-ca-bundle.pem"

// dbTLSMount is where the database container finds its certificate files.
const dbTLSMount = "/etc/mysql/rehearsal-tls/"

// writeDatabaseTLS writes ca.pem, server-cert.pem (for the name the tasks
// use, db) and server-key.pem into dir, readable by the database's own user.
func writeDatabaseTLS(dir string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "coffee-suppliers rehearsal RDS CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "db"}, DNSNames: []string{"db"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, block := range map[string]*pem.Block{
		"ca.pem":          {Type: "CERTIFICATE", Bytes: caDER},
		"server-cert.pem": {Type: "CERTIFICATE", Bytes: der},
		// A throw-away key of a throw-away CA, readable by the server's
		// user inside its container.
		"server-key.pem": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o644); err != nil {
			return fmt.Errorf("the database's TLS files: %w", err)
		}
	}
	return nil
}

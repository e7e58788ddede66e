// Command dotenv writes the compose stack's .env from .env.example with a
// fresh random value for every secret, once: an existing .env is left as it
// is. `make env` and `make up` run it.
//
//	go run ./local/cmd/dotenv [-example .env.example] [-out .env]
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// adminEmail is the first administrator of a generated .env; the address is
// on a reserved domain (RFC 2606), so mail to it goes nowhere.
const adminEmail = "admin@coffee-suppliers.example"

// secrets generate each secret of .env.example. Database passwords are hex:
// MySQL, the compose file and a shell all take them unquoted.
var secrets = map[string]func() string{
	"MYSQL_ROOT_PASSWORD":  func() string { return randomHex(24) },
	"CUSTOMER_DB_PASSWORD": func() string { return randomHex(24) },
	"EMPLOYEE_DB_PASSWORD": func() string { return randomHex(24) },
	// 48 random bytes, as `openssl rand -base64 48` would give; URL-safe
	// base64 holds no comma, which SESSION_KEY reads as a key separator.
	"SESSION_KEY":    func() string { return base64.RawURLEncoding.EncodeToString(randomBytes(48)) },
	"ADMIN_EMAIL":    func() string { return adminEmail },
	"ADMIN_PASSWORD": rand.Text,
}

func main() {
	example := flag.String("example", ".env.example", "the settings to start from")
	out := flag.String("out", ".env", "the file to write, unless it exists")
	flag.Parse()
	template, err := os.ReadFile(*example)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dotenv:", err)
		os.Exit(1)
	}
	created, err := writeEnv(*out, template)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dotenv:", err)
		os.Exit(1)
	}
	if created {
		fmt.Printf("wrote %s with fresh secrets (from %s); keep it private\n", *out, *example)
	} else {
		fmt.Printf("%s exists; left as it is\n", *out)
	}
}

// writeEnv writes the settings of template to path with every empty secret
// filled in, readable by its owner only. It reports false and leaves the
// file alone when path exists.
func writeEnv(path string, template []byte) (created bool, err error) {
	content, err := fill(template)
	if err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		os.Remove(path)
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}

// fill returns template with a value for every empty secret setting; it
// keeps the comments and every other line as they are.
func fill(template []byte) ([]byte, error) {
	var out bytes.Buffer
	lines := bufio.NewScanner(bytes.NewReader(template))
	for lines.Scan() {
		line := lines.Text()
		key, value, ok := strings.Cut(line, "=")
		if generate := secrets[key]; ok && generate != nil && value == "" {
			line = key + "=" + generate()
		}
		out.WriteString(line + "\n")
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("read the example settings: %w", err)
	}
	return out.Bytes(), nil
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

// randomBytes never fails: crypto/rand.Read panics rather than return less.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

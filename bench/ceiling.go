package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// ceilingCommand runs the ceiling server: `bench ceiling -page FILE`.
const ceilingCommand = "ceiling"

// ceilingPage is what the ceiling answers: the catalogue page's body and
// headers as the customer service sent them, so both put the same bytes on
// the wire and the difference between them is the service's own work.
type ceilingPage struct {
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// serveCeiling answers every request with the saved page from a bare
// net/http server on 127.0.0.1, and prints its address on the first line
// of stdout. It runs until killed: the harness owns the process.
func serveCeiling(args []string) error {
	flags := flag.NewFlagSet(ceilingCommand, flag.ContinueOnError)
	file := flags.String("page", "", "the page to serve, as written by the harness (JSON)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("read page: %w", err)
	}
	var page ceilingPage
	if err := json.Unmarshal(raw, &page); err != nil {
		return fmt.Errorf("decode page %s: %w", *file, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, ln.Addr().String())
	if err := out.Flush(); err != nil {
		return fmt.Errorf("print address: %w", err)
	}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			h := w.Header()
			for k, v := range page.Header {
				h[k] = v
			}
			_, _ = w.Write(page.Body)
		}),
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

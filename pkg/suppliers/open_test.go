package suppliers_test

import (
	"context"
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
)

// TestOpenSpeaksUTF8MB4: the services' own pool (not the tests' DSN) asks
// for utf8mb4, so a supplier's emoji or CJK name survives the round trip.
func TestOpenSpeaksUTF8MB4(t *testing.T) {
	t.Parallel()
	db, err := suppliers.Open(suppliertest.NewDatabase(t).Config())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var charset string
	if err := db.QueryRowContext(context.Background(), "SELECT @@character_set_connection").Scan(&charset); err != nil {
		t.Fatal(err)
	}
	if charset != "utf8mb4" {
		t.Errorf("character_set_connection = %q, want utf8mb4", charset)
	}
}

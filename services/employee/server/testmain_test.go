package server

import (
	"testing"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
)

// TestMain removes the database container, when TEST_MYSQL_IMAGE started one.
func TestMain(m *testing.M) { suppliertest.Main(m) }

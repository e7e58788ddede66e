package suppliers_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers/suppliertest"
)

// storeTimeout is generous: the in-process server runs one statement at a
// time for every parallel test in the binary, under the race detector.
const storeTimeout = 30 * time.Second

// migrated returns a fresh migrated database, its admin pool and a store.
func migrated(t testing.TB) (suppliertest.DB, *sql.DB, *suppliers.Store) {
	t.Helper()
	d := suppliertest.NewDatabase(t)
	db := d.Open(t)
	if _, err := suppliers.Migrate(t.Context(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return d, db, suppliers.NewStore(db, storeTimeout)
}

func input(name, city string) suppliers.Input {
	return suppliers.Input{Name: name, Address: "1 Main Street", City: city, State: "WA",
		Email: "orders@example.com", Phone: "+1 206 555 0100"}
}

func mustCreate(t *testing.T, st *suppliers.Store, in suppliers.Input) suppliers.Supplier {
	t.Helper()
	s, err := st.Create(t.Context(), testActor, in)
	if err != nil {
		t.Fatalf("create %q: %v", in.Name, err)
	}
	return s
}

func names(items []suppliers.Supplier) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = s.Name
	}
	return out
}

func mysqlErrNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	d := suppliertest.NewDatabase(t)
	db := d.Open(t)
	all, err := suppliers.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, m := range all {
		want = append(want, m.Version)
	}
	applied, err := suppliers.Migrate(t.Context(), db)
	if err != nil || !slices.Equal(applied, want) {
		t.Fatalf("first Migrate = %v, %v; want %v", applied, err, want)
	}
	again, err := suppliers.Migrate(t.Context(), db)
	if err != nil || len(again) != 0 {
		t.Fatalf("second Migrate = %v, %v; want nothing applied", again, err)
	}
	var recorded int
	if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM schema_migrations").Scan(&recorded); err != nil || recorded != len(want) {
		t.Errorf("schema_migrations has %d rows (%v), want %d", recorded, err, len(want))
	}
	var dataType, def string
	err = db.QueryRowContext(t.Context(),
		`SELECT DATA_TYPE, COLUMN_DEFAULT FROM information_schema.columns
		 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'suppliers' AND COLUMN_NAME = 'version'`, d.Name).Scan(&dataType, &def)
	if err != nil {
		t.Fatalf("version column: %v", err)
	}
	if !strings.Contains(strings.ToLower(dataType), "int") || def != "1" {
		t.Errorf("version column is %s default %s, want an integer defaulting to 1", dataType, def)
	}
	// The name-ordered list and its search stay fast at 10,000 rows.
	indexes := map[string]bool{}
	rows, err := db.QueryContext(t.Context(),
		`SELECT DISTINCT INDEX_NAME FROM information_schema.statistics WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'suppliers'`, d.Name)
	if err != nil {
		t.Fatalf("suppliers indexes: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		indexes[name] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PRIMARY", "idx_suppliers_name", "idx_suppliers_city"} {
		if !indexes[want] {
			t.Errorf("suppliers lacks index %s; has %v", want, indexes)
		}
	}
	// An operator reading schema_migrations sees when each step ran.
	var oldest time.Time
	if err := db.QueryRowContext(t.Context(), "SELECT MIN(applied_at) FROM schema_migrations").Scan(&oldest); err != nil {
		t.Fatalf("applied_at: %v", err)
	}
	if age := time.Since(oldest); age > 24*time.Hour || age < -24*time.Hour {
		t.Errorf("applied_at = %v, want the time the migration ran", oldest)
	}
}

func TestFieldLimitsFitColumns(t *testing.T) {
	t.Parallel()
	d, db, _ := migrated(t)
	rows, err := db.QueryContext(t.Context(),
		`SELECT COLUMN_NAME, CHARACTER_MAXIMUM_LENGTH FROM information_schema.columns
		 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'suppliers' AND CHARACTER_MAXIMUM_LENGTH IS NOT NULL`, d.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	columns := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		columns[strings.ToLower(name)] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, f := range suppliers.Fields {
		col, ok := columns[f.Name]
		switch {
		case !ok:
			t.Errorf("field %s has no text column (columns: %v)", f.Name, columns)
		case f.MaxChars > col:
			t.Errorf("field %s allows %d characters but its column holds %d", f.Name, f.MaxChars, col)
		case f.Name != "email" && f.MaxChars != col:
			t.Errorf("field %s allows %d characters, its column %d: the form should allow what the column holds", f.Name, f.MaxChars, col)
		case f.Name == "email" && f.MaxChars != 254:
			t.Errorf("email allows %d characters, want 254 (the longest valid address)", f.MaxChars)
		}
	}
}

func TestCreateGetList(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	ctx := t.Context()
	created := map[string]suppliers.Supplier{}
	for _, in := range []suppliers.Input{
		input("Kona Roasters", "Kailua-Kona"),
		input("Andean Growers", "Medellín"),
		input("Blue Ridge Coffee", "Seattle"),
		input("seattle bean co.", "Portland"),
		input("100% Arabica Traders", "Denver"),
		input("100 Percent Beans", "Denver"),
		input("a_b Importers", "Boston"),
		input("aXb Importers", "Boston"),
		input(`Back\slash Brew`, "Austin"),
	} {
		in.Name = "  " + in.Name + " " // stored trimmed
		s := mustCreate(t, st, in)
		if s.ID <= 0 || s.Version != 1 {
			t.Errorf("Create returned id %d version %d, want a new id at version 1", s.ID, s.Version)
		}
		created[s.Name] = s
	}
	for name, s := range created {
		got, err := st.Get(ctx, s.ID)
		if err != nil || got != s {
			t.Errorf("Get(%d) = %+v, %v; want %+v", s.ID, got, err, s)
		}
		if strings.TrimSpace(name) != name {
			t.Errorf("stored untrimmed name %q", name)
		}
	}
	if _, err := st.Get(ctx, 999999); !errors.Is(err, suppliers.ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}

	for _, tc := range []struct {
		search string
		want   []string
	}{
		{"", []string{"100 Percent Beans", "100% Arabica Traders", "a_b Importers", "Andean Growers", "aXb Importers",
			`Back\slash Brew`, "Blue Ridge Coffee", "Kona Roasters", "seattle bean co."}},
		{"ROAST", []string{"Kona Roasters"}},
		{"kona", []string{"Kona Roasters"}},                            // name and city both match: listed once
		{"SEATTLE", []string{"Blue Ridge Coffee", "seattle bean co."}}, // by city and by name
		{"medell", []string{"Andean Growers"}},
		{"MEDELLÍN", []string{"Andean Growers"}}, // case folds beyond ASCII
		{"100%", []string{"100% Arabica Traders"}},
		{"%", []string{"100% Arabica Traders"}},
		{"a_b", []string{"a_b Importers"}},
		{"_", []string{"a_b Importers"}},
		{`\`, []string{`Back\slash Brew`}},
		{"no such supplier", []string{}},
	} {
		t.Run("search "+tc.search, func(t *testing.T) {
			list, err := st.List(ctx, suppliers.Query{Search: tc.search, Page: 1, PerPage: 100})
			if err != nil {
				t.Fatal(err)
			}
			if got := names(list.Items); !slices.Equal(got, tc.want) || list.Total != len(tc.want) {
				t.Errorf("List(%q) = %q (total %d), want %q", tc.search, got, list.Total, tc.want)
			}
			if list.Search != tc.search || list.Items == nil {
				t.Errorf("List echoes search %q and items %v; want %q and a non-nil slice (JSON [] not null)", list.Search, list.Items, tc.search)
			}
		})
	}
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	ctx := t.Context()
	for i := range 45 {
		mustCreate(t, st, input(fmt.Sprintf("Supplier %02d", 44-i), "Seattle"))
	}
	var all []string
	for _, tc := range []struct{ page, len, first, last int }{{1, 20, 1, 20}, {2, 20, 21, 40}, {3, 5, 41, 45}} {
		list, err := st.List(ctx, suppliers.Query{Page: tc.page, PerPage: 20})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != tc.len || list.Total != 45 || list.TotalPages() != 3 || list.First() != tc.first || list.Last() != tc.last {
			t.Errorf("page %d: %d items, total %d, pages %d, rows %d–%d; want %d items, 45, 3, %d–%d",
				tc.page, len(list.Items), list.Total, list.TotalPages(), list.First(), list.Last(), tc.len, tc.first, tc.last)
		}
		all = append(all, names(list.Items)...)
	}
	want := make([]string, 45)
	for i := range want {
		want[i] = fmt.Sprintf("Supplier %02d", i)
	}
	if !slices.Equal(all, want) {
		t.Errorf("pages together = %q, want every supplier once in name order", all)
	}
	past, err := st.List(ctx, suppliers.Query{Page: 4, PerPage: 20})
	if err != nil || len(past.Items) != 0 || past.Total != 45 || past.Items == nil {
		t.Errorf("page past the end = %d items (%v), total %d, %v; want an empty page that still knows the total",
			len(past.Items), past.Items, past.Total, err)
	}
	// Out-of-range sizes fall back to the default rather than reading everything.
	big, err := st.List(ctx, suppliers.Query{Page: 1, PerPage: 100000})
	if err != nil || big.PerPage != suppliers.DefaultPerPage || len(big.Items) != suppliers.DefaultPerPage {
		t.Errorf("PerPage 100000: %d items, per page %d, %v; want the default %d", len(big.Items), big.PerPage, err, suppliers.DefaultPerPage)
	}
}

// TestListOrdersEqualNamesByID: names that compare equal (the collation
// ignores case) keep the order they were added in, so paging through them
// shows each supplier exactly once.
func TestListOrdersEqualNamesByID(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	var want []int64
	for _, name := range []string{"Same Roasters", "same roasters", "SAME ROASTERS", "Same Roasters", "sAME rOASTERS"} {
		want = append(want, mustCreate(t, st, input(name, "Seattle")).ID)
	}
	var got []int64
	for page := 1; page <= 3; page++ {
		list, err := st.List(t.Context(), suppliers.Query{Page: page, PerPage: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list.Items {
			got = append(got, s.ID)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages of equal names list ids %v, want %v (the order they were added)", got, want)
	}
}

func TestUpdateOptimisticConcurrency(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	ctx := t.Context()
	s := mustCreate(t, st, input("Original Name", "Seattle"))

	changed := s.Input()
	changed.Name = " New Name "
	updated, err := st.Update(ctx, testActor, s.ID, s.Version, changed)
	if err != nil {
		t.Fatalf("update at the current version: %v", err)
	}
	if updated.Version != s.Version+1 || updated.Name != "New Name" {
		t.Errorf("Update = %+v, want version %d and the trimmed name", updated, s.Version+1)
	}
	if got, _ := st.Get(ctx, s.ID); got != updated {
		t.Errorf("Get after update = %+v, want %+v", got, updated)
	}

	// Someone still holding the original version tries to save.
	stale := s.Input()
	stale.City = "Lost Update City"
	_, err = st.Update(ctx, testActor, s.ID, s.Version, stale)
	var ce *suppliers.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, suppliers.ErrConflict) {
		t.Fatalf("stale update = %v, want *ConflictError", err)
	}
	if ce.Current != updated {
		t.Errorf("conflict shows %+v, want the current values %+v", ce.Current, updated)
	}
	if got, _ := st.Get(ctx, s.ID); got != updated {
		t.Errorf("stale update changed the row to %+v", got)
	}

	// A future version is just as wrong as a past one. (The same values
	// as the supplier's would be no change at all, not a conflict.)
	if _, err := st.Update(ctx, testActor, s.ID, updated.Version+1, stale); !errors.Is(err, suppliers.ErrConflict) {
		t.Errorf("update at a future version = %v, want a conflict", err)
	}
	if _, err := st.Update(ctx, testActor, 999999, 1, changed); !errors.Is(err, suppliers.ErrNotFound) {
		t.Errorf("update of an unknown id = %v, want ErrNotFound", err)
	}
	bad := updated.Input()
	bad.Email = "not an email"
	var fe suppliers.FieldErrors
	if _, err := st.Update(ctx, testActor, s.ID, updated.Version, bad); !errors.As(err, &fe) {
		t.Errorf("invalid update = %v, want FieldErrors", err)
	}
	if got, _ := st.Get(ctx, s.ID); got != updated {
		t.Errorf("invalid update changed the row to %+v", got)
	}
}

func TestConcurrentEditsLoseNothing(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	s := mustCreate(t, st, input("Contested", "Seattle"))
	const editors = 8
	var wg sync.WaitGroup
	results := make([]error, editors)
	for i := range editors {
		wg.Go(func() {
			in := s.Input()
			in.Address = fmt.Sprintf("%d Editor Street", i+1)
			_, results[i] = st.Update(context.Background(), testActor, s.ID, s.Version, in)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, suppliers.ErrConflict):
			t.Errorf("editor failed with %v, want success or a conflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d editors saved over version %d, want exactly 1", won, s.Version)
	}
	if got, _ := st.Get(t.Context(), s.ID); got.Version != s.Version+1 {
		t.Errorf("version after the race = %d, want %d", got.Version, s.Version+1)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	ctx := t.Context()
	s := mustCreate(t, st, input("Doomed Roasters", "Seattle"))
	in := s.Input()
	in.Phone = "+1 206 555 0199"
	updated, err := st.Update(ctx, testActor, s.ID, s.Version, in)
	if err != nil {
		t.Fatal(err)
	}

	err = st.Delete(ctx, testActor, s.ID, s.Version)
	var ce *suppliers.ConflictError
	if !errors.As(err, &ce) || ce.Current != updated {
		t.Fatalf("delete at a stale version = %v, want a conflict showing %+v", err, updated)
	}
	if _, err := st.Get(ctx, s.ID); err != nil {
		t.Fatalf("stale delete removed the row: %v", err)
	}
	if err := st.Delete(ctx, testActor, s.ID, updated.Version); err != nil {
		t.Fatalf("delete at the current version: %v", err)
	}
	if _, err := st.Get(ctx, s.ID); !errors.Is(err, suppliers.ErrNotFound) {
		t.Errorf("Get after delete = %v, want ErrNotFound", err)
	}
	for _, id := range []int64{s.ID, 999999} {
		if err := st.Delete(ctx, testActor, id, 1); !errors.Is(err, suppliers.ErrNotFound) {
			t.Errorf("Delete(%d) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestTextRoundTripsExactly(t *testing.T) {
	t.Parallel()
	_, _, st := migrated(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		in   suppliers.Input
	}{
		{"html", suppliers.Input{Name: `O'Brien & Sons <b>"Roasters"</b>`, Address: "<script>alert(1)</script>",
			City: "&amp; &#39; &lt;", State: "WA", Email: "o'brien@example.ie", Phone: "(206) 555-0100"}},
		{"sql", suppliers.Input{Name: `Robert'); DROP TABLE suppliers;--`, Address: `1' OR '1'='1`,
			City: `%_\`, State: `"; DELETE FROM suppliers; --`, Email: "bobby@example.com", Phone: "+1 206 555 0101"}},
		{"unicode", suppliers.Input{Name: "Café de l'Étoile ☕ 😀", Address: "Rua das Flores 12, São Paulo",
			City: "Đà Lạt", State: "Lâm Đồng", Email: "ca.phe@example.vn", Phone: "+84 263 555 0100"}},
		{"longest", suppliers.Input{Name: strings.Repeat("é", 255), Address: strings.Repeat("咖", 255),
			City: strings.Repeat("😀", 255), State: strings.Repeat("a", 255),
			Email: strings.Repeat("a", 242) + "@example.com", Phone: strings.Repeat("-", 85) + "123456789012345"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := st.Create(ctx, testActor, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := st.Get(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Input() != tc.in {
				t.Errorf("stored %+v\nread   %+v", tc.in, got.Input())
			}
		})
	}
	if list, err := st.List(ctx, suppliers.Query{Page: 1, PerPage: 100}); err != nil || list.Total != 4 {
		t.Errorf("after hostile text the table has %d rows (%v), want 4", list.Total, err)
	}
}

func TestSeed(t *testing.T) {
	t.Parallel()
	_, db, st := migrated(t)
	const n = 1234 // crosses the 500-row batches
	if err := suppliers.Seed(t.Context(), db, n, 42); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for page := 1; ; page++ {
		list, err := st.List(t.Context(), suppliers.Query{Page: page, PerPage: suppliers.MaxPerPage})
		if err != nil {
			t.Fatal(err)
		}
		if list.Total != n {
			t.Fatalf("Seed inserted %d rows, want %d", list.Total, n)
		}
		for _, s := range list.Items {
			if in, err := suppliers.Validate(s.Input()); err != nil || in != s.Input() || s.Version != 1 {
				t.Errorf("seeded supplier %+v: %v", s, err)
			}
		}
		seen += len(list.Items)
		if !list.HasNext() {
			break
		}
	}
	if seen != n {
		t.Errorf("listed %d seeded suppliers, want %d", seen, n)
	}
	if err := suppliers.Seed(t.Context(), db, 0, 1); err != nil {
		t.Errorf("Seed(0) = %v, want nothing to do", err)
	}
}

// accountFor returns d with another account's credentials.
func accountFor(d suppliertest.DB, a suppliers.Account) suppliertest.DB {
	d.User, d.Password = a.User, a.Password
	return d
}

func TestEnsureAccountsGrantsLeastPrivilege(t *testing.T) {
	t.Parallel()
	d, admin, adminStore := migrated(t)
	ctx := t.Context()
	seeded := mustCreate(t, adminStore, input("Existing Supplier", "Seattle"))

	// Accounts are server-wide: unique names keep parallel test binaries apart.
	suffix := d.Name[len(d.Name)-8:]
	customer := suppliers.Account{User: "cust_" + suffix, Password: "customer-Pass-1"}
	employee := suppliers.Account{User: "empl_" + suffix, Password: "employee-Pass-1"}
	t.Cleanup(func() {
		for _, u := range []string{customer.User, employee.User} {
			if _, err := admin.ExecContext(context.Background(), "DROP USER IF EXISTS '"+u+"'@'%'"); err != nil {
				t.Errorf("drop %s: %v", u, err)
			}
		}
	})
	if err := suppliers.EnsureAccounts(ctx, admin, d.Name, customer, employee); err != nil {
		t.Fatalf("EnsureAccounts: %v", err)
	}
	// Re-running rotates passwords and is otherwise a no-op.
	oldCustomer := customer
	customer.Password = "customer-Pass-2"
	if err := suppliers.EnsureAccounts(ctx, admin, d.Name, customer, employee); err != nil {
		t.Fatalf("EnsureAccounts again: %v", err)
	}
	oldDB, err := sql.Open("mysql", accountFor(d, oldCustomer).DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer oldDB.Close()
	if err := oldDB.PingContext(ctx); mysqlErrNumber(err) != 1045 {
		t.Errorf("login with the rotated-out password: %v, want access denied (1045)", err)
	}

	custDB := accountFor(d, customer).Open(t)
	emplDB := accountFor(d, employee).Open(t)
	cust := suppliers.NewStore(custDB, storeTimeout)
	empl := suppliers.NewStore(emplDB, storeTimeout)

	t.Run("customer reads", func(t *testing.T) {
		if list, err := cust.List(ctx, suppliers.Query{Page: 1, PerPage: 20}); err != nil || list.Total != 1 {
			t.Errorf("customer List = %d rows, %v; want the one supplier", list.Total, err)
		}
		if _, err := cust.Get(ctx, seeded.ID); err != nil {
			t.Errorf("customer Get: %v", err)
		}
	})
	t.Run("customer cannot write", func(t *testing.T) {
		if _, err := cust.Create(ctx, testActor, input("Sneaky Insert", "Seattle")); err == nil || errors.Is(err, suppliers.ErrUnavailable) {
			t.Errorf("customer Create = %v, want a permission error (not 'unavailable')", err)
		}
		if _, err := cust.Update(ctx, testActor, seeded.ID, seeded.Version, input("Sneaky Update", "Seattle")); err == nil {
			t.Error("customer Update succeeded")
		}
		if err := cust.Delete(ctx, testActor, seeded.ID, seeded.Version); err == nil {
			t.Error("customer Delete succeeded")
		}
		if _, err := custDB.ExecContext(ctx, "CREATE TABLE c (id INT PRIMARY KEY)"); err == nil {
			t.Error("customer CREATE TABLE succeeded")
		}
		if _, err := custDB.QueryContext(ctx, "SELECT version FROM schema_migrations"); err == nil {
			t.Error("customer can read schema_migrations; it should see the suppliers table only")
		}
		for _, stmt := range []string{
			"CREATE USER 'sneaky_" + suffix + "'@'%' IDENTIFIED BY 'sneaky-password'",
			"GRANT INSERT ON `" + d.Name + "`.`suppliers` TO '" + customer.User + "'@'%'",
		} {
			if _, err := custDB.ExecContext(ctx, stmt); err == nil {
				t.Errorf("customer ran %q", stmt)
			}
		}
	})
	t.Run("employee writes rows", func(t *testing.T) {
		s, err := empl.Create(ctx, testActor, input("Employee Added", "Boston"))
		if err != nil {
			t.Fatalf("employee Create: %v", err)
		}
		s, err = empl.Update(ctx, testActor, s.ID, s.Version, input("Employee Edited", "Boston"))
		if err != nil {
			t.Fatalf("employee Update: %v", err)
		}
		if err := empl.DeleteOnce(ctx, testActor, "a-form-token", s.ID, s.Version); err != nil {
			t.Fatalf("employee Delete with a form token: %v", err)
		}
		if err := empl.EndSession(ctx, "a-session-id", time.Now().Add(time.Hour)); err != nil {
			t.Fatalf("employee ends a session: %v", err)
		}
		if _, err := empl.SessionValid(ctx, 1, 0, "a-session-id"); err != nil {
			t.Fatalf("employee checks a session: %v", err)
		}
	})
	t.Run("employee cannot rewrite history", func(t *testing.T) {
		for _, stmt := range []string{
			"UPDATE supplier_audit SET employee_email = 'someone-else@example.com'",
			"DELETE FROM supplier_audit",
		} {
			if _, err := emplDB.ExecContext(ctx, stmt); err == nil {
				t.Errorf("employee ran %q: the audit trail must be append-only", stmt)
			}
		}
	})
	t.Run("customer sees no accounts or history", func(t *testing.T) {
		if _, err := cust.EmployeeByEmail(ctx, "a@b.example"); err == nil || errors.Is(err, suppliers.ErrNotFound) {
			t.Errorf("customer can look up employee accounts: %v", err)
		}
		for _, table := range []string{"employees", "supplier_audit", "login_throttle", "ended_sessions", "form_tokens"} {
			if _, err := custDB.ExecContext(ctx, "SELECT COUNT(*) FROM "+table); err == nil {
				t.Errorf("customer can read %s", table)
			}
		}
	})
	t.Run("employee cannot change the schema", func(t *testing.T) {
		for _, stmt := range []string{
			"CREATE TABLE e (id INT PRIMARY KEY)",
			"ALTER TABLE suppliers ADD COLUMN notes TEXT",
			"ALTER TABLE suppliers ADD INDEX idx_suppliers_state (state)",
			"TRUNCATE TABLE login_throttle",
			"DROP TABLE suppliers",
			"CREATE DATABASE sneaky_" + suffix,
			"DROP DATABASE `" + d.Name + "`",
			"CREATE USER 'sneaky_" + suffix + "'@'%' IDENTIFIED BY 'sneaky-password'",
			"GRANT ALL ON *.* TO '" + employee.User + "'@'%'",
			"SELECT user FROM mysql.user",
		} {
			if _, err := emplDB.ExecContext(ctx, stmt); err == nil {
				t.Errorf("employee ran %q", stmt)
			}
		}
	})
	if list, err := adminStore.List(ctx, suppliers.Query{Page: 1, PerPage: 20}); err != nil || list.Total != 1 || list.Items[0] != seeded {
		t.Errorf("after the accounts' attempts the table holds %+v (%v), want only %+v unchanged", list.Items, err, seeded)
	}
}

func TestEnsureAccountsKeepsPasswordsOutOfErrors(t *testing.T) {
	t.Parallel()
	d, admin, _ := migrated(t)
	suffix := d.Name[len(d.Name)-8:]
	good := suppliers.Account{User: "gd_" + suffix, Password: "customer-Pass-1"}
	// A user name the server refuses (too long) makes the statement holding
	// the password fail. Too long everywhere: MySQL 8.4 allows 32
	// characters, MariaDB 10.11 128 (it accepted the 100 once used here).
	bad := suppliers.Account{User: strings.Repeat("x", 200), Password: "employee-Pass-9"}
	t.Cleanup(func() { admin.ExecContext(context.Background(), "DROP USER IF EXISTS '"+good.User+"'@'%'") })
	err := suppliers.EnsureAccounts(t.Context(), admin, d.Name, good, bad)
	if err == nil {
		t.Skip("the server accepted a 200-character user name; nothing to check")
	}
	if strings.Contains(err.Error(), bad.Password) {
		t.Errorf("error quotes the password: %v", err)
	}
}

// unavailableStores are stores whose database cannot answer.
func unavailableStores(t *testing.T) map[string]*suppliers.Store {
	t.Helper()
	stores := map[string]*suppliers.Store{}

	// Nothing listens on port 1.
	closed, err := suppliers.Open(suppliers.DBConfig{Host: "127.0.0.1", Port: 1, User: "u", Password: "p", Name: "COFFEE"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closed.Close() })
	stores["closed port"] = suppliers.NewStore(closed, storeTimeout)

	// A server that accepts connections but never answers: the per-call
	// timeout turns the hang into "unavailable".
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	silent, err := suppliers.Open(suppliers.DBConfig{Host: "127.0.0.1", Port: port, User: "u", Password: "p", Name: "COFFEE"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	stores["silent server"] = suppliers.NewStore(silent, 300*time.Millisecond)

	// A server that worked, then went away with connections in the pool.
	d, _, _ := migrated(t)
	proxy := startProxy(t, net.JoinHostPort(d.Host, fmt.Sprint(d.Port)))
	gone, err := suppliers.Open(suppliers.DBConfig{Host: "127.0.0.1", Port: proxy.port(), User: d.User, Password: d.Password, Name: d.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gone.Close() })
	goneStore := suppliers.NewStore(gone, storeTimeout)
	if _, err := goneStore.List(t.Context(), suppliers.Query{Page: 1, PerPage: 20}); err != nil {
		t.Fatalf("before the server goes away: %v", err)
	}
	proxy.close()
	stores["server stopped"] = goneStore
	return stores
}

func TestUnavailableDatabase(t *testing.T) {
	t.Parallel()
	for name, st := range unavailableStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			in := input("Anything", "Seattle")
			calls := map[string]func() error{
				"Ready":  func() error { return st.Ready(ctx) },
				"List":   func() error { _, err := st.List(ctx, suppliers.Query{Search: "x", Page: 1, PerPage: 20}); return err },
				"Get":    func() error { _, err := st.Get(ctx, 1); return err },
				"Create": func() error { _, err := st.Create(ctx, testActor, in); return err },
				"Update": func() error { _, err := st.Update(ctx, testActor, 1, 1, in); return err },
				"Delete": func() error { return st.Delete(ctx, testActor, 1, 1) },
			}
			for call, f := range calls {
				if err := f(); !errors.Is(err, suppliers.ErrUnavailable) {
					t.Errorf("%s = %v, want ErrUnavailable", call, err)
				}
			}
		})
	}
}

// proxy forwards TCP connections to a backend until closed; closing it
// drops every connection, as a database server going away does.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, backend string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	t.Cleanup(p.close)
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", backend)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, server)
			p.mu.Unlock()
			go func() { io.Copy(server, client); server.Close() }()
			go func() { io.Copy(client, server); client.Close() }()
		}
	}()
	return p
}

func (p *proxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// testActor is the employee the store tests act as.
var testActor = suppliers.Actor{ID: 1, Email: "tester@coffee-suppliers.example"}

// TestUpdateWithoutChangesWritesNothing: saving an edit form as it was
// drawn (or with only spaces around its values added) changes nothing: no
// new version, no history row, and a colleague who opened the same version
// can still save theirs. The form's one-time token is not used up, so the
// same form can still save a real change.
func TestUpdateWithoutChangesWritesNothing(t *testing.T) {
	t.Parallel()
	_, admin, st := migrated(t)
	ctx := t.Context()
	s := mustCreate(t, st, input("Andean Roast", "Seattle"))

	same := s.Input()
	same.Name = "  " + same.Name + " " // trimmed on save: still no change
	if _, err := st.UpdateOnce(ctx, testActor, "token-1", s.ID, s.Version, same); !errors.Is(err, suppliers.ErrUnchanged) {
		t.Fatalf("saving the values unchanged = %v, want ErrUnchanged", err)
	}
	if got, _ := st.Get(ctx, s.ID); got != s {
		t.Errorf("after an unchanged save the supplier is %+v, want %+v (same version)", got, s)
	}
	history, err := st.History(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 1 || history[0].Action != suppliers.ActionCreate {
		t.Errorf("after an unchanged save the history has %d rows, want only the create", len(history))
	}
	var tokens int
	if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM form_tokens").Scan(&tokens); err != nil || tokens != 0 {
		t.Errorf("form tokens used after an unchanged save: %d (%v), want 0", tokens, err)
	}

	// The colleague with the same version open saves a real change.
	theirs := s.Input()
	theirs.City = "Portland"
	if _, err := st.Update(ctx, testActor, s.ID, s.Version, theirs); err != nil {
		t.Errorf("a colleague's save after an unchanged save = %v, want it saved", err)
	}
	// And the first form, its token unused, can still save a change.
	mine := theirs
	mine.Phone = "+1 206 555 0199"
	got, err := st.Get(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateOnce(ctx, testActor, "token-1", s.ID, got.Version, mine); err != nil {
		t.Errorf("a real change with the unused token = %v, want it saved", err)
	}
}

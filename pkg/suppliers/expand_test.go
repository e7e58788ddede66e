package suppliers

import (
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// contractingWords are the SQL keywords that remove or reshape what the
// release still serving may read: a migration runs before the new release
// takes traffic, the old release keeps serving on the new schema until
// the switch, and rolling back the release does not roll the schema back.
// So migrations only add (expand); migrations/README.md says how to remove
// something later.
var contractingWords = []string{"DROP", "RENAME", "MODIFY", "CHANGE"}

// contractAllowed names the migrations allowed to contract, each the last
// step of an expand-then-contract change whose code stopped using what it
// removes in an earlier release (see migrations/README.md). Empty so far.
var contractAllowed = map[string]string{
	// "0009_drop_suppliers_phone.sql": "phone unused since release 2027.03",
}

// contractingClauses returns the contracting keywords sql uses as SQL, in
// order: not inside comments (--, #, /* */), string literals ('…', "…")
// or quoted identifiers (`…`), nor as part of a longer name (changed_at).
func contractingClauses(sql string) []string {
	var code strings.Builder
	for i := 0; i < len(sql); {
		switch c := sql[i]; {
		case strings.HasPrefix(sql[i:], "--") && (i+2 == len(sql) || strings.ContainsRune(" \t\r\n", rune(sql[i+2]))), c == '#':
			// MySQL's "-- " needs whitespace after the dashes.
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				end = len(sql) - i
			}
			i += end
		case strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				end = len(sql) - i - 4 // unterminated: the rest is comment
			}
			i += end + 4
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sql, i)
		default:
			code.WriteByte(c)
			i++
			continue
		}
		code.WriteByte(' ') // a comment or literal separates words
	}
	var found []string
	for _, word := range sqlWord.FindAllString(code.String(), -1) {
		if w := strings.ToUpper(word); slices.Contains(contractingWords, w) {
			found = append(found, w)
		}
	}
	return found
}

var sqlWord = regexp.MustCompile(`[A-Za-z0-9_$]+`)

// skipQuoted returns the index just past the quoted text starting at
// sql[start]: a doubled quote or a backslash escapes the quote character
// inside it. An unterminated literal runs to the end.
func skipQuoted(sql string, start int) int {
	quote := sql[start]
	for i := start + 1; i < len(sql); i++ {
		switch {
		case sql[i] == '\\' && quote != '`':
			i++
		case sql[i] == quote && i+1 < len(sql) && sql[i+1] == quote:
			i++
		case sql[i] == quote:
			return i + 1
		}
	}
	return len(sql)
}

func TestContractingClausesAreFound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		// Each of the four, in the forms MySQL takes them.
		{"ALTER TABLE suppliers DROP COLUMN phone;", []string{"DROP"}},
		{"drop table supplier_audit", []string{"DROP"}},
		{"ALTER TABLE suppliers\n  ADD COLUMN fax VARCHAR(100),\n  DROP INDEX idx_suppliers_city;", []string{"DROP"}},
		{"RENAME TABLE suppliers TO vendors;", []string{"RENAME"}},
		{"ALTER TABLE suppliers RENAME COLUMN phone TO telephone;", []string{"RENAME"}},
		{"ALTER TABLE suppliers MODIFY phone VARCHAR(50) NOT NULL;", []string{"MODIFY"}},
		{"ALTER TABLE suppliers CHANGE phone telephone VARCHAR(100);", []string{"CHANGE"}},
		{"ALTER TABLE suppliers Change `phone` `tel` VARCHAR(100); -- shortened", []string{"CHANGE"}},
		{"/* tidy up */ DROP TABLE IF EXISTS login_throttle; DROP TABLE employees;", []string{"DROP", "DROP"}},
		{"ALTER TABLE s ADD COLUMN note TEXT DEFAULT 'it''s'; ALTER TABLE s DROP note;", []string{"DROP"}},
		{"INSERT INTO s VALUES ('a\\'b'); DROP TABLE s;", []string{"DROP"}},
		// Expanding, with the words only in comments, literals, quoted
		// names or longer names.
		{"-- Never DROP, RENAME, MODIFY or CHANGE here.\nCREATE TABLE IF NOT EXISTS t (id INT);", nil},
		{"# MySQL comment: drop later\nALTER TABLE s ADD COLUMN fax VARCHAR(100);", nil},
		{"/* RENAME\n   in a later release */ ALTER TABLE s ADD INDEX idx_s_state (state);", nil},
		{"INSERT INTO notes (body) VALUES ('please drop by'), (\"rename me\"), ('it''s a CHANGE');", nil},
		{"CREATE TABLE t (changed_at TIMESTAMP, dropped_at TIMESTAMP, `change` INT, modify_count INT);", nil},
		{"ALTER TABLE s ADD COLUMN drop_reason VARCHAR(255) NULL;", nil},
	} {
		if got := contractingClauses(tc.sql); !slices.Equal(got, tc.want) {
			t.Errorf("contractingClauses(%q) = %v, want %v", tc.sql, got, tc.want)
		}
	}
}

// TestMigrationsOnlyExpand guards every migration file: none may drop,
// rename or reshape what the release still serving reads.
func TestMigrationsOnlyExpand(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migration files found (%v): the check would prove nothing", err)
	}
	for _, name := range files {
		body, err := fs.ReadFile(migrationFiles, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := contractAllowed[path.Base(name)]; ok {
			continue
		}
		if found := contractingClauses(string(body)); len(found) > 0 {
			t.Errorf("%s uses %s: migrations only add (expand), because the release still serving runs on the new schema "+
				"and a rollback does not undo a migration. Contract in steps across releases instead: see %s",
				path.Base(name), strings.Join(found, ", "), "pkg/suppliers/migrations/README.md")
		}
	}
}

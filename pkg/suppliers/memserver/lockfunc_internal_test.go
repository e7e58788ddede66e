package memserver

import "testing"

func TestLockFunc(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  bool
	}{
		{"SELECT GET_LOCK(?, 60)", true},
		{"select get_lock('x', 10) as got;", true},
		{"SELECT RELEASE_LOCK(?)", true},
		{"  SELECT IS_FREE_LOCK('x')\n", true},
		{"SELECT GET_LOCK('x', 1), (SELECT COUNT(*) FROM t)", false},
		{"SELECT GET_LOCK((SELECT name FROM t), 1)", false},
		{"SELECT COUNT(*) FROM t WHERE GET_LOCK('x', 1)", false},
		{"SELECT GET_LOCK('x', 1); DELETE FROM t", false},
	} {
		if got := lockFunc.MatchString(tc.query); got != tc.want {
			t.Errorf("lockFunc(%q) = %v, want %v", tc.query, got, tc.want)
		}
	}
}

package memserver

import (
	"errors"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
)

// Small fixes that make the engine answer like MySQL where our callers (and
// their tests) look at error numbers.

// mysqlErrors maps go-mysql-server messages that it reports as the generic
// 1105 to the numbers MySQL uses, so code that checks for "permission
// denied" or "too long" sees the same error against either server.
var mysqlErrors = []struct {
	contains string
	num      int
	state    string
}{
	{"command denied to user", 1142, mysql.SSClientError},                 // ER_TABLEACCESS_DENIED_ERROR
	{"to table '", 1142, mysql.SSClientError},                             // "Access denied for user ... to table"
	{"to database '", mysql.ERDBAccessDenied, mysql.SSClientError},        // 1044
	{"is too large for column", mysql.ERDataTooLong, mysql.SSDataTooLong}, // 1406
}

// mysqlError rewrites a 1105 error into its MySQL number when known.
func mysqlError(err error) error {
	var se *mysql.SQLError
	if !errors.As(err, &se) || se.Num != mysql.ERUnknownError {
		return err
	}
	for _, m := range mysqlErrors {
		if strings.Contains(se.Message, m.contains) {
			return &mysql.SQLError{Num: m.num, State: m.state, Message: se.Message, Query: se.Query}
		}
	}
	return err
}

// unknownUserAuth makes a login as a user that does not exist fail with
// 1045 "Access denied" like MySQL. go-mysql-server's auth methods each
// decline unknown users, which leaves the handshake with no method and the
// client with the puzzling 2012 "No authentication methods available".
type unknownUserAuth struct {
	mysql.AuthServer
}

func (a unknownUserAuth) AuthMethods() []mysql.AuthMethod {
	methods := a.AuthServer.AuthMethods()
	out := make([]mysql.AuthMethod, len(methods))
	for i, m := range methods {
		if m.Name() == mysql.MysqlNativePassword {
			m = nativeForUnknown{AuthMethod: m, all: methods}
		}
		out[i] = m
	}
	return out
}

// nativeForUnknown also accepts users no method handles, so the password
// check runs and rejects them (the user lookup fails with 1045).
type nativeForUnknown struct {
	mysql.AuthMethod
	all []mysql.AuthMethod
}

func (m nativeForUnknown) HandleUser(c *mysql.Conn, user string) bool {
	for _, other := range m.all {
		if other.HandleUser(c, user) {
			return other.Name() == m.Name()
		}
	}
	return true
}

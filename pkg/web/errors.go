package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// Error is an error with the status and the words a user should see.
// Handlers return it for problems with the request; anything else that
// reaches the adapter is mapped by Classify.
type Error struct {
	Status  int
	Title   string
	Message string
	Err     error // the cause, logged but never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with the usual title for the status.
func Errorf(status int, message string) *Error {
	return &Error{Status: status, Title: http.StatusText(status), Message: message}
}

// Classify turns any error into what the user sees. Internal details stay
// in the log: a 5xx never shows err's text.
func Classify(err error) *Error {
	var e *Error
	var qe *suppliers.QueryError
	var fe suppliers.FieldErrors
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Title: "Request too large",
			Message: "That request is larger than the 64 KB this form accepts. Shorten the text and try again.", Err: err}
	case errors.Is(err, suppliers.ErrInvalidID):
		return &Error{Status: http.StatusBadRequest, Title: "Not a supplier id",
			Message: "Supplier ids are positive whole numbers, like 42.", Err: err}
	case errors.Is(err, suppliers.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Title: "Supplier not found",
			Message: "There is no supplier with that id. It may have been deleted.", Err: err}
	case errors.As(err, &qe):
		return &Error{Status: http.StatusBadRequest, Title: "Bad search or page", Message: "The " + qe.Error() + ".", Err: err}
	case errors.As(err, &fe):
		return &Error{Status: http.StatusBadRequest, Title: "Check the supplier's details", Message: fe.Error(), Err: err}
	case errors.Is(err, suppliers.ErrConflict):
		return &Error{Status: http.StatusConflict, Title: "Changed by someone else",
			Message: "This supplier was changed after you opened it. Reload to see the current values.", Err: err}
	case errors.Is(err, suppliers.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Title: "Temporarily unavailable",
			Message: "The supplier directory cannot reach its database right now. Please try again in a few seconds.", Err: err}
	default:
		return &Error{Status: http.StatusInternalServerError, Title: "Something went wrong",
			Message: "Sorry, something went wrong on our side. It has been logged; please try again.", Err: err}
	}
}

package suppliers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
)

// ErrAlreadySubmitted means the form token of a change was used before: the
// same form was posted again, and its first post made the change.
var ErrAlreadySubmitted = errors.New("this form was already submitted")

// ErrUnchanged means an update holds exactly the values the supplier has:
// nothing was written, no version taken, no history recorded.
var ErrUnchanged = errors.New("no changes to save")

// FormTokenRetention is how long a used form token is remembered. A form
// posts only within its session, which lasts at most 12 hours.
const FormTokenRetention = 24 * time.Hour

// MaxFormTokenLength is the longest form token the table holds.
const MaxFormTokenLength = 64

// Actor is who makes a change: the signed-in employee, recorded in the
// audit trail with the change.
type Actor struct {
	ID    int64
	Email string
}

// Create validates in and inserts it as a new supplier at version 1, with
// its audit row in the same transaction. Invalid input returns FieldErrors
// and writes nothing.
func (st *Store) Create(ctx context.Context, actor Actor, in Input) (Supplier, error) {
	return st.CreateOnce(ctx, actor, "", in)
}

// CreateOnce is Create for a form carrying a one-time token: the token is
// used in the same transaction as the insert, and a form posted again
// returns ErrAlreadySubmitted and adds nothing. An empty token is not
// checked (a form from before tokens existed).
func (st *Store) CreateOnce(ctx context.Context, actor Actor, formToken string, in Input) (Supplier, error) {
	in, err := Validate(in)
	if err != nil {
		return Supplier{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	var created Supplier
	err = st.inTx(ctx, "create supplier", func(tx *sql.Tx) error {
		if err := useFormToken(ctx, tx, actor, formToken); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx,
			"INSERT INTO suppliers (name, address, city, state, email, phone, version) VALUES (?, ?, ?, ?, ?, ?, 1)",
			in.Name, in.Address, in.City, in.State, in.Email, in.Phone)
		if err != nil {
			return classify("insert supplier", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("insert supplier: read new id: %w", err)
		}
		created = supplierFrom(id, 1, in)
		return recordChange(ctx, tx, actor, ActionCreate, id, nil, &in)
	})
	if err != nil {
		return Supplier{}, err
	}
	st.purgeFormTokens(ctx, formToken)
	return created, nil
}

// Update saves in over the supplier if it is still at version; otherwise it
// returns a *ConflictError holding the current values, or ErrNotFound. The
// change and its audit row commit together or not at all.
func (st *Store) Update(ctx context.Context, actor Actor, id, version int64, in Input) (Supplier, error) {
	return st.UpdateOnce(ctx, actor, "", id, version, in)
}

// UpdateOnce is Update for a form carrying a one-time token (see
// CreateOnce). The token is checked before the version, so the second post
// of one edit returns ErrAlreadySubmitted, not a conflict with itself.
// Values equal to the supplier's (after trimming) return ErrUnchanged and
// write nothing: no version, no history row, and the token stays unused.
func (st *Store) UpdateOnce(ctx context.Context, actor Actor, formToken string, id, version int64, in Input) (Supplier, error) {
	in, err := Validate(in)
	if err != nil {
		return Supplier{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	var updated Supplier
	err = st.inTx(ctx, fmt.Sprintf("update supplier %d", id), func(tx *sql.Tx) error {
		if err := useFormToken(ctx, tx, actor, formToken); err != nil {
			return err
		}
		before, err := lockCurrent(ctx, tx, id, version)
		var conflict *ConflictError
		if errors.As(err, &conflict) && conflict.Current.Input() == in {
			// Someone saved these very values already: there is
			// nothing to refuse, and nothing to save.
			return ErrUnchanged
		}
		if err != nil {
			return err
		}
		if before.Input() == in {
			// Returning an error rolls the form token back too: the
			// form has changed nothing, so it may still save a change.
			return ErrUnchanged
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE suppliers SET name = ?, address = ?, city = ?, state = ?, email = ?, phone = ?, version = version + 1
			 WHERE id = ? AND version = ?`,
			in.Name, in.Address, in.City, in.State, in.Email, in.Phone, id, version); err != nil {
			return classify(fmt.Sprintf("update supplier %d", id), err)
		}
		updated = supplierFrom(id, version+1, in)
		beforeInput := before.Input()
		return recordChange(ctx, tx, actor, ActionUpdate, id, &beforeInput, &in)
	})
	if err != nil {
		return Supplier{}, err
	}
	st.purgeFormTokens(ctx, formToken)
	return updated, nil
}

// Delete removes the supplier if it is still at version; otherwise it returns
// a *ConflictError or ErrNotFound, so nobody deletes what they have not seen.
// The audit row keeps the deleted values.
func (st *Store) Delete(ctx context.Context, actor Actor, id, version int64) error {
	return st.DeleteOnce(ctx, actor, "", id, version)
}

// DeleteOnce is Delete for a form carrying a one-time token (see
// UpdateOnce).
func (st *Store) DeleteOnce(ctx context.Context, actor Actor, formToken string, id, version int64) error {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	err := st.inTx(ctx, fmt.Sprintf("delete supplier %d", id), func(tx *sql.Tx) error {
		if err := useFormToken(ctx, tx, actor, formToken); err != nil {
			return err
		}
		before, err := lockCurrent(ctx, tx, id, version)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM suppliers WHERE id = ? AND version = ?", id, version); err != nil {
			return classify(fmt.Sprintf("delete supplier %d", id), err)
		}
		beforeInput := before.Input()
		return recordChange(ctx, tx, actor, ActionDelete, id, &beforeInput, nil)
	})
	if err == nil {
		st.purgeFormTokens(ctx, formToken)
	}
	return err
}

// useFormToken records a form's one-time token in the transaction of its
// change, first, so a second post of the form (even at the same moment, on
// another replica) waits for the first and then finds the token taken.
func useFormToken(ctx context.Context, tx *sql.Tx, actor Actor, formToken string) error {
	if formToken == "" {
		return nil
	}
	if len(formToken) > MaxFormTokenLength {
		return fmt.Errorf("form token of %d bytes: longer than %d", len(formToken), MaxFormTokenLength)
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO form_tokens (form_token, employee_id, used_at) VALUES (?, ?, ?)",
		formToken, actor.ID, time.Now().UTC().Truncate(time.Second))
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) && myErr.Number == 1062 {
		return ErrAlreadySubmitted
	}
	if err != nil {
		return classify("use form token", err)
	}
	return nil
}

// purgeFormTokens forgets tokens older than FormTokenRetention, a few at a
// time, after a change that used one. The change is committed by then, so
// a failure here is not the change's: the next change purges again.
func (st *Store) purgeFormTokens(ctx context.Context, formToken string) {
	if formToken == "" {
		return
	}
	_, _ = st.db.ExecContext(ctx, "DELETE FROM form_tokens WHERE used_at < ? LIMIT 100",
		time.Now().UTC().Add(-FormTokenRetention))
}

// lockCurrent reads the supplier for the rest of the transaction (no other
// writer can change it until commit) and refuses a stale version.
func lockCurrent(ctx context.Context, tx *sql.Tx, id, version int64) (Supplier, error) {
	current, err := scanSupplier(tx.QueryRowContext(ctx,
		"SELECT "+supplierColumns+" FROM suppliers WHERE id = ? FOR UPDATE", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Supplier{}, fmt.Errorf("supplier %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Supplier{}, classify(fmt.Sprintf("lock supplier %d", id), err)
	}
	if current.Version != version {
		return Supplier{}, &ConflictError{Current: current}
	}
	return current, nil
}

func supplierFrom(id, version int64, in Input) Supplier {
	return Supplier{ID: id, Name: in.Name, Address: in.Address, City: in.City, State: in.State,
		Email: in.Email, Phone: in.Phone, Version: version}
}

// inTx runs fn in a transaction: committed when fn succeeds, rolled back
// (with any rollback failure joined to fn's error) when it does not.
func (st *Store) inTx(ctx context.Context, doing string, fn func(*sql.Tx) error) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(doing+": begin", err)
	}
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("%s: rollback: %w", doing, rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return classify(doing+": commit", err)
	}
	return nil
}

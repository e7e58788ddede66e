package suppliers

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// The actions an audit row records.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// Change is one row of a supplier's audit trail. Before is nil for a
// create, After nil for a delete.
type Change struct {
	ID         int64
	SupplierID int64
	Action     string
	Actor      Actor
	At         time.Time
	Before     *Input
	After      *Input
}

// historyLimit bounds how much history one page shows.
const historyLimit = 200

// recordChange writes the audit row inside the caller's transaction, so the
// change and its record commit or roll back together.
func recordChange(ctx context.Context, tx *sql.Tx, actor Actor, action string, supplierID int64, before, after *Input) error {
	beforeJSON, err := valuesJSON(before)
	if err != nil {
		return err
	}
	afterJSON, err := valuesJSON(after)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO supplier_audit (supplier_id, action, employee_id, employee_email, before_values, after_values)
		 VALUES (?, ?, ?, ?, ?, ?)`,
		supplierID, action, actor.ID, actor.Email, beforeJSON, afterJSON); err != nil {
		return classify(fmt.Sprintf("audit %s of supplier %d", action, supplierID), err)
	}
	return nil
}

func valuesJSON(in *Input) (sql.NullString, error) {
	if in == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encode audit values: %w", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// History returns the supplier's audit trail, newest first (at most 200
// entries). A deleted supplier keeps its history.
func (st *Store) History(ctx context.Context, supplierID int64) ([]Change, error) {
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	rows, err := st.db.QueryContext(ctx,
		`SELECT id, supplier_id, action, employee_id, employee_email, changed_at, before_values, after_values
		 FROM supplier_audit WHERE supplier_id = ? ORDER BY id DESC LIMIT ?`, supplierID, historyLimit)
	if err != nil {
		return nil, classify(fmt.Sprintf("history of supplier %d", supplierID), err)
	}
	defer rows.Close()
	changes := []Change{}
	for rows.Next() {
		var c Change
		var before, after sql.NullString
		if err := rows.Scan(&c.ID, &c.SupplierID, &c.Action, &c.Actor.ID, &c.Actor.Email, &c.At, &before, &after); err != nil {
			return nil, classify(fmt.Sprintf("history of supplier %d", supplierID), err)
		}
		if c.Before, err = parseValues(before); err != nil {
			return nil, fmt.Errorf("audit row %d: %w", c.ID, err)
		}
		if c.After, err = parseValues(after); err != nil {
			return nil, fmt.Errorf("audit row %d: %w", c.ID, err)
		}
		changes = append(changes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Sprintf("history of supplier %d", supplierID), err)
	}
	return changes, nil
}

func parseValues(s sql.NullString) (*Input, error) {
	if !s.Valid {
		return nil, nil
	}
	var in Input
	if err := json.Unmarshal([]byte(s.String), &in); err != nil {
		return nil, fmt.Errorf("decode audit values: %w", err)
	}
	return &in, nil
}

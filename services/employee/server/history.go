package server

import (
	"strconv"
	"time"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
)

// historyEntry is one change in a supplier's history, ready to print.
type historyEntry struct {
	When     string // RFC 3339 in UTC, for <time datetime>
	WhenText string // for people: 14 Mar 2026, 09:05 UTC
	Who      string
	What     string // Added, Changed, Deleted
	Changes  []fieldChange
	Values   []detail // what an added supplier started with
}

// fieldChange is one field an update changed.
type fieldChange struct {
	Label  string
	Before string
	After  string
}

// historyOf turns audit rows (newest first) into entries.
func historyOf(changes []suppliers.Change) []historyEntry {
	out := make([]historyEntry, 0, len(changes))
	for _, ch := range changes {
		at := ch.At.UTC()
		e := historyEntry{
			When:     at.Format(time.RFC3339),
			WhenText: at.Format("2 Jan 2006, 15:04 UTC"),
			Who:      who(ch.Actor),
		}
		switch ch.Action {
		case suppliers.ActionCreate:
			e.What = "Added"
			if ch.After != nil {
				e.Values = inputDetails(*ch.After)
			}
		case suppliers.ActionUpdate:
			e.What = "Changed"
			if ch.Before != nil && ch.After != nil {
				e.Changes = diff(*ch.Before, *ch.After)
			}
			if len(e.Changes) == 0 {
				e.What = "Saved without changes"
			}
		case suppliers.ActionDelete:
			e.What = "Deleted"
		default:
			e.What = ch.Action
		}
		out = append(out, e)
	}
	return out
}

// who names the employee who made a change.
func who(a suppliers.Actor) string {
	switch {
	case a.Email != "":
		return a.Email
	case a.ID != 0:
		return "employee #" + strconv.FormatInt(a.ID, 10)
	default:
		return "unknown"
	}
}

// diff lists the fields whose values differ, in form order.
func diff(before, after suppliers.Input) []fieldChange {
	var out []fieldChange
	for _, f := range suppliers.Fields {
		if b, a := f.Value(before), f.Value(after); b != a {
			out = append(out, fieldChange{Label: f.Label, Before: b, After: a})
		}
	}
	return out
}

func inputDetails(in suppliers.Input) []detail {
	out := make([]detail, 0, len(suppliers.Fields))
	for _, f := range suppliers.Fields {
		out = append(out, detail{Label: f.Label, Value: f.Value(in)})
	}
	return out
}

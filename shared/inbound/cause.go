package inbound

import "github.com/pilotsync/pilotsync/shared/cause"

// fail records err as what stopped the object type: its text, the value,
// and its cause, named here where the typed error still exists.
func (o *ObjectReport) fail(err error) {
	o.Error, o.Err, o.Cause = err.Error(), err, string(cause.Of(err))
}

// appendCause adds object's cause to a run record's causes.
func appendCause(m map[string]string, object, c string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[object] = c
	return m
}

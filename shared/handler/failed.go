package handler

import (
	"errors"
	"fmt"
)

// ErrRunFailed is in the error a handler returns for a run that failed
// (status "failed": an object type stopped on an error), after the run record
// was written and the result built. Returning an error makes Lambda count the
// invocation in the function's Errors metric, so the errors alarm fires; a
// lease held by another run and a clean stop at a checkpoint are not failures.
// Callers that want the report anyway (the CLI) use the result returned beside
// the error when errors.Is(err, ErrRunFailed).
var ErrRunFailed = errors.New("failed")

// runFailed is the error of a failed run: what ("poll: sync run"), and the
// run's error text.
func runFailed(what, detail string) error {
	if detail == "" {
		return fmt.Errorf("%s %w", what, ErrRunFailed)
	}
	return fmt.Errorf("%s %w: %s", what, ErrRunFailed, detail)
}

// StatusFailed is the status of a failed run, for every job (inbound's
// inbound.StatusFailed; the measured engine reports the same word).
const StatusFailed = "failed"

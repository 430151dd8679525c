// Package handler holds the Lambda handler types. Each handler is a struct built
// once per cold start with its dependencies; its Handle method translates the
// trigger's payload (a scheduled event, a manual invocation, an SQS batch) and
// calls the engine in shared/. Handlers only adapt payloads: shared/wire
// assembles them (wire.Poll, wire.Activity, wire.DailyMeasured for the
// functions/<name>/main.go binaries; wire.NewPoll, wire.NewActivity,
// wire.NewDailyMeasured on one wire.Deps for the local runner, cmd/pilotsync
// run), so what runs locally is what runs in Lambda.
package handler

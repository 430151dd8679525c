// Package handler holds the Lambda handler types. Each handler is a struct built
// once per cold start with its dependencies; its Handle method translates the
// trigger's payload (a scheduled event, a manual invocation, an SQS batch) and
// calls the engine in shared/. The functions/<name>/main.go binaries and the
// local runner (cmd/pilotsync run) use the same types, so what runs locally is
// what runs in Lambda.
package handler

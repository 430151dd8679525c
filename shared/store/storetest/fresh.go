package storetest

import (
	"testing"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// FreshTable returns a DynamoDB store on a table of its own on DynamoDB
// Local, created with store.CreateTable and deleted when the test ends. Like
// every emulator-backed test it is skipped when AWS_ENDPOINT_URL_DYNAMODB is
// unset, and fails instead when PILOTSYNC_REQUIRE_EMULATORS=1.
func FreshTable(t testing.TB) *store.Store {
	t.Helper()
	db, name := awstest.Table(t, store.CreateTable)
	return store.New(db, name)
}

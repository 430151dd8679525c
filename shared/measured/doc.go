// Package measured is the daily job that computes the measured and auto
// properties of every Userpilot user and company active in the measured
// period and sends the values that changed to their linked HubSpot records.
//
// It reads each profile's rolling activity summary once per run (store
// summary.go keeps it as activity arrives), computes the metrics (compute.go),
// links the profiles through the identity linker, encodes each value for its
// HubSpot property's type with the hubspot codec, and batch-updates by HubSpot
// id. A run is a pass over every summary in id order, shard by shard, users
// then companies, then the daily link audit; it checkpoints after every page,
// so a pass that outgrows one invocation's time budget continues in the next
// one where it stopped (Run with ModeContinue), processing no profile twice
// and skipping none.
package measured

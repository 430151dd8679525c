// Package outbound pushes Userpilot custom properties to HubSpot: every poll,
// it reads the profiles marked dirty (the store's sparse, sharded index, never
// the whole table), converts each mapped property whose value changed since it
// was last sent to the target HubSpot property's type, and writes the records
// by HubSpot id with batch update, 100 a call.
//
// The rules (each has a test in push_test.go):
//   - a profile without a valid link is resolved first through the linker
//     (shared/identity/linker), so outbound needs no inbound run before it;
//     profiles HubSpot does not know are counted and left alone: pilotsync
//     never creates contacts or companies;
//   - a value is sent only when its source timestamp is newer than the value
//     last sent for that property (Profile.OutboundAt) and its HubSpot encoding
//     differs from what was last sent (Profile.OutboundHashes, hashed with
//     identity.ValueHash so inbound recognises these writes and never copies
//     them back); an older value is refused;
//   - a value inbound copied from the same HubSpot property (its hash is the
//     profile's InboundHashes entry) is never echoed back;
//   - per record: success records what was sent and clears the dirty mark; a
//     retryable failure keeps the mark for the next poll; a permanent one
//     (validation, read-only or missing property, type mismatch) quarantines
//     the property with HubSpot's reason (Profile.Quarantined) until its value
//     changes; a record HubSpot reports gone goes back to the linker (Gone);
//   - a run holds the "outbound" lease, stops starting batches before the
//     invocation deadline, and every batch is its own checkpoint (the marks it
//     cleared), so the next poll continues with what is still dirty.
//
// Setup (setup.go) creates the HubSpot properties the config maps outbound or
// measured, in the "pilotsync" property group, and refuses mappings to
// existing properties of a type that does not fit.
package outbound

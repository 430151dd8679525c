// Package inbound is pilotsync's sync engine. This part is the inbound poll
// (HubSpot → Userpilot): it walks the HubSpot records changed since the last
// checkpoint, links them to the Userpilot users and companies the store knows
// (by the configured match property, or by HubSpot record id once linked),
// writes only the values that changed since the last inbound write to
// Userpilot, and checkpoints after every fully written page so a crash or a
// time-budget stop loses nothing.
//
// One file per stage: inbound.go (options and Run), pages.go (walks and the
// page pipeline), lease.go (heartbeat and leased checkpoints), page.go
// (prepare and commit a page), link.go (link rules), write.go (Userpilot
// write strategy), save.go (conflict-safe profile save) and runrecord.go.
//
// inbound declares the small interfaces it consumes (Store, HubSpot,
// Userpilot) in its own files; shared/store, shared/hubspot and
// shared/userpilot satisfy them with their concrete types.
package inbound

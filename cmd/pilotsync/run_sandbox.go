package main

import "github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"

// sandboxStarted is called with the HubSpot sandbox `run` starts (tests set
// it to check every request the sandbox receives against HubSpot's spec).
var sandboxStarted = func(*hubspottest.Server) {}

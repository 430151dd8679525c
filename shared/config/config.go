// Package config defines integration.yaml, the one file that tells pilotsync what
// to sync, and loads it with every problem reported at once.
//
// Load (or Parse) decodes the file, applies the documented defaults (see
// integration.example.yaml at the repo root) and validates everything that can
// be checked without calling HubSpot; every problem carries its file, line and
// field. CheckHubSpot adds the checks that need HubSpot's property catalog.
// Schema returns the JSON Schema of the file, generated from these types.
package config

//go:generate go run ./cmd/genschema -o ../../integration.schema.json

import "time"

// Userpilot environments.
const (
	EnvProduction = "production"
	EnvStaging    = "staging"
)

// HubSpot API versions.
const (
	APIVersion202603 = "2026-03"
	APIVersionV3     = "v3"
)

// HubSpot auth modes.
const (
	AuthToken = "token"
	AuthOAuth = "oauth"
)

// HubSpot subscription tiers (they set the pacing limits).
const (
	TierFree         = "free"
	TierStarter      = "starter"
	TierProfessional = "professional"
	TierEnterprise   = "enterprise"
)

// Activity sinks.
const (
	SinkCustomEvents = "custom_events"
	SinkTimeline     = "timeline"
	SinkAppEvents    = "app_events"
	SinkNone         = "none"
)

// Measured metrics.
const (
	MetricSessions         = "sessions"
	MetricEvents           = "events"
	MetricActiveDays       = "active_days"
	MetricTimeSpentSeconds = "time_spent_seconds"
	MetricFirstSeen        = "first_seen"
	MetricLastSeen         = "last_seen"
)

// Activity categories (README "Activity categories and statuses").
const (
	CategoryFeatureTags   = "feature_tags"
	CategoryTrackedEvents = "tracked_events"
	CategoryLabeledEvents = "labeled_events"
	CategoryTaggedPages   = "tagged_pages"
	CategoryChecklists    = "checklists"
	CategoryFlows         = "flows"
	CategoryMobileContent = "mobile_content"
	CategoryNPS           = "nps"
	CategorySurveys       = "surveys"
	CategoryForms         = "forms"
)

// Config is the whole of integration.yaml after defaults are applied.
type Config struct {
	Userpilot     Userpilot     `yaml:"userpilot" json:"userpilot"`
	HubSpot       HubSpot       `yaml:"hubspot" json:"hubspot"`
	Mapping       Mapping       `yaml:"mapping" json:"mapping"`
	Measured      Measured      `yaml:"measured" json:"measured"`
	Activity      Activity      `yaml:"activity" json:"activity"`
	Notifications Notifications `yaml:"notifications" json:"notifications"`
	Schedule      Schedule      `yaml:"schedule" json:"schedule"`

	// file is the name the config was parsed from; pos maps a field path
	// ("mapping.users.inbound[2].hubspot") to its line, for problems found later
	// (CheckHubSpot).
	file string
	pos  map[string]int
}

// File returns the file name the config was loaded from.
func (c *Config) File() string { return c.file }

// Line returns the line of field (a path such as "mapping.users.match.hubspot"
// or "mapping.users.outbound[1].hubspot") in the file, or of its nearest
// ancestor written in the file when the field itself took a default; 0 when
// unknown.
func (c *Config) Line(field string) int {
	for field != "" {
		if l, ok := c.pos[field]; ok {
			return l
		}
		field = parentPath(field)
	}
	return 0
}

// Userpilot selects the Userpilot environment and endpoint.
type Userpilot struct {
	// Environment is "production" (default) or "staging". "staging" binds the
	// whole integration to Userpilot's staging environment (staging-only mode).
	Environment string `yaml:"environment" json:"environment"`
	// BaseURL is the write API host, e.g. https://analytex.userpilot.io (US, default)
	// or https://analytex-eu.userpilot.io (EU). USERPILOT_BASE_URL overrides it.
	BaseURL string `yaml:"base_url" json:"base_url"`
	// IdentifyCompanyKey names the company inside identify: "both" (default: "id"
	// and "company_id" with the same value, since Userpilot's docs disagree on
	// which one it reads), or "id" or "company_id" alone as an override.
	IdentifyCompanyKey string `yaml:"identify_company_key" json:"identify_company_key"`
	// ClearValue is how a property is cleared in Userpilot (an unlinked record's
	// link keys, an emptied HubSpot value): "null" (default) or "empty_string"
	// for accounts where null leaves the old value in place (Userpilot accepts
	// null but does not document that it removes a property).
	ClearValue string `yaml:"clear_value" json:"clear_value"`
}

// HubSpot selects the HubSpot API version, auth and pacing tier.
type HubSpot struct {
	// BaseURL defaults to https://api.hubapi.com. HUBSPOT_BASE_URL overrides it.
	BaseURL string `yaml:"base_url" json:"base_url"`
	// APIVersion is "2026-03" (default) or "v3".
	APIVersion string `yaml:"api_version" json:"api_version"`
	// Auth is "token" (private app token or service key; default) or "oauth".
	Auth string `yaml:"auth" json:"auth"`
	// Tier sets the pacing limits: "free", "starter", "professional", "enterprise"
	// (default "professional").
	Tier string `yaml:"tier" json:"tier"`
	// APILimitIncreases is the number of API limit increase add-ons bought.
	APILimitIncreases int `yaml:"api_limit_increases" json:"api_limit_increases"`
	// PublicApp marks an OAuth public app (110 requests per 10 s, no daily budget).
	PublicApp bool `yaml:"public_app" json:"public_app"`
	// OAuthTokenAPI is the token endpoint OAuth refreshes use: "2026-03" (default)
	// or "v1" (retired by HubSpot on 2027-02-16).
	OAuthTokenAPI string `yaml:"oauth_token_api" json:"oauth_token_api"`
}

// Mapping says how Userpilot users and companies map to HubSpot records.
type Mapping struct {
	Users     ObjectMapping `yaml:"users" json:"users"`
	Companies ObjectMapping `yaml:"companies" json:"companies"`
}

// ObjectMapping maps one Userpilot kind (users or companies) to one HubSpot object.
type ObjectMapping struct {
	// Enabled turns syncing of this kind on (default true).
	Enabled *bool `yaml:"enabled" json:"enabled"`
	// HubSpotObject is "contacts" (default for users), "companies" (default for
	// companies), "deals", "tickets", an object type id ("0-1", "2-1234567") or a
	// custom object's fully qualified name ("p_name" or "p1234_name").
	HubSpotObject string `yaml:"hubspot_object" json:"hubspot_object"`
	// Match is the pair of properties that links records on first sight.
	Match Match `yaml:"match" json:"match"`
	// Inbound lists HubSpot properties copied to Userpilot every poll.
	Inbound []PropertyMapping `yaml:"inbound" json:"inbound"`
	// Outbound lists Userpilot custom properties sent to HubSpot when they change.
	Outbound []PropertyMapping `yaml:"outbound" json:"outbound"`
	// Measured lists metrics computed from activity and sent to HubSpot daily.
	Measured []MeasuredMapping `yaml:"measured" json:"measured"`
	// ClearOnUnlink removes the inbound-mapped properties in Userpilot, with
	// the __hubspot__ ids, when a profile is unlinked from its HubSpot record
	// (default true): they describe a record it no longer corresponds to.
	ClearOnUnlink *bool `yaml:"clear_on_unlink" json:"clear_on_unlink"`
}

// IsEnabled reports whether this kind is synced.
func (m ObjectMapping) IsEnabled() bool { return m.Enabled == nil || *m.Enabled }

// ClearsOnUnlink reports clear_on_unlink (default true).
func (m ObjectMapping) ClearsOnUnlink() bool { return m.ClearOnUnlink == nil || *m.ClearOnUnlink }

// MatchesAdditionalEmails reports match.additional_emails (default: on when
// match.hubspot is email).
func (m ObjectMapping) MatchesAdditionalEmails() bool {
	if m.Match.AdditionalEmails != nil {
		return *m.Match.AdditionalEmails
	}
	return m.Match.HubSpot == "email"
}

// Match is the pair of properties that links a Userpilot record to a HubSpot one.
type Match struct {
	// Userpilot is the Userpilot property: "email" (a metadata key; the default
	// and recommended for users), "user_id" / "company_id" (the id itself;
	// "company_id" is the default for companies) or another metadata key.
	Userpilot string `yaml:"userpilot" json:"userpilot"`
	// HubSpot is the HubSpot property, e.g. "email" (the default for users); it
	// must hold unique values. Companies have no default: name a unique property.
	HubSpot string `yaml:"hubspot" json:"hubspot"`
	// AdditionalEmails also matches HubSpot's hs_additional_emails (default true
	// when HubSpot is "email").
	AdditionalEmails *bool `yaml:"additional_emails" json:"additional_emails"`
}

// PropertyMapping pairs a HubSpot property with a Userpilot property. When one
// side is empty it takes the other side's name.
type PropertyMapping struct {
	// HubSpot is the HubSpot property's internal name (lower case, e.g. "lifecyclestage").
	HubSpot string `yaml:"hubspot" json:"hubspot"`
	// Userpilot is the Userpilot property (metadata key), e.g. "plan".
	Userpilot string `yaml:"userpilot" json:"userpilot"`
	// Type (outbound only) is the kind of value the Userpilot property holds:
	// string, number, bool, date, datetime or enumeration. pilotsync setup
	// creates a missing HubSpot property with this type (default string) and
	// refuses an existing one it does not fit; left out, any writable type is
	// accepted and values are converted when sent.
	Type string `yaml:"type" json:"type"`
}

// MeasuredMapping sends one computed metric to one HubSpot property.
type MeasuredMapping struct {
	// Metric is a measured metric (sessions, events, active_days,
	// time_spent_seconds, first_seen, last_seen) or an auto property
	// (country_code, browser, operating_system, device_type, last_page,
	// last_seen_date); see MetricSpecs.
	Metric string `yaml:"metric" json:"metric"`
	// HubSpot is the target HubSpot property.
	HubSpot string `yaml:"hubspot" json:"hubspot"`
}

// Measured configures the daily measured-properties job.
type Measured struct {
	// PeriodDays is the trailing window the metrics cover (default 30).
	PeriodDays int `yaml:"period_days" json:"period_days"`
	// SessionTimeout ends a session after this much inactivity (default 30m).
	SessionTimeout Duration `yaml:"session_timeout" json:"session_timeout"`
}

// Activity configures real-time activity forwarding.
type Activity struct {
	// Sink is custom_events (default), timeline, app_events or none.
	Sink string `yaml:"sink" json:"sink"`
	// EnabledAt: events that happened before it are never sent. When empty, the
	// time of the first activity invocation with events in it is recorded and used.
	EnabledAt *time.Time `yaml:"enabled_at" json:"enabled_at"`
	// EventNamePrefix prefixes custom event names (default "userpilot").
	EventNamePrefix string `yaml:"event_name_prefix" json:"event_name_prefix"`
	// Categories lists the categories to forward, each with the statuses to send
	// (empty statuses = all). Empty = every category with every status.
	Categories []CategoryFilter `yaml:"categories" json:"categories"`
	// Rules extend the built-in classification table.
	Rules []ClassifyRule `yaml:"rules" json:"rules"`
	// Pages are the tagged-page rules that turn page_view events into the
	// tagged_pages category.
	Pages []PageRule `yaml:"pages" json:"pages"`
	// UnmatchedGrace re-checks users not yet in HubSpot for this long before
	// dropping their events (default 10m, which covers an identify arriving
	// after its user's first events; at most 20m, because a
	// waiting message is retried once per queue visibility timeout and goes to
	// the dead-letter queue after ActivityMaxReceiveCount receives).
	UnmatchedGrace Duration `yaml:"unmatched_grace" json:"unmatched_grace"`
	// TimelineTemplates maps "<category>_<status>" to a timeline event template id
	// (sink timeline only; then required for every category and status sent).
	TimelineTemplates map[string]string `yaml:"timeline_templates" json:"timeline_templates"`
	// AppEventTypes maps "<category>_<status>" to the fully qualified name of a
	// HubSpot app event type defined in the app's settings (occurrences name their
	// type by eventTypeName; sink app_events only; then required for every
	// category and status sent).
	AppEventTypes map[string]string `yaml:"app_event_types" json:"app_event_types"`
}

// TargetKey is the key of TimelineTemplates and AppEventTypes for an activity
// category and status, e.g. "flows_completed".
func TargetKey(category, status string) string { return category + "_" + status }

// Targets returns the ids the configured sink addresses HubSpot by, keyed by
// TargetKey: TimelineTemplates for sink timeline, AppEventTypes for sink
// app_events, nil for the sinks that need none.
func (a Activity) Targets() map[string]string {
	for _, tf := range targetFields {
		if tf.sink == a.Sink {
			return tf.ids(a)
		}
	}
	return nil
}

// CategoryFilter selects one activity category and some of its statuses.
type CategoryFilter struct {
	// Name is a category: feature_tags, tracked_events, labeled_events,
	// tagged_pages, checklists, flows, mobile_content, nps, surveys, forms.
	Name string `yaml:"name" json:"name"`
	// Statuses limits the statuses sent (e.g. completed, dismissed); empty = all.
	Statuses []string `yaml:"statuses" json:"statuses"`
}

// ClassifyRule maps (event_type, entity_type, status) to a category and status.
type ClassifyRule struct {
	// EventType is the event record's event_type: interaction, track,
	// track_feature or page_view.
	EventType string `yaml:"event_type" json:"event_type"`
	// EntityType is the entity type of an interaction (the first part of its
	// event_name, e.g. "experience"); empty matches any.
	EntityType string `yaml:"entity_type" json:"entity_type"`
	// Status is the source status (e.g. "SEEN", compared case-insensitively);
	// empty matches any.
	Status string `yaml:"status" json:"status"`
	// Category is the activity category the event is counted in.
	Category string `yaml:"category" json:"category"`
	// AsStatus is the status name sent to HubSpot (default: Status lower-cased).
	AsStatus string `yaml:"as_status" json:"as_status"`
}

// PageRule tags page views whose host and path match.
type PageRule struct {
	// Name identifies the page in the events sent to HubSpot, e.g. "pricing".
	Name string `yaml:"name" json:"name"`
	// Host matches the hostname exactly; empty matches any host.
	Host string `yaml:"host" json:"host"`
	// Path is a path.Match pattern, e.g. "/settings/*".
	Path string `yaml:"path" json:"path"`
}

// Notifications configures SES failure emails.
type Notifications struct {
	// Recipients are the admins' addresses.
	Recipients []string `yaml:"recipients" json:"recipients"`
	// Sender is a verified SES identity.
	Sender string `yaml:"sender" json:"sender"`
	// RepeatAfter re-sends a still-open problem after this long (default 24h).
	RepeatAfter Duration `yaml:"repeat_after" json:"repeat_after"`
}

// Schedule documents the job intervals; the deployed schedules come from the
// template parameters, the local runner uses these.
type Schedule struct {
	// PollEvery is the inbound/outbound poll interval (default 5m).
	PollEvery Duration `yaml:"poll_every" json:"poll_every"`
	// DailyAt is the UTC time of the daily measured job, "HH:MM" (default "03:00").
	DailyAt string `yaml:"daily_at" json:"daily_at"`
	// SearchOverlap re-reads this much before the inbound cursor, since HubSpot
	// search lags writes (default 2m).
	SearchOverlap Duration `yaml:"search_overlap" json:"search_overlap"`
}

// Duration is a time.Duration written as "5m", "30s" or "24h" in YAML.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

package config

import "time"

// Defaults applied by Load and Parse to settings left empty. integration.example.yaml
// documents each of them next to its setting.
const (
	DefaultEnvironment        = EnvProduction
	DefaultUserpilotBaseURL   = "https://analytex.userpilot.io"
	DefaultIdentifyCompanyKey = "both"
	DefaultClearValue         = "null"
	DefaultHubSpotBaseURL     = "https://api.hubapi.com"
	DefaultAPIVersion         = APIVersion202603
	DefaultAuth               = AuthToken
	DefaultTier               = TierProfessional
	DefaultUsersObject        = "contacts"
	DefaultCompaniesObject    = "companies"
	DefaultUsersMatch         = "email" // both sides, for users
	DefaultCompaniesMatch     = "company_id"
	// DefaultUnmatchedGrace covers the usual race of a new signup: its first
	// events reach the queue before the identify that carries its email.
	DefaultUnmatchedGrace  = 10 * time.Minute
	DefaultPeriodDays      = 30
	DefaultSessionTimeout  = 30 * time.Minute
	DefaultSink            = SinkCustomEvents
	DefaultEventNamePrefix = "userpilot"
	DefaultRepeatAfter     = 24 * time.Hour
	DefaultPollEvery       = 5 * time.Minute
	DefaultDailyAt         = "03:00"
	DefaultSearchOverlap   = 2 * time.Minute
)

// MaxPeriodDays bounds measured.period_days; the store keeps daily aggregates
// and activity summaries at least this long.
const MaxPeriodDays = 365

// Defaults returns the config an empty file would give, before validation
// (companies' match.hubspot has no default, so it would not validate).
func Defaults() *Config {
	c := &Config{}
	applyDefaults(c)
	return c
}

func setString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

func setDuration(d *Duration, def time.Duration) {
	if *d == 0 {
		*d = Duration(def)
	}
}

// applyDefaults fills every empty setting that has a default.
func applyDefaults(c *Config) {
	setString(&c.Userpilot.Environment, DefaultEnvironment)
	setString(&c.Userpilot.BaseURL, DefaultUserpilotBaseURL)
	setString(&c.Userpilot.IdentifyCompanyKey, DefaultIdentifyCompanyKey)
	setString(&c.Userpilot.ClearValue, DefaultClearValue)

	setString(&c.HubSpot.BaseURL, DefaultHubSpotBaseURL)
	setString(&c.HubSpot.APIVersion, DefaultAPIVersion)
	setString(&c.HubSpot.Auth, DefaultAuth)
	setString(&c.HubSpot.Tier, DefaultTier)
	setString(&c.HubSpot.OAuthTokenAPI, DefaultOAuthTokenAPI)

	u := &c.Mapping.Users
	setString(&u.HubSpotObject, DefaultUsersObject)
	setString(&u.Match.Userpilot, DefaultUsersMatch)
	setString(&u.Match.HubSpot, DefaultUsersMatch)
	co := &c.Mapping.Companies
	setString(&co.HubSpotObject, DefaultCompaniesObject)
	setString(&co.Match.Userpilot, DefaultCompaniesMatch)
	for _, m := range []*ObjectMapping{u, co} {
		m.Enabled = new(m.IsEnabled())
		m.ClearOnUnlink = new(m.ClearsOnUnlink())
		m.Match.AdditionalEmails = new(m.MatchesAdditionalEmails())
		for _, list := range [][]PropertyMapping{m.Inbound, m.Outbound} {
			for i := range list {
				setString(&list[i].HubSpot, list[i].Userpilot)
				setString(&list[i].Userpilot, list[i].HubSpot)
			}
		}
	}

	if c.Measured.PeriodDays == 0 {
		c.Measured.PeriodDays = DefaultPeriodDays
	}
	setDuration(&c.Measured.SessionTimeout, DefaultSessionTimeout)

	setString(&c.Activity.Sink, DefaultSink)
	setString(&c.Activity.EventNamePrefix, DefaultEventNamePrefix)
	setDuration(&c.Activity.UnmatchedGrace, DefaultUnmatchedGrace)

	setDuration(&c.Notifications.RepeatAfter, DefaultRepeatAfter)

	setDuration(&c.Schedule.PollEvery, DefaultPollEvery)
	setString(&c.Schedule.DailyAt, DefaultDailyAt)
	setDuration(&c.Schedule.SearchOverlap, DefaultSearchOverlap)
}

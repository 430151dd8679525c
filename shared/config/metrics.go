package config

// Auto properties: the latest context of a profile's activity (the event
// record's context fields, https://docs.userpilot.com/data-sync/event-schema), sent daily with the measured metrics.
const (
	MetricCountryCode     = "country_code"
	MetricBrowser         = "browser"
	MetricOperatingSystem = "operating_system"
	MetricDeviceType      = "device_type"
	// MetricLastPage is the hostname + pathname of the latest event with a hostname.
	MetricLastPage = "last_page"
	// MetricLastSeenDate is the UTC date of last_seen.
	MetricLastSeenDate = "last_seen_date"
)

// MetricSpec describes one measured or auto metric: the HubSpot property type
// and field type `pilotsync setup` creates for it, and the types an existing
// property may have.
type MetricSpec struct {
	Metric string
	// Auto is true for the auto properties (latest context), false for the
	// measured ones (computed over measured.period_days).
	Auto bool
	// Type and FieldType are what setup creates (HubSpot property type and
	// fieldType, https://developers.hubspot.com/docs/api-reference/crm-properties-v3/guide).
	Type, FieldType string
	// Accepts lists the property types the metric can be written to.
	Accepts []string
}

// metricSpecs lists every metric in the order the README documents them.
var metricSpecs = []MetricSpec{
	{Metric: MetricSessions, Type: "number", FieldType: "number", Accepts: []string{"number"}},
	{Metric: MetricEvents, Type: "number", FieldType: "number", Accepts: []string{"number"}},
	{Metric: MetricActiveDays, Type: "number", FieldType: "number", Accepts: []string{"number"}},
	{Metric: MetricTimeSpentSeconds, Type: "number", FieldType: "number", Accepts: []string{"number"}},
	{Metric: MetricFirstSeen, Type: "datetime", FieldType: "date", Accepts: []string{"date", "datetime"}},
	{Metric: MetricLastSeen, Type: "datetime", FieldType: "date", Accepts: []string{"date", "datetime"}},
	{Metric: MetricCountryCode, Auto: true, Type: "string", FieldType: "text", Accepts: []string{"string"}},
	{Metric: MetricBrowser, Auto: true, Type: "string", FieldType: "text", Accepts: []string{"string"}},
	{Metric: MetricOperatingSystem, Auto: true, Type: "string", FieldType: "text", Accepts: []string{"string"}},
	{Metric: MetricDeviceType, Auto: true, Type: "string", FieldType: "text", Accepts: []string{"string"}},
	{Metric: MetricLastPage, Auto: true, Type: "string", FieldType: "text", Accepts: []string{"string"}},
	{Metric: MetricLastSeenDate, Auto: true, Type: "date", FieldType: "date", Accepts: []string{"date"}},
}

// MetricSpecs returns every measured and auto metric with its HubSpot types
// (a copy: callers may keep it).
func MetricSpecs() []MetricSpec {
	out := make([]MetricSpec, len(metricSpecs))
	for i, s := range metricSpecs {
		s.Accepts = append([]string(nil), s.Accepts...)
		out[i] = s
	}
	return out
}

// Metric returns the spec of metric name and whether it is known.
func Metric(name string) (MetricSpec, bool) {
	for _, s := range MetricSpecs() {
		if s.Metric == name {
			return s, true
		}
	}
	return MetricSpec{}, false
}

// metricNames lists the metric names (the enum of MeasuredMapping.metric).
func metricNames() []string {
	out := make([]string, len(metricSpecs))
	for i, s := range metricSpecs {
		out[i] = s.Metric
	}
	return out
}

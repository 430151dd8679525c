package measured

import (
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Period is the measured window: the UTC days From to To inclusive
// ("YYYY-MM-DD"): the run's day and the PeriodDays-1 days before it, so a
// second run the same day measures the same days.
type Period struct{ From, To string }

// PeriodOf returns the period of days days ending on at's UTC day.
func PeriodOf(at time.Time, days int) Period {
	d := at.UTC()
	return Period{From: d.AddDate(0, 0, -(days - 1)).Format(time.DateOnly), To: d.Format(time.DateOnly)}
}

// contains reports whether day lies in the period.
func (p Period) contains(day string) bool { return day >= p.From && day <= p.To }

// autoContext maps auto metrics to the summary's context fields.
var autoContext = map[string]string{
	config.MetricCountryCode:     store.ContextCountryCode,
	config.MetricBrowser:         store.ContextBrowser,
	config.MetricOperatingSystem: store.ContextOperatingSystem,
	config.MetricDeviceType:      store.ContextDeviceType,
	config.MetricLastPage:        store.ContextPage,
}

// Compute returns the value of each metric for a summary over the period:
// int64 for counts and seconds, time.Time (UTC, whole seconds) for
// first_seen, last_seen and last_seen_date, string for the context fields. A
// profile with no activity in the period gets zero counts and no other
// values (they stay as last sent); a context field never seen is absent.
func Compute(sum *store.ActivitySummary, p Period, metrics []string) map[string]any {
	var sessions, events, active, timeMs, first, last int64
	for day, d := range sum.Days {
		if !p.contains(day) {
			continue
		}
		sessions += d.Sessions
		events += d.Events
		timeMs += d.TimeMs
		if d.Active > 0 {
			active++
			if first == 0 || (d.FirstMs != 0 && d.FirstMs < first) {
				first = d.FirstMs
			}
			last = max(last, d.LastMs)
		}
	}
	out := make(map[string]any, len(metrics))
	for _, m := range metrics {
		switch m {
		case config.MetricSessions:
			out[m] = sessions
		case config.MetricEvents:
			out[m] = events
		case config.MetricActiveDays:
			out[m] = active
		case config.MetricTimeSpentSeconds:
			out[m] = max(timeMs, 0) / 1000
		}
		if active == 0 {
			continue
		}
		switch m {
		case config.MetricFirstSeen:
			out[m] = seconds(first)
		case config.MetricLastSeen, config.MetricLastSeenDate:
			out[m] = seconds(last)
		default:
			if f, ok := autoContext[m]; ok {
				if v, ok := sum.Context[f]; ok && v.Value != "" {
					out[m] = v.Value
				}
			}
		}
	}
	return out
}

// seconds is the UTC time of ms truncated to whole seconds: date-times are
// sent as YYYY-MM-DDTHH:mm:ssZ.
func seconds(ms int64) time.Time { return time.UnixMilli(ms).UTC().Truncate(time.Second) }

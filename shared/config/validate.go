package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Limits on settings, and where each number comes from.
const (
	// minPollEvery is EventBridge's smallest rate expression (1 minute).
	minPollEvery = time.Minute
	// maxUnmatchedGrace keeps waiting events out of the dead-letter queue: a
	// message is re-checked once per visibility timeout (template.yaml: 360 s)
	// and dead-lettered after ActivityMaxReceiveCount receives (default 5),
	// about 30 minutes; 20 minutes leaves room for a slow receive.
	maxUnmatchedGrace = 20 * time.Minute
	// maxSearchOverlap keeps the re-read window small; HubSpot search lags writes
	// by "a few moments" (https://developers.hubspot.com/docs/api/crm/search).
	maxSearchOverlap = time.Hour
	// maxEventNamePrefix leaves room in HubSpot's event name for
	// "_<category>_<status>" (the longest is "_mobile_content_completed").
	maxEventNamePrefix = 30
)

// reservedUserpilotPrefix is the prefix of the properties the integration writes
// to Userpilot itself (__hubspot__object_type, __hubspot__user_id, ...).
const reservedUserpilotPrefix = "__hubspot__"

// Enumerations, keyed "<Go type>.<yaml key>"; used by validation and by Schema.
var enums = map[string][]string{
	"Userpilot.environment":          {EnvProduction, EnvStaging},
	"Userpilot.identify_company_key": {"both", "id", "company_id"},
	"Userpilot.clear_value":          {"null", "empty_string"},
	"HubSpot.api_version":            {APIVersion202603, APIVersionV3},
	"HubSpot.auth":                   {AuthToken, AuthOAuth},
	"HubSpot.oauth_token_api":        {OAuthTokenAPI202603, OAuthTokenAPIV1},
	"HubSpot.tier":                   {TierFree, TierStarter, TierProfessional, TierEnterprise},
	"PropertyMapping.type":           {OutboundString, OutboundNumber, OutboundBool, OutboundDate, OutboundDateTime, OutboundEnumeration},
	"MeasuredMapping.metric":         metricNames(),
	"Activity.sink":                  {SinkCustomEvents, SinkTimeline, SinkAppEvents, SinkNone},
	"CategoryFilter.name":            Categories(),
	"ClassifyRule.event_type":        {"interaction", "track", "track_feature", "page_view"},
	"ClassifyRule.category":          Categories(),
}

// categoryTable lists the activity categories and their built-in statuses
// (README "Activity categories and statuses"; "ask later" is written ask_later).
var categoryTable = []struct {
	name     string
	statuses []string
}{
	{CategoryFeatureTags, []string{"occurred"}},
	{CategoryTrackedEvents, []string{"occurred"}},
	{CategoryLabeledEvents, []string{"occurred"}},
	{CategoryTaggedPages, []string{"viewed"}},
	{CategoryChecklists, []string{"seen", "completed", "dismissed"}},
	{CategoryFlows, []string{"seen", "completed", "dismissed"}},
	{CategoryMobileContent, []string{"seen", "completed", "dismissed"}},
	{CategoryNPS, []string{"ask_later", "feedback"}},
	{CategorySurveys, []string{"seen", "submitted", "dismissed"}},
	{CategoryForms, []string{"submitted"}},
}

// Categories returns the activity category names, in documentation order.
func Categories() []string {
	names := make([]string, len(categoryTable))
	for i, c := range categoryTable {
		names[i] = c.name
	}
	return names
}

// CategoryStatuses returns the built-in statuses of category (nil for an
// unknown category). Classification rules in the config may add more.
func CategoryStatuses(category string) []string {
	for _, c := range categoryTable {
		if c.name == category {
			return slices.Clone(c.statuses)
		}
	}
	return nil
}

// Statuses returns the statuses category can have under this config: the
// built-in ones plus those added by activity.rules. The second result is true
// when a rule passes source statuses through unchanged, so any status is possible.
func (a Activity) Statuses(category string) (statuses []string, open bool) {
	statuses = CategoryStatuses(category)
	for _, r := range a.Rules {
		if r.Category != category {
			continue
		}
		switch {
		case r.AsStatus != "":
			statuses = append(statuses, r.AsStatus)
		case r.Status != "":
			statuses = append(statuses, strings.ToLower(r.Status))
		default:
			open = true
		}
	}
	slices.Sort(statuses)
	return slices.Compact(statuses), open
}

var (
	// HubSpot internal property names: lower-case letters, digits and underscores,
	// starting with a letter.
	propertyNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// Custom object type ids ("2-1234567") and fully qualified names ("p_name",
	// "p1234_name").
	customObjectRE = regexp.MustCompile(`^(2-[0-9]+|p[0-9]*_[a-z][a-z0-9_]*)$`)
	statusNameRE   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	hostRE         = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?$`)
	dailyAtRE      = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// Standard HubSpot objects by name and by object type id.
var standardObjects = map[string]string{
	"contacts": "contacts", "0-1": "contacts",
	"companies": "companies", "0-2": "companies",
	"deals": "deals", "0-3": "deals",
	"tickets": "tickets", "0-5": "tickets",
}

// IsCustomObject reports whether objectType names a HubSpot custom object
// ("2-1234567", "p_name") rather than contacts, companies, deals or tickets.
func IsCustomObject(objectType string) bool {
	return customObjectRE.MatchString(objectType)
}

// PrimaryObject returns the primaryObject of a HubSpot event definition for
// objectType: CONTACT, COMPANY, DEAL, TICKET, or the custom object's type as given.
func PrimaryObject(objectType string) string {
	if std, ok := standardObjects[objectType]; ok {
		return strings.ToUpper(strings.TrimSuffix(std, "s"))
	}
	return objectType
}

// sinkTargets says which HubSpot objects each activity sink can deliver to
// (timeline and app events attach to contacts, companies, deals and tickets,
// custom events also to custom objects: https://developers.hubspot.com/docs/api/analytics/events).
func sinkAccepts(sink, objectType string) bool {
	if _, ok := standardObjects[objectType]; ok {
		return true
	}
	return sink == SinkCustomEvents && IsCustomObject(objectType)
}

// validator checks a decoded, defaulted config and collects problems.
type validator struct {
	cfg      *Config
	file     string
	bad      map[string]bool
	problems []Problem
}

// add records a problem for field unless the field (or an ancestor) already
// failed to decode.
func (v *validator) add(field, format string, args ...any) {
	for p := field; p != ""; p = parentPath(p) {
		if v.bad[p] {
			return
		}
	}
	v.problems = append(v.problems, Problem{File: v.file, Line: v.cfg.Line(field), Field: field, Message: fmt.Sprintf(format, args...)})
}

// set reports whether field was written in the file (not defaulted).
func (v *validator) set(field string) bool {
	_, ok := v.cfg.pos[field]
	return ok
}

func (v *validator) enum(field, key, value string) {
	allowed := enums[key]
	if !slices.Contains(allowed, value) {
		v.add(field, "%q is not one of %s%s", value, strings.Join(allowed, ", "), didYouMean(value, allowed))
	}
}

func (v *validator) url(field, value, example string) {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		v.add(field, "want an http(s) URL such as %s, got %q", example, value)
	}
}

func (v *validator) property(field, value string) bool {
	if value == "" {
		v.add(field, "a HubSpot property name is required")
		return false
	}
	if !propertyNameRE.MatchString(value) {
		v.add(field, "%q is not a HubSpot property name (internal names are lower-case letters, digits and underscores, starting with a letter)", value)
		return false
	}
	return true
}

func (v *validator) userpilotProperty(field, value string) bool {
	switch {
	case value == "":
		v.add(field, "a Userpilot property name is required")
	case strings.TrimSpace(value) != value:
		v.add(field, "%q has leading or trailing spaces", value)
	case strings.HasPrefix(value, reservedUserpilotPrefix):
		v.add(field, "%q uses the prefix %s, which pilotsync reserves for the HubSpot ids it writes", value, reservedUserpilotPrefix)
	default:
		return true
	}
	return false
}

func (v *validator) duration(field string, d Duration, lo, hi time.Duration) {
	if d.D() < lo || (hi > 0 && d.D() > hi) {
		if hi > 0 {
			v.add(field, "%s is out of range: want %s to %s", d.D(), lo, hi)
		} else {
			v.add(field, "%s is out of range: want at least %s", d.D(), lo)
		}
	}
}

func (v *validator) validate() {
	c := v.cfg
	v.enum("userpilot.environment", "Userpilot.environment", c.Userpilot.Environment)
	v.url("userpilot.base_url", c.Userpilot.BaseURL, DefaultUserpilotBaseURL)
	v.enum("userpilot.identify_company_key", "Userpilot.identify_company_key", c.Userpilot.IdentifyCompanyKey)
	v.enum("userpilot.clear_value", "Userpilot.clear_value", c.Userpilot.ClearValue)

	v.url("hubspot.base_url", c.HubSpot.BaseURL, DefaultHubSpotBaseURL)
	v.enum("hubspot.api_version", "HubSpot.api_version", c.HubSpot.APIVersion)
	v.enum("hubspot.auth", "HubSpot.auth", c.HubSpot.Auth)
	v.enum("hubspot.oauth_token_api", "HubSpot.oauth_token_api", c.HubSpot.OAuthTokenAPI)
	v.enum("hubspot.tier", "HubSpot.tier", c.HubSpot.Tier)
	if c.HubSpot.APILimitIncreases < 0 {
		v.add("hubspot.api_limit_increases", "must not be negative, got %d", c.HubSpot.APILimitIncreases)
	}
	if c.HubSpot.PublicApp && c.HubSpot.Auth != AuthOAuth {
		v.add("hubspot.public_app", "a public app authenticates with OAuth: set hubspot.auth: oauth")
	}

	v.mapping()
	v.measured()
	v.activity()
	v.notifications()
	v.schedule()
}

func (v *validator) mapping() {
	c := v.cfg
	for _, kind := range []struct {
		name string
		m    *ObjectMapping
	}{{"users", &c.Mapping.Users}, {"companies", &c.Mapping.Companies}} {
		v.objectMapping("mapping."+kind.name, kind.name, kind.m)
	}
	u, co := c.Mapping.Users, c.Mapping.Companies
	if u.IsEnabled() && co.IsEnabled() && u.HubSpotObject != "" && canonicalObject(u.HubSpotObject) == canonicalObject(co.HubSpotObject) {
		v.add("mapping.companies.hubspot_object", "users and companies both map to HubSpot %s: each needs its own object", co.HubSpotObject)
	}
}

// canonicalObject maps object type ids of standard objects to their names.
func canonicalObject(t string) string {
	if std, ok := standardObjects[t]; ok {
		return std
	}
	return t
}

func (v *validator) objectMapping(prefix, kind string, m *ObjectMapping) {
	obj := m.HubSpotObject
	if _, ok := standardObjects[obj]; !ok && !IsCustomObject(obj) {
		v.add(prefix+".hubspot_object", "%q is not a HubSpot object type: want contacts, companies, deals, tickets, a custom object type id such as 2-1234567, or a name such as p_projects%s",
			obj, didYouMean(obj, []string{"contacts", "companies", "deals", "tickets"}))
	}

	// Match.
	mu := m.Match.Userpilot
	switch {
	case kind == "users" && mu == "company_id":
		v.add(prefix+".match.userpilot", "users cannot be matched by company_id: use email, user_id or a user property")
	case kind == "companies" && mu == "user_id":
		v.add(prefix+".match.userpilot", "companies cannot be matched by user_id: use company_id or a company property")
	default:
		v.userpilotProperty(prefix+".match.userpilot", mu)
	}
	if m.Match.HubSpot == "" {
		if m.IsEnabled() {
			v.add(prefix+".match.hubspot", "required: name a HubSpot property with unique values that holds the Userpilot %s (or set %s.enabled: false)", mu, prefix)
		}
	} else {
		v.property(prefix+".match.hubspot", m.Match.HubSpot)
	}
	if v.set(prefix+".match.additional_emails") && *m.Match.AdditionalEmails && m.Match.HubSpot != "email" {
		v.add(prefix+".match.additional_emails", "only applies when match.hubspot is email")
	}

	// Inbound: HubSpot -> Userpilot. Each Userpilot property can have one source.
	seenPair := map[PropertyMapping]string{}
	target := map[string]string{}
	for i, pm := range m.Inbound {
		f := fmt.Sprintf("%s.inbound[%d]", prefix, i)
		okH := v.property(f+".hubspot", pm.HubSpot)
		okU := v.userpilotProperty(f+".userpilot", pm.Userpilot)
		if pm.Type != "" {
			v.add(f+".type", "type applies to outbound mappings only")
		}
		if !okH || !okU {
			continue
		}
		if first, dup := seenPair[pm]; dup {
			v.add(f, "duplicate mapping %s -> %s (also on line %d)", pm.HubSpot, pm.Userpilot, v.cfg.Line(first))
			continue
		}
		seenPair[pm] = f
		if first, dup := target[pm.Userpilot]; dup {
			v.add(f+".userpilot", "Userpilot property %q is already written from HubSpot %q (line %d)", pm.Userpilot, m.Inbound[indexOf(first)].HubSpot, v.cfg.Line(first))
			continue
		}
		target[pm.Userpilot] = f
	}

	// Outbound and measured: Userpilot -> HubSpot. Each HubSpot property can have
	// one source.
	seenPair = map[PropertyMapping]string{}
	hsTarget := map[string]string{}
	claim := func(field, prop string) {
		if first, dup := hsTarget[prop]; dup {
			v.add(field, "HubSpot property %q is already a target (line %d): each HubSpot property can be written by one mapping", prop, v.cfg.Line(first))
			return
		}
		hsTarget[prop] = field
	}
	for i, pm := range m.Outbound {
		f := fmt.Sprintf("%s.outbound[%d]", prefix, i)
		okH := v.property(f+".hubspot", pm.HubSpot)
		okU := v.userpilotProperty(f+".userpilot", pm.Userpilot)
		if pm.Type != "" {
			v.enum(f+".type", "PropertyMapping.type", pm.Type)
		}
		if !okH || !okU {
			continue
		}
		if first, dup := seenPair[pm]; dup {
			v.add(f, "duplicate mapping %s -> %s (also on line %d)", pm.Userpilot, pm.HubSpot, v.cfg.Line(first))
			continue
		}
		seenPair[pm] = f
		claim(f+".hubspot", pm.HubSpot)
	}
	for i, mm := range m.Measured {
		f := fmt.Sprintf("%s.measured[%d]", prefix, i)
		if mm.Metric == "" {
			v.add(f+".metric", "a metric is required: one of %s", strings.Join(enums["MeasuredMapping.metric"], ", "))
		} else {
			v.enum(f+".metric", "MeasuredMapping.metric", mm.Metric)
		}
		if v.property(f+".hubspot", mm.HubSpot) {
			claim(f+".hubspot", mm.HubSpot)
		}
	}
}

// indexOf extracts the list index from a path ending in "[i]".
func indexOf(p string) int {
	var i int
	if j := strings.LastIndex(p, "["); j >= 0 {
		fmt.Sscanf(p[j:], "[%d]", &i)
	}
	return i
}

func (v *validator) measured() {
	m := v.cfg.Measured
	if m.PeriodDays < 1 || m.PeriodDays > MaxPeriodDays {
		v.add("measured.period_days", "%d is out of range: want 1 to %d", m.PeriodDays, MaxPeriodDays)
	}
	v.duration("measured.session_timeout", m.SessionTimeout, time.Minute, 24*time.Hour)
}

func (v *validator) activity() {
	a := v.cfg.Activity
	v.enum("activity.sink", "Activity.sink", a.Sink)
	if !statusNameRE.MatchString(a.EventNamePrefix) || len(a.EventNamePrefix) > maxEventNamePrefix {
		v.add("activity.event_name_prefix", "%q is not a valid event name prefix: want lower-case letters, digits and underscores, starting with a letter, at most %d characters", a.EventNamePrefix, maxEventNamePrefix)
	}
	v.duration("activity.unmatched_grace", a.UnmatchedGrace, 0, maxUnmatchedGrace)

	// Sink and object compatibility: activity goes to the users' HubSpot object.
	users := v.cfg.Mapping.Users
	switch {
	case a.Sink == SinkNone || !slices.Contains(enums["Activity.sink"], a.Sink):
	case !users.IsEnabled():
		v.add("activity.sink", "%s needs mapping.users enabled: activity is sent to the users' HubSpot object (or set activity.sink: none)", a.Sink)
	case !sinkAccepts(a.Sink, users.HubSpotObject) && (IsCustomObject(users.HubSpotObject)):
		v.add("activity.sink", "%s events can only be attached to contacts, companies, deals or tickets, but users map to the custom object %q (mapping.users.hubspot_object): use sink custom_events or none", sinkLabel(a.Sink), users.HubSpotObject)
	}
	if (a.Sink == SinkTimeline || a.Sink == SinkAppEvents) && v.cfg.HubSpot.Auth != AuthOAuth {
		v.add("activity.sink", "%s events need an OAuth app installation (private apps and service keys cannot send them): set hubspot.auth: oauth or use sink custom_events", sinkLabel(a.Sink))
	}

	// Rules first: they can add statuses the category filters may name.
	type ruleKey struct{ eventType, entityType, status string }
	seenRule := map[ruleKey]string{}
	for i, r := range a.Rules {
		f := fmt.Sprintf("activity.rules[%d]", i)
		if r.EventType == "" {
			v.add(f+".event_type", "required: one of %s", strings.Join(enums["ClassifyRule.event_type"], ", "))
		} else {
			v.enum(f+".event_type", "ClassifyRule.event_type", r.EventType)
		}
		if r.EntityType != "" && r.EventType != "" && r.EventType != "interaction" {
			v.add(f+".entity_type", "only interaction events have an entity type")
		}
		if r.Category == "" {
			v.add(f+".category", "required: one of %s", strings.Join(Categories(), ", "))
		} else {
			v.enum(f+".category", "ClassifyRule.category", r.Category)
		}
		if r.AsStatus != "" && !statusNameRE.MatchString(r.AsStatus) {
			v.add(f+".as_status", "%q is not a valid status: want lower-case letters, digits and underscores", r.AsStatus)
		}
		if r.AsStatus == "" && r.Status != "" && !statusNameRE.MatchString(strings.ToLower(r.Status)) {
			v.add(f+".status", "%q cannot be sent as a status: set as_status", r.Status)
		}
		k := ruleKey{r.EventType, strings.ToLower(r.EntityType), strings.ToUpper(r.Status)}
		if first, dup := seenRule[k]; dup {
			v.add(f, "duplicate rule: line %d already classifies this event_type, entity_type and status", v.cfg.Line(first))
		} else {
			seenRule[k] = f
		}
	}

	seenCat := map[string]string{}
	for i, cf := range a.Categories {
		f := fmt.Sprintf("activity.categories[%d]", i)
		if cf.Name == "" {
			v.add(f+".name", "required: one of %s", strings.Join(Categories(), ", "))
			continue
		}
		if !slices.Contains(Categories(), cf.Name) {
			v.enum(f+".name", "CategoryFilter.name", cf.Name)
			continue
		}
		if first, dup := seenCat[cf.Name]; dup {
			v.add(f+".name", "category %s is already listed on line %d", cf.Name, v.cfg.Line(first))
			continue
		}
		seenCat[cf.Name] = f
		allowed, open := a.Statuses(cf.Name)
		seenStatus := map[string]bool{}
		for j, s := range cf.Statuses {
			sf := fmt.Sprintf("%s.statuses[%d]", f, j)
			switch {
			case seenStatus[s]:
				v.add(sf, "status %s is listed twice", s)
			case open && statusNameRE.MatchString(s):
			case !slices.Contains(allowed, s):
				v.add(sf, "%q is not a status of %s: want %s%s", s, cf.Name, strings.Join(allowed, ", "), didYouMean(s, allowed))
			}
			seenStatus[s] = true
		}
		if cf.Name == CategoryTaggedPages && len(a.Pages) == 0 {
			v.add(f+".name", "tagged_pages needs at least one rule in activity.pages")
		}
	}

	seenPage := map[string]string{}
	for i, p := range a.Pages {
		f := fmt.Sprintf("activity.pages[%d]", i)
		if p.Name == "" {
			v.add(f+".name", "required: the name HubSpot sees for this page")
		} else if first, dup := seenPage[p.Name]; dup {
			v.add(f+".name", "page name %q is already used on line %d", p.Name, v.cfg.Line(first))
		} else {
			seenPage[p.Name] = f
		}
		if p.Host != "" && !hostRE.MatchString(p.Host) {
			v.add(f+".host", "%q is not a host name (write app.example.com, without scheme or path)", p.Host)
		}
		if !strings.HasPrefix(p.Path, "/") {
			v.add(f+".path", "want a path pattern starting with /, such as /settings/*, got %q", p.Path)
		} else if _, err := path.Match(p.Path, ""); err != nil {
			v.add(f+".path", "%q is not a valid path.Match pattern: %v", p.Path, err)
		}
	}

	for _, tf := range targetFields {
		v.targetIDs(tf)
	}
}

func sinkLabel(sink string) string {
	switch sink {
	case SinkTimeline:
		return "timeline"
	case SinkAppEvents:
		return "app"
	}
	return "custom"
}

// targetField is an activity field mapping "<category>_<status>" to the ids a
// sink addresses HubSpot by (https://developers.hubspot.com/docs/api/crm/timeline,
// https://developers.hubspot.com/docs/apps/developer-platform/add-features/app-events/overview).
type targetField struct {
	sink string                           // the only sink that uses the field
	key  string                           // yaml key under activity
	noun string                           // what an id is, for messages
	ids  func(Activity) map[string]string // the field's value
}

// targetFields are the sinks whose events need an id per category and status.
var targetFields = []targetField{
	{SinkTimeline, "timeline_templates", "template id", func(a Activity) map[string]string { return a.TimelineTemplates }},
	{SinkAppEvents, "app_event_types", "event type name", func(a Activity) map[string]string { return a.AppEventTypes }},
}

// targetIDs checks that tf is set only with its sink, that it then has an id
// for every category and status that sink can send, and that its keys name
// real pairs: an event without an id would be dropped at run time.
func (v *validator) targetIDs(tf targetField) {
	a := v.cfg.Activity
	ids := tf.ids(a)
	field := "activity." + tf.key
	if a.Sink != tf.sink {
		if len(ids) > 0 {
			v.add(field, "only used with activity.sink: %s (sink is %s)", tf.sink, a.Sink)
		}
		return
	}
	wanted, open := sentPairs(a)
	var keys []string
	for k := range ids {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f := field + "." + k
		if strings.TrimSpace(ids[k]) == "" {
			v.add(f, "%s is empty", tf.noun)
		}
		if wanted[k] {
			continue
		}
		if i := slices.IndexFunc(Categories(), func(c string) bool { return strings.HasPrefix(k, c+"_") && open[c] }); i >= 0 {
			continue
		}
		v.add(f, "%q is not a <category>_<status> that is sent%s", k, didYouMean(k, mapKeys(wanted)))
	}
	var missing []string
	for k := range wanted {
		if _, ok := ids[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		v.add(field, "sink %s needs %s %s for every category and status sent; missing: %s", tf.sink, article(tf.noun), tf.noun, strings.Join(missing, ", "))
	}
}

// sentPairs returns the TargetKeys of the categories and statuses a sends, and
// the categories whose statuses are open (a rule passes any status through).
func sentPairs(a Activity) (wanted, open map[string]bool) {
	wanted, open = map[string]bool{}, map[string]bool{}
	for _, cat := range Categories() {
		statuses, isOpen := a.Statuses(cat)
		if len(a.Categories) > 0 {
			i := slices.IndexFunc(a.Categories, func(cf CategoryFilter) bool { return cf.Name == cat })
			if i < 0 {
				continue
			}
			if len(a.Categories[i].Statuses) > 0 {
				statuses, isOpen = a.Categories[i].Statuses, false
			}
		} else if cat == CategoryTaggedPages && len(a.Pages) == 0 {
			continue
		}
		open[cat] = isOpen
		for _, s := range statuses {
			wanted[TargetKey(cat, s)] = true
		}
	}
	return wanted, open
}

func article(noun string) string {
	if strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an"
	}
	return "a"
}

func mapKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func (v *validator) notifications() {
	n := v.cfg.Notifications
	seen := map[string]bool{}
	for i, r := range n.Recipients {
		f := fmt.Sprintf("notifications.recipients[%d]", i)
		a, err := mail.ParseAddress(r)
		switch {
		case err != nil:
			v.add(f, "%q is not an email address", r)
		case seen[strings.ToLower(a.Address)]:
			v.add(f, "%q is listed twice", r)
		default:
			seen[strings.ToLower(a.Address)] = true
		}
	}
	if n.Sender == "" {
		if len(n.Recipients) > 0 {
			v.add("notifications.sender", "required when recipients are set: a verified SES identity to send from")
		}
	} else if _, err := mail.ParseAddress(n.Sender); err != nil {
		v.add("notifications.sender", "%q is not an email address", n.Sender)
	}
	v.duration("notifications.repeat_after", n.RepeatAfter, time.Minute, 0)
}

func (v *validator) schedule() {
	s := v.cfg.Schedule
	v.duration("schedule.poll_every", s.PollEvery, minPollEvery, 24*time.Hour)
	if !dailyAtRE.MatchString(s.DailyAt) {
		v.add("schedule.daily_at", "want a UTC time of day as HH:MM (00:00 to 23:59), got %q", s.DailyAt)
	}
	v.duration("schedule.search_overlap", s.SearchOverlap, 0, maxSearchOverlap)
}

package activity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/pilotsync/pilotsync/shared/config"
)

// Category is an activity category pilotsync forwards (README "Activity categories and statuses").
type Category string

// The activity categories.
const (
	FeatureTags   Category = "feature_tags"
	TrackedEvents Category = "tracked_events"
	LabeledEvents Category = "labeled_events"
	TaggedPages   Category = "tagged_pages"
	Checklists    Category = "checklists"
	Flows         Category = "flows"
	MobileContent Category = "mobile_content"
	NPS           Category = "nps"
	Surveys       Category = "surveys"
	Forms         Category = "forms"
)

// Categories lists every category, in the order of the README table.
var Categories = []Category{FeatureTags, TrackedEvents, LabeledEvents, TaggedPages, Checklists, Flows, MobileContent, NPS, Surveys, Forms}

// singular is the category's word in event names (userpilot_flow_completed).
var singular = map[Category]string{
	FeatureTags: "feature_tag", TrackedEvents: "tracked_event", LabeledEvents: "labeled_event",
	TaggedPages: "tagged_page", Checklists: "checklist", Flows: "flow", MobileContent: "mobile_content",
	NPS: "nps", Surveys: "survey", Forms: "form",
}

// Entity types the classifier derives for events that carry none in their name.
const (
	// EntityLabeled marks a track event whose metadata has "labeled": true: the
	// envelope has no other sign of a labeled (no-code) event. Unconfirmed.
	EntityLabeled = "labeled"
	// EntityTaggedPage marks a page_view that matched a configured page rule.
	EntityTaggedPage = "tagged_page"
)

// AnyStatus in a rule's Status matches every status; the event's own status,
// lower-cased, is then sent unless the rule sets AsStatus.
const AnyStatus = "*"

// DefaultRules is the built-in classification table: (event_type, entity_type,
// status) → (category, status sent). Statuses match case-insensitively. Config
// rules (config.Activity.Rules) with the same key replace a default; others add
// to it. Entity types and statuses not in the table are counted and reported.
var DefaultRules = []config.ClassifyRule{
	{EventType: TypeTrackFeature, Status: AnyStatus, Category: string(FeatureTags), AsStatus: "occurred"},
	{EventType: TypeTrack, Status: AnyStatus, Category: string(TrackedEvents), AsStatus: "occurred"},
	{EventType: TypeTrack, EntityType: EntityLabeled, Status: AnyStatus, Category: string(LabeledEvents), AsStatus: "occurred"},
	{EventType: TypePageView, EntityType: EntityTaggedPage, Status: AnyStatus, Category: string(TaggedPages), AsStatus: "viewed"},

	{EventType: TypeInteraction, EntityType: "checklist", Status: "SEEN", Category: string(Checklists)},
	{EventType: TypeInteraction, EntityType: "checklist", Status: "COMPLETED", Category: string(Checklists)},
	{EventType: TypeInteraction, EntityType: "checklist", Status: "DISMISSED", Category: string(Checklists)},

	{EventType: TypeInteraction, EntityType: "experience", Status: "SEEN", Category: string(Flows)},
	{EventType: TypeInteraction, EntityType: "experience", Status: "COMPLETED", Category: string(Flows)},
	{EventType: TypeInteraction, EntityType: "experience", Status: "DISMISSED", Category: string(Flows)},
	{EventType: TypeInteraction, EntityType: "flow", Status: "SEEN", Category: string(Flows)},
	{EventType: TypeInteraction, EntityType: "flow", Status: "COMPLETED", Category: string(Flows)},
	{EventType: TypeInteraction, EntityType: "flow", Status: "DISMISSED", Category: string(Flows)},

	{EventType: TypeInteraction, EntityType: "mobile", Status: "SEEN", Category: string(MobileContent)},
	{EventType: TypeInteraction, EntityType: "mobile", Status: "COMPLETED", Category: string(MobileContent)},
	{EventType: TypeInteraction, EntityType: "mobile", Status: "DISMISSED", Category: string(MobileContent)},
	{EventType: TypeInteraction, EntityType: "mobile_experience", Status: "SEEN", Category: string(MobileContent)},
	{EventType: TypeInteraction, EntityType: "mobile_experience", Status: "COMPLETED", Category: string(MobileContent)},
	{EventType: TypeInteraction, EntityType: "mobile_experience", Status: "DISMISSED", Category: string(MobileContent)},

	{EventType: TypeInteraction, EntityType: "nps", Status: "ASK_LATER", Category: string(NPS), AsStatus: "ask_later"},
	{EventType: TypeInteraction, EntityType: "nps", Status: "ASKLATER", Category: string(NPS), AsStatus: "ask_later"},
	{EventType: TypeInteraction, EntityType: "nps", Status: "FEEDBACK", Category: string(NPS)},
	// What Userpilot's SDKs emit for NPS and surveys besides the above
	// (inferred, like most of this table: README "Activity categories").
	{EventType: TypeInteraction, EntityType: "nps", Status: "STARTED", Category: string(NPS)},
	{EventType: TypeInteraction, EntityType: "nps", Status: "SKIPPED", Category: string(NPS)},
	{EventType: TypeInteraction, EntityType: "nps", Status: "SUBMITTED", Category: string(NPS)},

	{EventType: TypeInteraction, EntityType: "survey", Status: "SEEN", Category: string(Surveys)},
	{EventType: TypeInteraction, EntityType: "survey", Status: "STARTED", Category: string(Surveys)},
	{EventType: TypeInteraction, EntityType: "survey", Status: "SKIPPED", Category: string(Surveys)},
	{EventType: TypeInteraction, EntityType: "survey", Status: "SUBMITTED", Category: string(Surveys)},
	{EventType: TypeInteraction, EntityType: "survey", Status: "DISMISSED", Category: string(Surveys)},

	{EventType: TypeInteraction, EntityType: "form", Status: "SUBMITTED", Category: string(Forms)},
}

// Kind says what the forwarder does with an event.
type Kind int

// Event kinds.
const (
	// KindIdentify: identify_user / identify_company, which update profiles.
	KindIdentify Kind = iota
	// KindActivity: an event of a forwarded category.
	KindActivity
	// KindOther: counted in the daily aggregates only (session_start, untagged
	// page views, and unclassified events).
	KindOther
)

// Unknown reasons, set on Class.Unknown when the table has no entry.
const (
	// UnknownEventType: an event_type Userpilot does not document.
	UnknownEventType  = "event_type"
	UnknownEntityType = "entity_type"
	UnknownStatus     = "status"
)

// Class is the classification of one event.
type Class struct {
	Kind     Kind
	Category Category
	// Status is the status sent to HubSpot, normalized (lower case, "_" for
	// separators), e.g. "completed", "ask_later".
	Status     string
	EntityType string
	EntityID   string
	// RawStatus is the status as the event wrote it.
	RawStatus string
	// Page is the matched page rule's name (tagged pages).
	Page string
	// Unknown is UnknownEntityType or UnknownStatus when the table had no entry;
	// the event is then KindOther.
	Unknown string
}

// Key is "<entity_type>:<status>" for reports of unknown classifications,
// each part through SafeName (they are the producer's words).
func (c Class) Key() string {
	return safeOrEmpty(c.EntityType) + ":" + safeOrEmpty(c.RawStatus)
}

// UnclassifiedKey is the key an unclassified event is counted under in
// reports and run records: "<event_type>/<entity_type>:<status>", every
// part through SafeName.
func UnclassifiedKey(e *Event, c Class) string { return safeOrEmpty(e.Type) + "/" + c.Key() }

func safeOrEmpty(s string) string {
	if s == "" {
		return ""
	}
	return SafeName(s)
}

type ruleKey struct{ eventType, entityType, status string }

type ruleTarget struct {
	category Category
	asStatus string
}

// Classifier classifies events through the table. It is immutable and safe for
// concurrent use.
type Classifier struct {
	rules    map[ruleKey]ruleTarget
	entities map[[2]string]bool // (event_type, entity_type) pairs the table knows
	pages    []config.PageRule
	prefix   string
	filter   map[Category]map[string]bool // nil = everything; empty inner = all statuses
}

// NewClassifier builds a classifier from the default table and the activity
// config. It reports every bad rule, page rule and category filter at once.
func NewClassifier(cfg config.Activity) (*Classifier, error) {
	c := &Classifier{rules: map[ruleKey]ruleTarget{}, entities: map[[2]string]bool{}, pages: cfg.Pages, prefix: cfg.EventNamePrefix}
	if c.prefix == "" {
		c.prefix = DefaultEventNamePrefix
	}
	var problems []string
	known := map[Category]bool{}
	for _, cat := range Categories {
		known[cat] = true
	}
	add := func(r config.ClassifyRule, where string) {
		cat := Category(r.Category)
		switch {
		case !knownTypes[r.EventType]:
			problems = append(problems, where+": unknown event_type")
			return
		case !known[cat]:
			problems = append(problems, where+": unknown category")
			return
		}
		status := strings.ToUpper(strings.TrimSpace(r.Status))
		if status == "" {
			status = AnyStatus
		}
		as := NormalizeStatus(r.AsStatus)
		if as == "" && status == AnyStatus && r.EventType != TypeInteraction {
			problems = append(problems, where+": as_status is required when status is any")
			return
		}
		c.rules[ruleKey{r.EventType, r.EntityType, status}] = ruleTarget{category: cat, asStatus: as}
		c.entities[[2]string{r.EventType, r.EntityType}] = true
	}
	for i, r := range DefaultRules {
		add(r, fmt.Sprintf("default rule %d", i))
	}
	for i, r := range cfg.Rules {
		add(r, fmt.Sprintf("activity.rules[%d]", i))
	}
	for i, p := range cfg.Pages {
		if _, err := path.Match(p.Path, "/"); err != nil || p.Path == "" {
			problems = append(problems, fmt.Sprintf("activity.pages[%d]: path is not a valid pattern", i))
		}
	}
	if len(cfg.Categories) > 0 {
		c.filter = map[Category]map[string]bool{}
		for i, f := range cfg.Categories {
			cat := Category(f.Name)
			if !known[cat] {
				problems = append(problems, fmt.Sprintf("activity.categories[%d]: unknown category", i))
				continue
			}
			st := c.filter[cat]
			if st == nil {
				st = map[string]bool{}
				c.filter[cat] = st
			}
			for _, s := range f.Statuses {
				st[NormalizeStatus(s)] = true
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("activity: classification config: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

// NormalizeStatus lower-cases s and turns spaces and hyphens into underscores
// ("ask later" → "ask_later").
func NormalizeStatus(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			return r
		}
		return '_'
	}, s)
}

// Classify returns e's class. Identify events are KindIdentify; events the
// table does not know are KindOther with Unknown set.
func (c *Classifier) Classify(e *Event) Class {
	switch e.Type {
	case TypeIdentifyUser, TypeIdentifyCompany:
		return Class{Kind: KindIdentify}
	case TypeSessionStart:
		return Class{Kind: KindOther}
	}
	if !e.KnownType() {
		return Class{Kind: KindOther, Unknown: UnknownEventType}
	}
	var cl Class
	switch e.Type {
	case TypeInteraction:
		et, id, st, ok := splitInteraction(e.Name)
		if !ok {
			return Class{Kind: KindOther, Unknown: UnknownEntityType}
		}
		cl = Class{EntityType: et, EntityID: id, RawStatus: st}
	case TypeTrack:
		if labeled(e.Metadata) {
			cl.EntityType = EntityLabeled
		}
		cl.EntityID = e.Name
	case TypeTrackFeature:
		cl.EntityID = e.Name
	case TypePageView:
		name, ok := c.matchPage(e.Hostname, e.Pathname)
		if !ok {
			return Class{Kind: KindOther}
		}
		cl.EntityType, cl.Page = EntityTaggedPage, name
	}
	if !c.entities[[2]string{e.Type, cl.EntityType}] {
		cl.Kind, cl.Unknown = KindOther, UnknownEntityType
		return cl
	}
	upper := strings.ToUpper(cl.RawStatus)
	t, ok := c.rules[ruleKey{e.Type, cl.EntityType, upper}]
	if !ok {
		t, ok = c.rules[ruleKey{e.Type, cl.EntityType, AnyStatus}]
	}
	if !ok {
		cl.Kind, cl.Unknown = KindOther, UnknownStatus
		return cl
	}
	cl.Kind, cl.Category, cl.Status = KindActivity, t.category, t.asStatus
	if cl.Status == "" {
		cl.Status = NormalizeStatus(cl.RawStatus)
	}
	return cl
}

// labeled reports whether track metadata carries "labeled": true.
func labeled(meta json.RawMessage) bool {
	if !bytes.Contains(meta, []byte(`"labeled"`)) {
		return false
	}
	var m struct {
		Labeled bool `json:"labeled"`
	}
	return json.Unmarshal(meta, &m) == nil && m.Labeled
}

// matchPage returns the first page rule whose host (exact, case-insensitive;
// empty = any) and path pattern match.
func (c *Classifier) matchPage(host, p string) (string, bool) {
	for _, r := range c.pages {
		if r.Host != "" && !strings.EqualFold(r.Host, host) {
			continue
		}
		if ok, _ := path.Match(r.Path, p); ok {
			name := r.Name
			if name == "" {
				name = r.Path
			}
			return name, true
		}
	}
	return "", false
}

// Enabled reports whether the config forwards cat with status.
func (c *Classifier) Enabled(cat Category, status string) bool {
	if c.filter == nil {
		return true
	}
	st, ok := c.filter[cat]
	if !ok {
		return false
	}
	return len(st) == 0 || st[status]
}

// EventName is the event definition name for p with this classifier's prefix.
func (c *Classifier) EventName(p Pair) string { return EventName(c.prefix, p.Category, p.Status) }

// Pair is one category and status: one HubSpot event definition.
type Pair struct {
	Category Category
	Status   string
}

// Pairs lists every enabled (category, status) the table can produce, sorted.
// Rules matching any status contribute their AsStatus.
func (c *Classifier) Pairs() []Pair {
	seen := map[Pair]bool{}
	for k, t := range c.rules {
		st := t.asStatus
		if st == "" {
			if k.status == AnyStatus {
				continue // status comes from the event: no fixed definition
			}
			st = NormalizeStatus(k.status)
		}
		p := Pair{t.category, st}
		if c.Enabled(p.Category, p.Status) {
			seen[p] = true
		}
	}
	out := make([]Pair, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Pair) int {
		if a.Category != b.Category {
			return strings.Compare(string(a.Category), string(b.Category))
		}
		return strings.Compare(a.Status, b.Status)
	})
	return out
}

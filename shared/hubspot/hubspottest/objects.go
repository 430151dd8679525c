package hubspottest

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Property is a HubSpot property definition.
type Property struct {
	Name           string
	Label          string
	Type           string // bool date datetime enumeration number phone_number string
	FieldType      string // text, textarea, number, date, booleancheckbox, select, checkbox, radio, phonenumber, calculation_equation
	GroupName      string
	Description    string
	Options        []PropertyOption
	HasUniqueValue bool
	Calculated     bool
	ReadOnlyValue  bool
	HubSpotDefined bool
}

// PropertyOption is one option of an enumeration property.
type PropertyOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

// PropertyGroup is a property group.
type PropertyGroup struct {
	Name         string `json:"name"`
	Label        string `json:"label"`
	DisplayOrder int    `json:"displayOrder"`
	Archived     bool   `json:"archived"`
}

// Record is a stored CRM record as tests see it.
type Record struct {
	ID         string
	Properties map[string]string // unset properties are absent
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Archived   bool
}

// SeedRecord describes a record to add with AddRecords or SeedContacts.
type SeedRecord struct {
	// ID is the numeric record id; "" assigns the next one.
	ID         string
	Properties map[string]string
	// ModifiedAt sets the last-modified time (default: now); CreatedAt defaults to ModifiedAt.
	ModifiedAt time.Time
	CreatedAt  time.Time
	Archived   bool
}

// objectStore holds one object type.
type objectStore struct {
	name         string // "contacts"
	typeID       string // "0-1"
	eventName    string // CONTACT, COMPANY, ... (custom event primaryObject)
	lastModProp  string
	defaultProps []string
	props        map[string]*Property
	propOrder    []string
	groups       map[string]*PropertyGroup
	groupOrder   []string
	recs         map[string]*record
	order        []*record // insertion order (ids ascending)
	byEmail      map[string]*record
	// gen counts writes; visibleAllAt is when every write so far is visible to
	// search. Together they say when a cached search result is still exact.
	gen          uint64
	visibleAllAt time.Time
	searchCache  map[string]*cachedSearch
	dateValues   string // Options.DateValues
}

// record is one stored record. props maps are never changed in place, so
// search snapshots can share them.
type record struct {
	id         string
	num        int64
	props      map[string]string
	created    time.Time
	updated    time.Time
	archived   bool
	mergedInto string
	vis        []snapshot // search-visible states, ascending by at
}

// snapshot is the state search sees from at onwards.
type snapshot struct {
	at      time.Time
	props   map[string]string
	updated time.Time
	hidden  bool // archived or merged away
}

const (
	propObjectID   = "hs_object_id"
	propCreateDate = "createdate"
	propMergedIDs  = "hs_merged_object_ids"
	propAddEmails  = "hs_additional_emails"
	propEmail      = "email"
)

func (s *Server) seedDefaultTypes() {
	lifecycle := []PropertyOption{}
	for i, v := range []string{"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "evangelist", "other"} {
		lifecycle = append(lifecycle, PropertyOption{Label: v, Value: v, DisplayOrder: i})
	}
	industry := []PropertyOption{}
	for i, v := range []string{"COMPUTER_SOFTWARE", "INFORMATION_TECHNOLOGY_AND_SERVICES", "FINANCIAL_SERVICES", "MARKETING_AND_ADVERTISING", "HOSPITAL_HEALTH_CARE", "RETAIL", "EDUCATION_MANAGEMENT"} {
		industry = append(industry, PropertyOption{Label: v, Value: v, DisplayOrder: i})
	}
	sys := func(lastMod string) []Property {
		return []Property{
			{Name: propObjectID, Label: "Record ID", Type: "number", FieldType: "number", ReadOnlyValue: true},
			{Name: propCreateDate, Label: "Create Date", Type: "datetime", FieldType: "date", ReadOnlyValue: true},
			{Name: lastMod, Label: "Last Modified Date", Type: "datetime", FieldType: "date", ReadOnlyValue: true},
			{Name: propMergedIDs, Label: "Merged record IDs", Type: "enumeration", FieldType: "checkbox", ReadOnlyValue: true},
			{Name: "num_associated_deals", Label: "Number of Associated Deals", Type: "number", FieldType: "number", Calculated: true, ReadOnlyValue: true},
		}
	}
	contacts := s.addType("contacts", "0-1", "CONTACT", "lastmodifieddate", "contactinformation", "Contact information",
		[]string{propCreateDate, propEmail, "firstname", propObjectID, "lastmodifieddate", "lastname"})
	for _, p := range append(sys("lastmodifieddate"), []Property{
		{Name: propEmail, Label: "Email", Type: "string", FieldType: "text"},
		{Name: "firstname", Label: "First Name", Type: "string", FieldType: "text"},
		{Name: "lastname", Label: "Last Name", Type: "string", FieldType: "text"},
		{Name: "company", Label: "Company Name", Type: "string", FieldType: "text"},
		{Name: "phone", Label: "Phone Number", Type: "string", FieldType: "phonenumber"},
		{Name: "lifecyclestage", Label: "Lifecycle Stage", Type: "enumeration", FieldType: "radio", Options: lifecycle},
		{Name: propAddEmails, Label: "Additional email addresses", Type: "enumeration", FieldType: "checkbox", ReadOnlyValue: true},
	}...) {
		p.HubSpotDefined = true
		contacts.addProperty(p)
	}
	companies := s.addType("companies", "0-2", "COMPANY", "hs_lastmodifieddate", "companyinformation", "Company information",
		[]string{propCreateDate, "domain", "hs_lastmodifieddate", propObjectID, "name"})
	for _, p := range append(sys("hs_lastmodifieddate"), []Property{
		{Name: "name", Label: "Company name", Type: "string", FieldType: "text"},
		{Name: "domain", Label: "Company Domain Name", Type: "string", FieldType: "text"},
		{Name: "industry", Label: "Industry", Type: "enumeration", FieldType: "select", Options: industry},
		{Name: "numberofemployees", Label: "Number of Employees", Type: "number", FieldType: "number"},
		{Name: "phone", Label: "Phone Number", Type: "string", FieldType: "phonenumber"},
		{Name: "lifecyclestage", Label: "Lifecycle Stage", Type: "enumeration", FieldType: "radio", Options: lifecycle},
	}...) {
		p.HubSpotDefined = true
		companies.addProperty(p)
	}
	deals := s.addType("deals", "0-3", "DEAL", "hs_lastmodifieddate", "dealinformation", "Deal information",
		[]string{propCreateDate, "dealname", "hs_lastmodifieddate", propObjectID})
	tickets := s.addType("tickets", "0-5", "TICKET", "hs_lastmodifieddate", "ticketinformation", "Ticket information",
		[]string{propCreateDate, "subject", "hs_lastmodifieddate", propObjectID})
	for _, p := range sys("hs_lastmodifieddate") {
		p.HubSpotDefined = true
		deals.addProperty(p)
		tickets.addProperty(p)
	}
	deals.addProperty(Property{Name: "dealname", Label: "Deal Name", Type: "string", FieldType: "text", HubSpotDefined: true})
	tickets.addProperty(Property{Name: "subject", Label: "Ticket name", Type: "string", FieldType: "text", HubSpotDefined: true})
}

// addType registers an object type (caller holds mu or is in New).
func (s *Server) addType(name, typeID, eventName, lastMod, group, groupLabel string, defaults []string) *objectStore {
	o := &objectStore{name: name, typeID: typeID, eventName: eventName, lastModProp: lastMod, defaultProps: defaults,
		props: map[string]*Property{}, groups: map[string]*PropertyGroup{}, recs: map[string]*record{}, byEmail: map[string]*record{},
		dateValues: s.opts.DateValues}
	o.groups[group] = &PropertyGroup{Name: group, Label: groupLabel}
	o.groupOrder = append(o.groupOrder, group)
	s.types[name] = o
	s.typeOrder = append(s.typeOrder, name)
	return o
}

func (o *objectStore) addProperty(p Property) {
	if p.GroupName == "" {
		p.GroupName = o.groupOrder[0]
	}
	if p.Label == "" {
		p.Label = p.Name
	}
	if _, ok := o.props[p.Name]; !ok {
		o.propOrder = append(o.propOrder, p.Name)
	}
	o.props[p.Name] = &p
}

// lookupType finds an object type by name ("contacts") or type id ("0-1"); caller holds mu.
func (s *Server) lookupType(name string) *objectStore {
	if o, ok := s.types[name]; ok {
		return o
	}
	for _, o := range s.types {
		if o.typeID == name || strings.EqualFold(o.eventName, name) {
			return o
		}
	}
	return nil
}

// ensureType returns an object type, creating a custom one (caller holds mu).
func (s *Server) ensureType(name string) *objectStore {
	if o := s.lookupType(name); o != nil {
		return o
	}
	o := s.addType(name, name, strings.ToUpper(name), "hs_lastmodifieddate", name+"information", name+" information",
		[]string{propCreateDate, "hs_lastmodifieddate", propObjectID})
	o.addProperty(Property{Name: propObjectID, Label: "Record ID", Type: "number", FieldType: "number", ReadOnlyValue: true, HubSpotDefined: true})
	o.addProperty(Property{Name: propCreateDate, Label: "Create Date", Type: "datetime", FieldType: "date", ReadOnlyValue: true, HubSpotDefined: true})
	o.addProperty(Property{Name: "hs_lastmodifieddate", Label: "Last Modified Date", Type: "datetime", FieldType: "date", ReadOnlyValue: true, HubSpotDefined: true})
	o.addProperty(Property{Name: propMergedIDs, Label: "Merged record IDs", Type: "enumeration", FieldType: "checkbox", ReadOnlyValue: true, HubSpotDefined: true})
	return o
}

// AddObjectType registers a custom object type by name and type id (e.g. "2-1234").
func (s *Server) AddObjectType(name, typeID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ensureType(name)
	o.typeID = typeID
}

// CreateProperty adds or replaces a property definition (no validation), creating
// its object type and group when needed.
func (s *Server) CreateProperty(objType string, p Property) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ensureType(objType)
	if p.GroupName != "" && o.groups[p.GroupName] == nil {
		o.groups[p.GroupName] = &PropertyGroup{Name: p.GroupName, Label: p.GroupName, DisplayOrder: len(o.groupOrder)}
		o.groupOrder = append(o.groupOrder, p.GroupName)
	}
	o.addProperty(p)
}

// Properties returns an object type's property definitions.
func (s *Server) Properties(objType string) []Property {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.lookupType(objType)
	if o == nil {
		return nil
	}
	out := make([]Property, 0, len(o.propOrder))
	for _, n := range o.propOrder {
		out = append(out, *o.props[n])
	}
	return out
}

// now returns the clock's time truncated to HubSpot's millisecond precision.
func (s *Server) now() time.Time { return s.clock().Truncate(time.Millisecond) }

// systemValue gives the value of hs_object_id, createdate and the last-modified
// property, which are computed rather than stored in props maps.
func (o *objectStore) systemValue(rec *record, updated time.Time, name string) (string, bool) {
	switch name {
	case propObjectID:
		return rec.id, true
	case propCreateDate:
		return isoMillis(rec.created), true
	case o.lastModProp:
		return isoMillis(updated), true
	}
	return "", false
}

// stripSystem drops computed properties from a props map written by a test helper.
func (o *objectStore) stripSystem(props map[string]string) {
	delete(props, propObjectID)
	delete(props, propCreateDate)
	delete(props, o.lastModProp)
}

// indexEmail keeps the primary-email index in step (contacts only).
func (o *objectStore) indexEmail(rec *record, old map[string]string) {
	if o.name != "contacts" {
		return
	}
	if old != nil {
		if e := strings.ToLower(old[propEmail]); e != "" && o.byEmail[e] == rec {
			delete(o.byEmail, e)
		}
	}
	if e := strings.ToLower(rec.props[propEmail]); e != "" && !rec.archived && rec.mergedInto == "" {
		o.byEmail[e] = rec
	}
}

// publish makes rec's current state visible to search after the lag (caller holds mu).
func (s *Server) publish(o *objectStore, rec *record, now time.Time, immediately bool) {
	o.gen++
	snap := snapshot{props: rec.props, updated: rec.updated, hidden: rec.archived || rec.mergedInto != ""}
	if immediately || s.opts.SearchLag <= 0 {
		rec.vis = append(rec.vis[:0], snap)
		return
	}
	// Drop states superseded by one already visible.
	keep := 0
	for i := len(rec.vis) - 1; i >= 0; i-- {
		if !rec.vis[i].at.After(now) {
			keep = i
			break
		}
	}
	rec.vis = append(rec.vis[:0], rec.vis[keep:]...)
	snap.at = now.Add(s.opts.SearchLag)
	rec.vis = append(rec.vis, snap)
	if snap.at.After(o.visibleAllAt) {
		o.visibleAllAt = snap.at
	}
}

// visible returns the state search sees at now, or nil.
func (rec *record) visible(now time.Time) *snapshot {
	for i := len(rec.vis) - 1; i >= 0; i-- {
		if !rec.vis[i].at.After(now) {
			return &rec.vis[i]
		}
	}
	return nil
}

// AddRecords stores records directly (visible to search at once) and returns their
// ids. It creates the object type if unknown. It panics on an invalid or duplicate ID,
// like other test fixtures.
func (s *Server) AddRecords(objType string, recs []SeedRecord) []string {
	return s.addRecords(objType, recs, false)
}

// addRecords stores seeds; owned says the Properties maps may be kept as they are.
func (s *Server) addRecords(objType string, recs []SeedRecord, owned bool) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ensureType(objType)
	now := s.now()
	ids := make([]string, len(recs))
	slab := make([]record, len(recs)) // one allocation for many records keeps big seeds fast
	for i, sr := range recs {
		rec := &slab[i]
		if sr.ID != "" {
			n, err := strconv.ParseInt(sr.ID, 10, 64)
			if err != nil || n <= 0 {
				panic(fmt.Sprintf("hubspottest: seed id %q is not a positive number", sr.ID))
			}
			if _, dup := o.recs[sr.ID]; dup {
				panic(fmt.Sprintf("hubspottest: seed id %s already exists in %s", sr.ID, o.name))
			}
			rec.num = n
			s.nextID = max(s.nextID, n+1)
		} else {
			rec.num = s.nextID
			s.nextID++
		}
		rec.id = strconv.FormatInt(rec.num, 10)
		rec.updated = now
		if !sr.ModifiedAt.IsZero() {
			rec.updated = sr.ModifiedAt.Truncate(time.Millisecond)
		}
		rec.created = rec.updated
		if !sr.CreatedAt.IsZero() {
			rec.created = sr.CreatedAt.Truncate(time.Millisecond)
		}
		rec.archived = sr.Archived
		rec.props = sr.Properties
		if !owned {
			rec.props = maps.Clone(sr.Properties)
		}
		if rec.props == nil {
			rec.props = map[string]string{}
		}
		maps.DeleteFunc(rec.props, func(_, v string) bool { return v == "" })
		o.stripSystem(rec.props)
		o.checkSeedValues(rec.props)
		o.recs[rec.id] = rec
		o.order = append(o.order, rec)
		o.indexEmail(rec, nil)
		s.publish(o, rec, now, true)
		ids[i] = rec.id
	}
	if !slices.IsSortedFunc(o.order, func(a, b *record) int { return cmp.Compare(a.num, b.num) }) {
		slices.SortFunc(o.order, func(a, b *record) int { return cmp.Compare(a.num, b.num) })
	}
	return ids
}

// SeedContacts adds n contacts quickly. fn (may be nil) describes contact i; by
// default contact i has email contact<i>@example.com, firstname Contact, lastname <i>.
func (s *Server) SeedContacts(n int, fn func(i int) SeedRecord) []string {
	recs := make([]SeedRecord, n)
	if fn != nil {
		for i := range recs {
			recs[i] = fn(i)
		}
		return s.AddRecords("contacts", recs)
	}
	for i := range recs {
		recs[i] = SeedRecord{Properties: map[string]string{
			propEmail: "contact" + strconv.Itoa(i) + "@example.com", "firstname": "Contact", "lastname": strconv.Itoa(i),
		}}
	}
	return s.addRecords("contacts", recs, true)
}

// mustRecord finds a live record or panics (test helpers; caller holds mu).
func (s *Server) mustRecord(objType, id string) (*objectStore, *record) {
	o := s.lookupType(objType)
	if o == nil {
		panic(fmt.Sprintf("hubspottest: unknown object type %q", objType))
	}
	rec := o.recs[id]
	if rec == nil {
		panic(fmt.Sprintf("hubspottest: no %s record %s", o.name, id))
	}
	if rec.mergedInto != "" {
		panic(fmt.Sprintf("hubspottest: %s record %s was merged into %s", o.name, id, rec.mergedInto))
	}
	return o, rec
}

// applyLocked writes props ("" clears) to rec at now and bumps last-modified.
func (s *Server) applyLocked(o *objectStore, rec *record, props map[string]string, now time.Time) {
	old := rec.props
	next := maps.Clone(old)
	for k, v := range props {
		if v == "" {
			delete(next, k)
		} else {
			next[k] = v
		}
	}
	o.stripSystem(next)
	rec.props = next
	rec.updated = now
	o.indexEmail(rec, old)
	s.publish(o, rec, now, false)
}

// Update writes properties to a record as a HubSpot user would (no validation,
// read-only properties allowed, "" clears) and bumps its last-modified time.
// It panics on an unknown record.
func (s *Server) Update(objType, id string, props map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, rec := s.mustRecord(objType, id)
	o.checkSeedValues(props)
	s.applyLocked(o, rec, props, s.now())
}

// BulkEdit writes the same properties to many records with one identical
// last-modified millisecond, as HubSpot's bulk edits do, and returns that time.
func (s *Server) BulkEdit(objType string, ids []string, props map[string]string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, id := range ids {
		o, rec := s.mustRecord(objType, id)
		o.checkSeedValues(props)
		s.applyLocked(o, rec, props, now)
	}
	return now
}

// Touch bumps records' last-modified time to one shared millisecond without
// changing values (a bulk edit that sets what is already there).
func (s *Server) Touch(objType string, ids []string) time.Time {
	return s.BulkEdit(objType, ids, nil)
}

// Archive archives a record: gone from list, reads and (after the lag) search.
func (s *Server) Archive(objType, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, rec := s.mustRecord(objType, id)
	now := s.now()
	rec.archived = true
	rec.updated = now
	o.indexEmail(rec, rec.props)
	s.publish(o, rec, now, false)
}

// Merge merges mergedID into primaryID the way HubSpot does: a NEW record id holds
// the result (primary's values win, the merged record's fill the gaps, the merged
// contact's email joins hs_additional_emails), hs_merged_object_ids lists the old
// ids, and both old ids answer reads with the new record. It returns the new id.
func (s *Server) Merge(objType, primaryID, mergedID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, primary := s.mustRecord(objType, primaryID)
	_, merged := s.mustRecord(objType, mergedID)
	if primary == merged {
		panic("hubspottest: cannot merge a record into itself")
	}
	now := s.now()
	props := maps.Clone(merged.props)
	maps.Copy(props, primary.props)
	var mergedIDs []string
	for _, r := range []*record{primary, merged} {
		if v := r.props[propMergedIDs]; v != "" {
			mergedIDs = append(mergedIDs, strings.Split(v, ";")...)
		}
		mergedIDs = append(mergedIDs, r.id)
	}
	props[propMergedIDs] = strings.Join(mergedIDs, ";")
	if o.name == "contacts" {
		var extra []string
		for _, r := range []*record{primary, merged} {
			if v := r.props[propAddEmails]; v != "" {
				extra = append(extra, strings.Split(v, ";")...)
			}
		}
		if e := merged.props[propEmail]; e != "" && !strings.EqualFold(e, props[propEmail]) {
			extra = append(extra, e)
		}
		if len(extra) > 0 {
			props[propAddEmails] = strings.Join(extra, ";")
		}
	}
	rec := &record{num: s.nextID, props: props, updated: now, created: primary.created}
	if merged.created.Before(rec.created) {
		rec.created = merged.created
	}
	s.nextID++
	rec.id = strconv.FormatInt(rec.num, 10)
	for _, r := range []*record{primary, merged} {
		old := r.props
		r.mergedInto = rec.id
		r.updated = now
		o.indexEmail(r, old)
		s.publish(o, r, now, false)
	}
	// Earlier merges into the old records now point at the new one.
	for _, r := range o.recs {
		if r.mergedInto == primary.id || r.mergedInto == merged.id {
			r.mergedInto = rec.id
		}
	}
	o.recs[rec.id] = rec
	o.order = append(o.order, rec)
	o.indexEmail(rec, nil)
	s.publish(o, rec, now, false)
	return rec.id
}

// resolve follows merges from id to the surviving record (caller holds mu).
func (o *objectStore) resolve(id string) *record {
	rec := o.recs[id]
	for i := 0; rec != nil && rec.mergedInto != "" && i < 100; i++ {
		rec = o.recs[rec.mergedInto]
	}
	if rec == nil || rec.mergedInto != "" {
		return nil
	}
	return rec
}

// ResolveID returns the surviving id for id after merges ("" if unknown).
func (s *Server) ResolveID(objType, id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.lookupType(objType)
	if o == nil {
		return ""
	}
	if rec := o.resolve(id); rec != nil {
		return rec.id
	}
	return ""
}

func (o *objectStore) export(rec *record) Record {
	props := maps.Clone(rec.props)
	for _, n := range []string{propObjectID, propCreateDate, o.lastModProp} {
		props[n], _ = o.systemValue(rec, rec.updated, n)
	}
	return Record{ID: rec.id, Properties: props, CreatedAt: rec.created, UpdatedAt: rec.updated, Archived: rec.archived}
}

// Record returns the current state of a record, following merges (the returned ID
// is then the surviving one). ok is false for unknown ids.
func (s *Server) Record(objType, id string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.lookupType(objType)
	if o == nil {
		return Record{}, false
	}
	rec := o.resolve(id)
	if rec == nil {
		return Record{}, false
	}
	return o.export(rec), true
}

// Records returns every record of a type that was not merged away (archived ones
// included, flagged), ordered by id.
func (s *Server) Records(objType string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.lookupType(objType)
	if o == nil {
		return nil
	}
	out := make([]Record, 0, len(o.order))
	for _, rec := range o.order {
		if rec.mergedInto == "" {
			out = append(out, o.export(rec))
		}
	}
	return out
}

// ContactsCreatedByEmail counts contacts the server created because an event
// identified its contact by email (something the integration must never cause).
func (s *Server) ContactsCreatedByEmail() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createdByEml
}

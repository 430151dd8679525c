package measured

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/notify"
	"github.com/pilotsync/pilotsync/shared/store"
)

// quarantineMark prefixes a sent value HubSpot refused for good: the value is
// not sent again until it changes.
const quarantineMark = "\x00quarantined:"

// maxProblemRecords caps the record ids one problem email lists.
const maxProblemRecords = 20

// mapping is a measured mapping checked against its HubSpot property.
type mapping struct {
	metric, prop, propType string
}

// propertyCache reads each object's properties once per run and checks each
// mapping's target once: missing, read-only and mistyped targets are reported
// once and skipped.
type propertyCache struct {
	hs      HubSpot
	rep     *Report
	checked map[string][]mapping // by object
}

func newPropertyCache(hs HubSpot, rep *Report) *propertyCache {
	return &propertyCache{hs: hs, rep: rep, checked: map[string][]mapping{}}
}

func (c *propertyCache) mappings(ctx context.Context, t Target) ([]mapping, error) {
	if m, ok := c.checked[t.Object]; ok {
		return m, nil
	}
	c.rep.Counts[CountHubSpotCalls]++
	list, err := c.hs.ListProperties(ctx, t.Object)
	if err != nil {
		return nil, fmt.Errorf("list %s properties: %w", t.Object, err)
	}
	props := map[string]hubspot.Property{}
	for _, p := range list {
		props[p.Name] = p
	}
	var out []mapping
	for _, mm := range t.Mappings {
		m, why := checkMapping(t, props, mm)
		key := "measured/" + t.Object + "/property/" + mm.HubSpot
		if why != "" {
			c.rep.Failures = append(c.rep.Failures, store.Failure{Field: mm.HubSpot, Reason: why})
			c.rep.Problems = append(c.rep.Problems, notify.Problem{Key: key,
				Title:  fmt.Sprintf("pilotsync: measured property %s is not sent", mm.HubSpot),
				Detail: "The daily measured job skips metric " + mm.Metric + ": " + why + "."})
			continue
		}
		c.rep.Clean = append(c.rep.Clean, key)
		out = append(out, m)
	}
	c.checked[t.Object] = out
	return out, nil
}

// checkMapping checks measured mapping mm of t against the object's HubSpot
// properties: why is "" when its value can be sent.
func checkMapping(t Target, props map[string]hubspot.Property, mm config.MeasuredMapping) (m mapping, why string) {
	spec, _ := config.Metric(mm.Metric)
	p, ok := props[mm.HubSpot]
	switch {
	case !ok:
		why = fmt.Sprintf("the %s property %q does not exist (run pilotsync setup)", t.Object, mm.HubSpot)
	case !p.Writable():
		why = fmt.Sprintf("the %s property %q is read-only or calculated", t.Object, mm.HubSpot)
	case !slices.Contains(spec.Accepts, p.Type):
		why = fmt.Sprintf("the %s property %q has type %s, but metric %s needs %s", t.Object, mm.HubSpot, p.Type, mm.Metric, strings.Join(spec.Accepts, " or "))
	}
	return mapping{metric: mm.Metric, prop: mm.HubSpot, propType: p.Type}, why
}

// encodeChanged encodes the computed values of ms and returns those that
// differ from sent (what was last sent to the linked record), and the
// mappings whose value the codec cannot encode (property -> error).
func encodeChanged(ms []mapping, values map[string]any, sent map[string]string) (changed map[string]string, invalid map[string]error) {
	changed, invalid = map[string]string{}, map[string]error{}
	for _, m := range ms {
		v, ok := values[m.metric]
		if !ok {
			continue
		}
		enc, err := hubspot.EncodeValue(m.propType, v)
		if err != nil {
			invalid[m.prop] = err
			continue
		}
		if old, ok := sent[m.prop]; ok && (old == enc || old == quarantineMark+enc) {
			continue
		}
		changed[m.prop] = enc
	}
	return changed, invalid
}

// pending is one profile's update.
type pending struct {
	sum       *store.ActivitySummary
	hubspotID string
	sent      map[string]string // what will be recorded as sent on success
	changed   map[string]string
}

// page computes, links and sends one page of summaries.
func (e *Engine) page(ctx context.Context, t Target, p Period, props *propertyCache, sums []*store.ActivitySummary, rep *Report) error {
	if len(sums) == 0 {
		return nil
	}
	ms, err := props.mappings(ctx, t)
	if err != nil {
		return err
	}
	rep.Counts[CountConsidered] += int64(len(sums))
	if len(ms) == 0 {
		return nil
	}
	ids := make([]string, len(sums))
	for i, s := range sums {
		ids[i] = s.ID
	}
	profiles, err := e.st.GetProfiles(ctx, e.o.Env, t.Kind, ids)
	if err != nil {
		return fmt.Errorf("read %d %s profiles: %w", len(ids), t.Kind, err)
	}
	rep.Counts[CountStoreReads] += int64(len(ids))
	var known []*store.Profile
	for _, id := range ids {
		if pr := profiles[id]; pr != nil {
			known = append(known, pr)
		}
	}
	var res map[string]identity.Resolution
	if len(known) > 0 {
		res, err = e.lk.Resolve(ctx, t.Kind, known)
		if err != nil {
			return fmt.Errorf("link %d %ss: %w", len(known), t.Kind, err)
		}
	}
	metrics := make([]string, len(ms))
	for i, m := range ms {
		metrics[i] = m.metric
	}
	var work []*pending
	for _, s := range sums {
		if profiles[s.ID] == nil {
			rep.Counts[CountNoProfile]++
			continue
		}
		r := res[s.ID]
		if r.Outcome != identity.Linked || r.HubSpotID == "" {
			rep.Counts[CountUnmatched]++
			continue
		}
		values := Compute(s, p, metrics)
		w := &pending{sum: s, hubspotID: r.HubSpotID, sent: map[string]string{}, changed: map[string]string{}}
		if s.SentTo == r.HubSpotID {
			for k, v := range s.Sent {
				w.sent[k] = v
			}
		}
		changed, invalid := encodeChanged(ms, values, w.sent)
		for _, m := range ms { // in mapping order, as before
			if err, bad := invalid[m.prop]; bad {
				rep.Counts[CountInvalid]++
				rep.Failures = append(rep.Failures, store.Failure{Record: s.ID, Field: m.prop, Reason: err.Error()})
			}
		}
		w.changed = changed
		if len(w.changed) == 0 {
			rep.Counts[CountUnchanged]++
			continue
		}
		rep.Counts[CountChanged]++
		work = append(work, w)
	}
	if len(work) == 0 {
		return nil
	}
	return e.send(ctx, t, work, rep)
}

// send batch-updates the changed values by HubSpot id and records the
// outcome of every record.
func (e *Engine) send(ctx context.Context, t Target, work []*pending, rep *Report) error {
	inputs := make([]hubspot.UpdateInput, len(work))
	byID := map[string][]*pending{}
	for i, w := range work {
		inputs[i] = hubspot.UpdateInput{ID: w.hubspotID, Properties: w.changed}
		byID[w.hubspotID] = append(byID[w.hubspotID], w)
	}
	rep.Counts[CountHubSpotCalls] += int64((len(inputs) + hubspot.MaxBatchInputs - 1) / hubspot.MaxBatchInputs)
	res, callErr := e.hs.BatchUpdate(ctx, t.Object, inputs)
	if res == nil {
		return fmt.Errorf("batch update %d %s: %w", len(inputs), t.Object, callErr)
	}
	type problem struct {
		n       int
		records []string
		reason  string
	}
	problems := map[string]*problem{}
	// toRecord are the profiles whose sent values change (sent or quarantined).
	var toRecord []*pending
	for _, u := range res.Updated {
		for _, w := range byID[u.ID] {
			for k, v := range w.changed {
				w.sent[k] = v
			}
			rep.Counts[CountSent]++
			rep.Counts[CountValuesSent] += int64(len(w.changed))
			toRecord = append(toRecord, w)
		}
	}
	for _, f := range res.Failed {
		for _, w := range byID[f.ID] {
			reason := f.Category
			if f.Message != "" {
				reason += ": " + f.Message
			}
			if f.Retryable || f.Category == "OBJECT_NOT_FOUND" || callErr != nil {
				// Not sent: the next run sends it again (a deleted record is
				// re-linked by the link audit first).
				rep.Counts[CountRetryLater]++
				continue
			}
			// HubSpot names the refused property when it can; otherwise every
			// value of the record is held back.
			bad := []string{f.Property}
			if _, named := w.changed[f.Property]; !named {
				bad = slices.Sorted(maps.Keys(w.changed))
			}
			for _, prop := range bad { // only properties of w.changed
				enc := w.changed[prop]
				w.sent[prop] = quarantineMark + enc
				rep.Counts[CountQuarantined]++
				rep.Failures = append(rep.Failures, store.Failure{Record: w.sum.ID, Field: prop, Reason: reason})
				key := "measured/" + t.Object + "/" + f.Category + "/" + prop
				pb := problems[key]
				if pb == nil {
					pb = &problem{reason: reason}
					problems[key] = pb
				}
				pb.n++
				if len(pb.records) < maxProblemRecords {
					pb.records = append(pb.records, w.hubspotID)
				}
			}
			toRecord = append(toRecord, w)
		}
	}
	rep.Counts[CountStoreWrites] += int64(len(toRecord))
	if err := e.recordSent(ctx, t.Kind, toRecord); err != nil {
		return err
	}
	for _, key := range slices.Sorted(maps.Keys(problems)) {
		pb := problems[key]
		prop := key[strings.LastIndex(key, "/")+1:]
		rep.addRefusal(key, t.Object, prop, pb.reason, pb.n, pb.records)
	}
	if callErr != nil {
		return fmt.Errorf("batch update %d %s: %w", len(inputs), t.Object, callErr)
	}
	return nil
}

// recordWorkers bounds the concurrent sent-value writes of one page.
const recordWorkers = 8

// recordSent stores what was sent (or quarantined) for each profile, a few
// writes at a time; the first error is returned after all have finished.
func (e *Engine) recordSent(ctx context.Context, kind store.Kind, ws []*pending) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	work := make(chan *pending)
	for range min(recordWorkers, len(ws)) {
		wg.Go(func() {
			for w := range work {
				if err := e.st.PutMeasuredSent(ctx, e.o.Env, kind, w.sum.ID, w.hubspotID, w.sent); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("record sent values: %w", err)
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, w := range ws {
		work <- w
	}
	close(work)
	wg.Wait()
	return firstErr
}

// addRefusal adds refused records to the run's problem of key, so a run
// reports one problem per property and reason however many pages it spans.
func (r *Report) addRefusal(key, object, prop, reason string, n int, records []string) {
	i := slices.IndexFunc(r.Problems, func(p notify.Problem) bool { return p.Key == key })
	if i < 0 {
		r.Problems = append(r.Problems, notify.Problem{Key: key, Title: fmt.Sprintf("pilotsync: HubSpot refused measured property %s", prop)})
		i = len(r.Problems) - 1
	}
	p := &r.Problems[i]
	p.Count += n
	for _, id := range records {
		if len(p.Records) < maxProblemRecords {
			p.Records = append(p.Records, id)
		}
	}
	p.Detail = fmt.Sprintf("HubSpot refused %s for %d %s records (%s). The values are not sent again until they change.", prop, p.Count, object, reason)
}

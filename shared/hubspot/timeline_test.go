package hubspot

import (
	"context"
	"errors"
	"testing"
)

// TestTimelineUnattributedErrors: when the answer counts errors it does not attribute, every
// event missing from results is taken as not written and retryable; a CONFLICT entry counts
// its event as delivered.
func TestTimelineUnattributedErrors(t *testing.T) {
	f := newFake(t, reply{status: 207, body: `{"status":"COMPLETE","startedAt":"2026-11-27T10:00:00Z","completedAt":"2026-11-27T10:00:00Z",
		"results":[{"id":"a"}],"numErrors":3,
		"errors":[{"status":"error","category":"CONFLICT","message":"exists","context":{"id":["c"]}},{"status":"error","category":"INTERNAL","message":"?"},{"status":"error","category":"INTERNAL","message":"?"}]}`})
	c := f.client(t, newFakeClock())
	var evs []TimelineEvent
	for _, id := range []string{"a", "b", "c", "d"} {
		evs = append(evs, TimelineEvent{TemplateID: "1", ObjectID: "11", ID: id})
	}
	err := c.SendTimelineEvents(context.Background(), evs)
	var ie *ItemsError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want *ItemsError", err)
	}
	var got []int
	for _, it := range ie.Items {
		if !it.Retryable || it.Category != CategoryNotWritten {
			t.Errorf("item %+v, want retryable %s", it, CategoryNotWritten)
		}
		got = append(got, it.Index)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Errorf("failed indexes %v, want [1 3] (a written, c already there)", got)
	}
	if body := string(f.requests()[0].Body); body != `{"inputs":[{"eventTemplateId":"1","objectId":"11","id":"a","tokens":{}},{"eventTemplateId":"1","objectId":"11","id":"b","tokens":{}},{"eventTemplateId":"1","objectId":"11","id":"c","tokens":{}},{"eventTemplateId":"1","objectId":"11","id":"d","tokens":{}}]}` {
		t.Errorf("body = %s, want tokens {} on every event", body)
	}
}

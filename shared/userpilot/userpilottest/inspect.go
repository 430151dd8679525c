package userpilottest

import (
	"encoding/json"
	"net/http"
	"time"
)

// User is a user's state after every merge.
type User struct {
	ID        string
	CompanyID string
	// Metadata holds the properties; numbers are float64 (as decoded from JSON).
	Metadata  map[string]any
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Company is a company's state after every merge.
type Company struct {
	ID        string
	Metadata  map[string]any
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Event is one tracked event.
type Event struct {
	UserID   string
	Name     string
	Metadata map[string]any
	At       time.Time
}

// Job is a bulk job as the sandbox sees it.
type Job struct {
	ID            string
	Type          string
	Status        string
	TotalRows     int
	CompletedRows int
	CreatedAt     time.Time
}

// Request is one request the sandbox received, whatever its answer.
type Request struct {
	Method   string
	Path     string // escaped, as sent
	Query    string
	Endpoint string
	Header   http.Header
	Body     []byte
	// Status is the answer's status (0 for a dropped connection or one
	// still being served).
	Status int
	At     time.Time
}

// Decode unmarshals the request body into v.
func (r Request) Decode(v any) error { return json.Unmarshal(r.Body, v) }

func (u *User) clone() User {
	c := *u
	c.Metadata = cloneMap(u.Metadata)
	return c
}

func (co *Company) clone() Company {
	c := *co
	c.Metadata = cloneMap(co.Metadata)
	return c
}

// Users returns every user by id.
func (s *Server) Users() map[string]User {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.now())
	out := make(map[string]User, len(s.users))
	for id, u := range s.users {
		out[id] = u.clone()
	}
	return out
}

// User returns one user.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.now())
	u, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	return u.clone(), true
}

// Companies returns every company by id.
func (s *Server) Companies() map[string]Company {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.now())
	out := make(map[string]Company, len(s.companies))
	for id, c := range s.companies {
		out[id] = c.clone()
	}
	return out
}

// Company returns one company.
func (s *Server) Company(id string) (Company, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.now())
	c, ok := s.companies[id]
	if !ok {
		return Company{}, false
	}
	return c.clone(), true
}

// PutUser seeds a user (merging like identify: nil values remove).
func (s *Server) PutUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.upsertUser(u.ID, u.CompanyID, u.Metadata, now)
	if u.CompanyID != "" {
		s.upsertCompany(u.CompanyID, nil, now)
	}
}

// PutCompany seeds a company (merging like identify).
func (s *Server) PutCompany(c Company) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.upsertCompany(c.ID, c.Metadata, s.now())
}

// Events returns the tracked events in arrival order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, e := range s.events {
		e.Metadata = cloneMap(e.Metadata)
		out[i] = e
	}
	return out
}

// Jobs returns every bulk job in creation order, advanced to the clock.
func (s *Server) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.now())
	out := make([]Job, 0, len(s.jobOrder))
	for _, id := range s.jobOrder {
		j := s.jobs[id]
		out = append(out, Job{ID: j.id, Type: j.typ, Status: j.status, TotalRows: len(j.rows), CompletedRows: j.completed, CreatedAt: j.created})
	}
	return out
}

// Requests returns every request received since the last ResetRequests.
func (s *Server) Requests() []Request { return s.requests.Requests() }

// Count returns how many requests endpoint received since the last
// ResetRequests, whatever their answer.
func (s *Server) Count(endpoint string) int { return s.requests.Count(endpoint) }

// ResetRequests forgets the requests received and the counts (not the
// state, jobs or rate window).
func (s *Server) ResetRequests() { s.requests.Reset() }

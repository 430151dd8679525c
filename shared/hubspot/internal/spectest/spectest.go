// Package spectest checks, in tests only, that requests the HubSpot client sends conform to
// HubSpot's official OpenAPI descriptions (github.com/HubSpot/HubSpot-public-api-spec-collection):
// the path and method exist, query parameters are declared, and a JSON or form body has every
// required field and no undeclared one.
//
// The descriptions are not part of this repository (their licence forbids redistribution).
// They are read at test time from a local git mirror of the collection: the bare git directory
// named by PILOTSYNC_HUBSPOT_SPEC_GIT, else DefaultMirror. Without a mirror (e.g. in CI) Check
// logs that it was skipped and checks nothing.
package spectest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// DefaultMirror is where the development machines keep the spec collection's bare git mirror.
const DefaultMirror = "/work/.mirror/HubSpot+HubSpot-public-api-spec-collection/repo"

// EnvMirror names the environment variable that overrides DefaultMirror.
const EnvMirror = "PILOTSYNC_HUBSPOT_SPEC_GIT"

// specFolders are the spec collection folders of the APIs the client calls.
var specFolders = []string{
	"PublicApiSpecs/CRM/Objects/", "PublicApiSpecs/CRM/Contacts/", "PublicApiSpecs/CRM/Companies/",
	"PublicApiSpecs/CRM/Properties/", "PublicApiSpecs/CRM/Timeline/", "PublicApiSpecs/Events/",
	"PublicApiSpecs/Auth/Oauth/",
}

// Request is one request to check.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// ContentType is the request's Content-Type (form bodies are checked as forms).
	ContentType string
	Body        []byte
}

type operation struct {
	pattern    *regexp.Regexp
	templated  int // number of {param} segments: fewer is a more specific match
	specPath   string
	file       string
	query      map[string]bool
	schemas    map[string]any // the file's components.schemas
	bodyByType map[string]any // content type -> schema
	responses  map[string]any // status -> JSON response schema
}

type spec struct {
	revision string
	ops      map[string][]*operation // by method
	err      error
	skipped  string
}

var (
	loadOnce sync.Once
	loaded   *spec
)

// Revision returns the mirror commit the checks run against, or "" without a mirror.
func Revision() string {
	s := load()
	return s.revision
}

func load() *spec {
	loadOnce.Do(func() { loaded = read() })
	return loaded
}

func git(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

var versionDir = regexp.MustCompile(`/Rollouts/[0-9]+/(v1|v3|v4|2026-03)/[^/]+\.json$`)

func read() *spec {
	dir := os.Getenv(EnvMirror)
	if dir == "" {
		dir = DefaultMirror
	}
	s := &spec{ops: map[string][]*operation{}}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		s.skipped = fmt.Sprintf("HubSpot spec mirror %s not found (set %s): request conformance not checked", dir, EnvMirror)
		return s
	}
	rev, err := git(dir, "rev-parse", "HEAD")
	if err != nil {
		s.err = err
		return s
	}
	s.revision = strings.TrimSpace(string(rev))
	list, err := git(dir, "ls-tree", "-r", "--name-only", "HEAD", "PublicApiSpecs")
	if err != nil {
		s.err = err
		return s
	}
	for _, name := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		if !versionDir.MatchString(name) || !slices.ContainsFunc(specFolders, func(f string) bool { return strings.HasPrefix(name, f) }) {
			continue
		}
		raw, err := git(dir, "show", "HEAD:"+name)
		if err != nil {
			s.err = err
			return s
		}
		if err := s.add(name, raw); err != nil {
			s.err = fmt.Errorf("%s: %w", name, err)
			return s
		}
	}
	return s
}

var (
	paramSeg    = regexp.MustCompile(`\{[^}/]+\}`)
	quotedParam = regexp.MustCompile(`\\\{[^}/]+\\\}`)
)

func (s *spec) add(file string, raw []byte) error {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	for p, methods := range doc.Paths {
		// QuoteMeta escapes the braces of {param}: turn each escaped one into a segment match.
		quoted := quotedParam.ReplaceAllString(regexp.QuoteMeta(p), "[^/]+")
		re := regexp.MustCompile("^" + quoted + "$")
		for m, rawOp := range methods {
			var op struct {
				Parameters []struct {
					Name string `json:"name"`
					In   string `json:"in"`
				} `json:"parameters"`
				RequestBody struct {
					Content map[string]struct {
						Schema any `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
				Responses map[string]struct {
					Content map[string]struct {
						Schema any `json:"schema"`
					} `json:"content"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(rawOp, &op); err != nil {
				continue // "parameters" at path level, not an operation
			}
			o := &operation{pattern: re, templated: len(paramSeg.FindAllString(p, -1)), specPath: p, file: file,
				query: map[string]bool{}, schemas: doc.Components.Schemas, bodyByType: map[string]any{}, responses: map[string]any{}}
			for status, r := range op.Responses {
				if c, ok := r.Content["application/json"]; ok {
					o.responses[status] = c.Schema
				}
			}
			for _, prm := range op.Parameters {
				if prm.In == "query" {
					o.query[prm.Name] = true
				}
			}
			for ct, c := range op.RequestBody.Content {
				o.bodyByType[ct] = c.Schema
			}
			method := strings.ToUpper(m)
			s.ops[method] = append(s.ops[method], o)
		}
	}
	return nil
}

// Check reports every request that does not conform to the spec as a test error. Without a
// mirror it logs once per test that the check was skipped.
func Check(t testing.TB, reqs ...Request) {
	t.Helper()
	s := load()
	switch {
	case s.skipped != "":
		t.Log(s.skipped)
		return
	case s.err != nil:
		t.Errorf("spectest: load the HubSpot spec: %v", s.err)
		return
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		for _, p := range s.problems(r) {
			msg := fmt.Sprintf("%s %s: %s", r.Method, r.Path, p)
			if !seen[msg] {
				seen[msg] = true
				t.Errorf("spec %s: %s", s.revision[:12], msg)
			}
		}
	}
}

func (s *spec) problems(r Request) []string {
	// The most specific path wins (contacts over {objectType}); several rollouts may
	// describe it, and a request passes when it conforms to one of them.
	var best []*operation
	for _, o := range s.ops[r.Method] {
		switch {
		case !o.pattern.MatchString(r.Path):
		case len(best) == 0 || o.templated < best[0].templated:
			best = []*operation{o}
		case o.templated == best[0].templated:
			best = append(best, o)
		}
	}
	if len(best) == 0 {
		return []string{"no such path and method in any spec"}
	}
	var first []string
	for i, o := range best {
		p := o.problems(r)
		if len(p) == 0 {
			return nil
		}
		if i == 0 {
			first = p
		}
	}
	return first
}

func (o *operation) problems(r Request) []string {
	var out []string
	for name := range r.Query {
		if !o.query[name] {
			out = append(out, fmt.Sprintf("query parameter %q is not declared by %s", name, o.specPath))
		}
	}
	if len(r.Body) == 0 {
		return out
	}
	if strings.HasPrefix(r.ContentType, "application/x-www-form-urlencoded") {
		schema, ok := o.bodyByType["application/x-www-form-urlencoded"]
		if !ok {
			return append(out, "form body, but the spec takes none")
		}
		form, err := url.ParseQuery(string(r.Body))
		if err != nil {
			return append(out, "form body does not parse: "+err.Error())
		}
		obj := map[string]any{}
		for k := range form {
			obj[k] = form.Get(k)
		}
		return append(out, o.check("body", o.resolve(schema), obj)...)
	}
	schema, ok := o.bodyByType["application/json"]
	if !ok {
		return append(out, "JSON body, but the spec takes none")
	}
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return append(out, "body is not JSON: "+err.Error())
	}
	return append(out, o.check("body", o.resolve(schema), v)...)
}

// resolve follows a local $ref.
func (o *operation) resolve(schema any) map[string]any {
	m, _ := schema.(map[string]any)
	for i := 0; i < 20 && m != nil; i++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok {
			return nil
		}
		m, _ = o.schemas[name].(map[string]any)
	}
	return m
}

// check validates v against schema: required fields, undeclared fields, nested objects and
// array items. Types are not checked beyond object and array shape.
func (o *operation) check(at string, schema map[string]any, v any) []string {
	if schema == nil {
		return nil
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		if alts, ok := schema[key].([]any); ok && len(alts) > 0 {
			var first []string
			for _, alt := range alts {
				p := o.check(at, o.resolve(alt), v)
				if len(p) == 0 {
					return nil
				}
				if first == nil {
					first = p
				}
			}
			return first
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		var out []string
		req, _ := schema["required"].([]any)
		for _, r := range req {
			name, _ := r.(string)
			if _, ok := x[name]; !ok {
				out = append(out, fmt.Sprintf("%s: required field %q missing", at, name))
			}
		}
		_, additional := schema["additionalProperties"]
		names := make([]string, 0, len(x))
		for k := range x {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			ps, declared := props[k]
			switch {
			case declared:
				out = append(out, o.check(at+"."+k, o.resolve(ps), x[k])...)
			case additional:
				if as, ok := schema["additionalProperties"].(map[string]any); ok {
					out = append(out, o.check(at+"."+k, o.resolve(as), x[k])...)
				}
			case len(props) > 0:
				out = append(out, fmt.Sprintf("%s: field %q is not declared", at, k))
			}
		}
		return out
	case []any:
		items := o.resolve(schema["items"])
		var out []string
		for i, it := range x {
			out = append(out, o.check(fmt.Sprintf("%s[%d]", at, i), items, it)...)
		}
		return out
	}
	return nil
}

// CheckResponseType reports, as test errors, every JSON field of the Go type of v (the value
// the client decodes a call's answers into) that none of the spec's 2xx response schemas for
// method and path declares: a field the client reads must exist in some answer (one Go type
// decodes both a 200 and a 207, whose schema alone has errors). Fields named in allow are
// exempt (e.g. a documented alternative spelling). Without a mirror it logs and returns.
func CheckResponseType(t testing.TB, method, path string, v any, allow ...string) {
	t.Helper()
	s := load()
	switch {
	case s.skipped != "":
		t.Log(s.skipped)
		return
	case s.err != nil:
		t.Errorf("spectest: load the HubSpot spec: %v", s.err)
		return
	}
	var ops []*operation
	for _, o := range s.ops[method] {
		switch {
		case !o.pattern.MatchString(path):
		case len(ops) == 0 || o.templated < ops[0].templated:
			ops = []*operation{o}
		case o.templated == ops[0].templated:
			ops = append(ops, o)
		}
	}
	if len(ops) == 0 {
		t.Errorf("spec %s: %s %s: no such path and method", s.revision[:12], method, path)
		return
	}
	// A problem stands when every 2xx schema of every matching rollout has it.
	var common map[string]bool
	for _, o := range ops {
		for status, schema := range o.responses {
			if !strings.HasPrefix(status, "2") {
				continue
			}
			got := map[string]bool{}
			for _, p := range o.fields("response", reflect.TypeOf(v), o.resolve(schema), allow) {
				got[p] = true
			}
			if common == nil {
				common = got
				continue
			}
			for p := range common {
				if !got[p] {
					delete(common, p)
				}
			}
		}
	}
	if common == nil {
		t.Errorf("spec %s: %s %s: no JSON 2xx response", s.revision[:12], method, path)
		return
	}
	problems := make([]string, 0, len(common))
	for p := range common {
		problems = append(problems, p)
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Errorf("spec %s: %s %s: %s", s.revision[:12], method, path, p)
	}
}

// fields lists the JSON fields of typ that schema does not declare.
func (o *operation) fields(at string, typ reflect.Type, schema map[string]any, allow []string) []string {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array {
		if typ.Kind() != reflect.Pointer {
			schema = o.resolve(schema["items"])
		}
		typ = typ.Elem()
	}
	if schema == nil {
		return nil
	}
	for _, key := range []string{"oneOf", "anyOf", "allOf"} {
		if alts, ok := schema[key].([]any); ok && len(alts) > 0 {
			var first []string
			for _, alt := range alts {
				p := o.fields(at, typ, o.resolve(alt), allow)
				if len(p) == 0 {
					return nil
				}
				if first == nil {
					first = p
				}
			}
			return first
		}
	}
	switch typ.Kind() {
	case reflect.Map:
		if as, ok := schema["additionalProperties"].(map[string]any); ok {
			return o.fields(at+".*", typ.Elem(), o.resolve(as), allow)
		}
		return nil
	case reflect.Struct:
	default:
		return nil
	}
	props, _ := schema["properties"].(map[string]any)
	var out []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() && !f.Anonymous && f.Tag.Get("json") == "" {
			continue
		}
		if slices.Contains(allow, name) {
			continue
		}
		ps, ok := props[name]
		if !ok {
			out = append(out, fmt.Sprintf("%s: the client reads %q, which the response schema does not declare", at, name))
			continue
		}
		out = append(out, o.fields(at+"."+name, f.Type, o.resolve(ps), allow)...)
	}
	return out
}

package config

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPath is the environment variable naming the config file.
const EnvPath = "PILOTSYNC_CONFIG"

// Default config file locations, tried in order when EnvPath is unset: the
// working directory (local runs), then the Lambda package root, where the build
// puts integration.yaml.
const (
	LocalPath  = "integration.yaml"
	LambdaPath = "/var/task/integration.yaml"
)

// DefaultPath returns the config file to load: $PILOTSYNC_CONFIG when set, else
// ./integration.yaml when it exists, else /var/task/integration.yaml when it
// exists, else ./integration.yaml (so the error names the usual place).
func DefaultPath() string {
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	for _, p := range []string{LocalPath, LambdaPath} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return LocalPath
}

// Load reads, decodes, defaults and validates the config file at path. When the
// file has problems the error is a *Error listing all of them.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes, defaults and validates data; filename is used in problems only.
// When data has problems the error is a *Error listing all of them, ordered by
// line, and the returned config is nil.
func Parse(filename string, data []byte) (*Config, error) {
	d := &decoder{file: filename, pos: map[string]int{}, bad: map[string]bool{}, active: map[*yaml.Node]bool{}}
	cfg := &Config{file: filename, pos: d.pos}

	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{Problems: []Problem{syntaxProblem(filename, err)}}
	}
	if len(doc.Content) > 0 {
		d.value(doc.Content[0], reflect.ValueOf(cfg).Elem(), "")
	}
	applyDefaults(cfg)
	v := &validator{cfg: cfg, file: filename, bad: d.bad}
	v.validate()

	problems := append(d.problems, v.problems...)
	if len(problems) > 0 {
		sortProblems(problems)
		return nil, &Error{Problems: problems}
	}
	return cfg, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem turns a YAML syntax error into a Problem with its line.
func syntaxProblem(file string, err error) Problem {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{File: file, Line: line, Message: "invalid YAML: " + m[2]}
	}
	return Problem{File: file, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// decoder walks a yaml.Node tree into Go values, recording the line of every
// field and a problem for every mistake instead of stopping at the first.
type decoder struct {
	file string
	// nodes counts decoded nodes; aliases can make a small file expand
	// exponentially ("billion laughs"), so decoding stops at maxNodes.
	nodes int
	// active holds the nodes being decoded, to catch an alias inside its own anchor.
	active   map[*yaml.Node]bool
	problems []Problem
	pos      map[string]int
	// bad marks fields that failed to decode, so validation does not report
	// them a second time (e.g. as missing).
	bad map[string]bool
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.bad[path] = true
	d.problems = append(d.problems, Problem{File: d.file, Line: n.Line, Field: path, Message: fmt.Sprintf(format, args...)})
}

var (
	durationType = reflect.TypeFor[Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// maxNodes bounds the nodes decoded from one file, aliases expanded; a real
// integration.yaml has a few hundred.
const maxNodes = 100_000

// value decodes n into v (addressable) at path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if !d.budget(n, path) {
		return
	}
	if d.active[n] {
		d.fail(n, path, "alias refers to the value that contains it")
		return
	}
	d.active[n] = true
	defer delete(d.active, n)
	d.decodeNode(n, v, path)
}

// budget counts one more decoded node and reports whether decoding may go on;
// the problem is reported once, when the limit is reached.
func (d *decoder) budget(n *yaml.Node, path string) bool {
	d.nodes++
	if d.nodes == maxNodes {
		d.fail(n, path, "file too large: more than %d values once aliases are expanded", maxNodes)
	}
	return d.nodes < maxNodes
}

// decodeNode decodes the resolved node n into v.
func (d *decoder) decodeNode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if isNull(n) {
		return // an empty value leaves the default in place
	}
	switch {
	case v.Type() == durationType:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "want a duration such as 30s, 5m or 24h, got %s", kindName(n))
			return
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			d.fail(n, path, "want a duration such as 30s, 5m or 24h, got %q", n.Value)
			return
		}
		v.SetInt(int64(dur))
		return
	case v.Type() == timeType:
		t, err := time.Parse(time.RFC3339, n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.fail(n, path, "want an RFC 3339 time such as 2026-01-31T09:00:00Z, got %s", kindName(n))
			return
		}
		v.Set(reflect.ValueOf(t))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		d.decodeNode(n, e.Elem(), path)
		if !d.bad[path] {
			v.Set(e)
		}
	case reflect.Struct:
		d.structValue(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "want a list, got %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.pos[p] = item.Line
			d.value(item, s.Index(i), p)
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "want a mapping, got %s", kindName(n))
			return
		}
		m := reflect.MakeMap(v.Type())
		d.mapping(n, path, func(key string, kn, vn *yaml.Node) {
			p := join(path, key)
			e := reflect.New(v.Type().Elem()).Elem()
			d.value(vn, e, p)
			m.SetMapIndex(reflect.ValueOf(key), e)
		})
		v.Set(m)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "want a string, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.Decode(&i) != nil {
			d.fail(n, path, "want a whole number, got %s", kindName(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.fail(n, path, "want true or false, got %s", kindName(n))
			return
		}
		v.SetBool(b)
	default:
		// Only reachable if a field of an unsupported kind is added to Config.
		d.fail(n, path, "cannot decode into %s", v.Type())
	}
}

// structValue decodes a mapping into a struct by yaml tag; unknown keys are
// problems, with a suggestion when the key looks like a typo.
func (d *decoder) structValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", kindName(n))
		return
	}
	fields := map[string]int{}
	var names []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		fields[name] = i
		names = append(names, name)
	}
	d.mapping(n, path, func(key string, kn, vn *yaml.Node) {
		p := join(path, key)
		i, ok := fields[key]
		if !ok {
			d.fail(kn, p, "unknown key %q%s", key, didYouMean(key, names))
			return
		}
		d.value(vn, v.Field(i), p)
	})
}

// mapping calls fn for every key of n in order, resolving "<<" merge keys and
// reporting duplicate and non-string keys. Positions are recorded per key.
func (d *decoder) mapping(n *yaml.Node, path string, fn func(key string, kn, vn *yaml.Node)) {
	seen := map[string]int{}
	// visiting holds the mappings being walked, so a merge of a mapping into
	// itself is reported instead of recursing forever.
	visiting := map[*yaml.Node]bool{n: true}
	var walk func(n *yaml.Node, merged bool)
	merge := func(m *yaml.Node) {
		if visiting[m] {
			d.fail(m, path, "merge key << refers to the mapping that contains it")
			return
		}
		visiting[m] = true
		walk(m, true)
		delete(visiting, m)
	}
	walk = func(n *yaml.Node, merged bool) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !d.budget(n, path) {
				return
			}
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.Kind == yaml.ScalarNode && kn.Tag == "!!merge" {
				for vn.Kind == yaml.AliasNode && vn.Alias != nil {
					vn = vn.Alias
				}
				switch vn.Kind {
				case yaml.MappingNode:
					merge(vn)
				case yaml.SequenceNode:
					for _, m := range vn.Content {
						for m.Kind == yaml.AliasNode && m.Alias != nil {
							m = m.Alias
						}
						if m.Kind == yaml.MappingNode {
							merge(m)
						}
					}
				default:
					d.fail(vn, path, "merge key << wants a mapping")
				}
				continue
			}
			if kn.Kind != yaml.ScalarNode {
				d.fail(kn, path, "keys must be strings, got %s", kindName(kn))
				continue
			}
			key := kn.Value
			p := join(path, key)
			if line, dup := seen[key]; dup {
				if merged {
					continue // an explicit key overrides a merged one
				}
				d.fail(kn, p, "duplicate key %q (first set on line %d)", key, line)
				continue
			}
			seen[key] = kn.Line
			d.pos[p] = kn.Line
			fn(key, kn, vn)
		}
	}
	// Explicit keys first so they win over merged ones, then merges.
	explicit := &yaml.Node{Kind: yaml.MappingNode}
	merges := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Tag == "!!merge" {
			merges.Content = append(merges.Content, n.Content[i], n.Content[i+1])
		} else {
			explicit.Content = append(explicit.Content, n.Content[i], n.Content[i+1])
		}
	}
	walk(explicit, false)
	walk(merges, true)
}

package config

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
)

// typesSource is the Go source of the config types; Schema reads the doc
// comments from it, so the schema's descriptions are the types' documentation
// and generation does not depend on the working directory.
//
//go:embed config.go
var typesSource []byte

// SchemaID is the $id of the generated schema.
const SchemaID = "https://github.com/pilotsync/pilotsync/integration.schema.json"

// Schema returns the JSON Schema of integration.yaml, generated from the Go
// types: descriptions from their doc comments, enums for fixed values, defaults,
// and additionalProperties false everywhere (unknown keys are errors). The
// committed integration.schema.json is this output (`go generate ./shared/config`).
func Schema() ([]byte, error) {
	comments, err := typeComments(reflect.TypeFor[Config]().PkgPath(), typesSource)
	if err != nil {
		return nil, fmt.Errorf("config: schema: %w", err)
	}
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true, // nothing is required: everything has a default or is optional
		ExpandedStruct:             true,
		CommentMap:                 comments,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t == durationType {
				return &jsonschema.Schema{
					Type:     "string",
					Pattern:  `^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`,
					Examples: []any{"30s", "5m", "24h"},
				}
			}
			return nil
		},
	}
	s := r.Reflect(&Config{})
	s.ID = SchemaID
	s.Title = "pilotsync integration.yaml"

	defs := s.Definitions
	for key, values := range enums {
		typ, field, _ := strings.Cut(key, ".")
		prop := property(defs, typ, field)
		if prop == nil {
			return nil, fmt.Errorf("config: schema: no property %s", key)
		}
		prop.Enum = make([]any, len(values))
		for i, v := range values {
			prop.Enum[i] = v
		}
	}
	addDefaults(defs)

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("config: schema: %w", err)
	}
	return buf.Bytes(), nil
}

func property(defs jsonschema.Definitions, typ, field string) *jsonschema.Schema {
	d := defs[typ]
	if d == nil || d.Properties == nil {
		return nil
	}
	p, _ := d.Properties.Get(field)
	return p
}

// addDefaults writes the defaults of the sections whose defaults do not depend
// on where the type is used (ObjectMapping's differ for users and companies and
// are described in its comments instead).
func addDefaults(defs jsonschema.Definitions) {
	d := reflect.ValueOf(Defaults()).Elem()
	for _, section := range []string{"Userpilot", "HubSpot", "Measured", "Activity", "Notifications", "Schedule"} {
		v := d.FieldByName(section)
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			fv := v.Field(i)
			if fv.IsZero() {
				continue
			}
			var def any
			switch {
			case f.Type == durationType:
				def = formatDuration(time.Duration(fv.Int()))
			case fv.Kind() == reflect.String:
				def = fv.String()
			case fv.Kind() == reflect.Int:
				def = fv.Int()
			default:
				continue
			}
			if p := property(defs, section, name); p != nil {
				p.Default = def
			}
		}
	}
}

// formatDuration writes d the way people write it in YAML: "5m", not "5m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	for _, suffix := range []string{"m0s", "h0m"} {
		if strings.HasSuffix(s, suffix) {
			s = strings.TrimSuffix(s, suffix[1:])
		}
	}
	return s
}

// typeComments maps "<pkg>.<Type>" and "<pkg>.<Type>.<Field>" to their doc
// comments, joined into one paragraph.
func typeComments(pkg string, src []byte) (map[string]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	clean := func(cg *ast.CommentGroup) string {
		return strings.Join(strings.Fields(cg.Text()), " ")
	}
	m := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			doc := ts.Doc
			if doc == nil {
				doc = gd.Doc
			}
			if doc != nil {
				m[pkg+"."+ts.Name.Name] = clean(doc)
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, fld := range st.Fields.List {
				doc := fld.Doc
				if doc == nil {
					doc = fld.Comment
				}
				if doc == nil {
					continue
				}
				for _, n := range fld.Names {
					m[pkg+"."+ts.Name.Name+"."+n.Name] = clean(doc)
				}
			}
		}
	}
	return m, nil
}

// Package pilotsync_test checks template.yaml, the SAM template that deploys
// pilotsync, by translating it to CloudFormation offline with aws-sam-translator
// (scripts/sam-translate.py) and asserting on the result, and checks that the
// table it declares is the one shared/store creates.
package pilotsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/metrics"
	"github.com/pilotsync/pilotsync/shared/store"
)

// functions are the logical ids of the Lambda functions; the Makefile has a
// build-<id> target for each (sam build calls them).
var functions = []string{"PollFunction", "DailyMeasuredFunction", "ActivityFunction"}

// lambdaVisibilityFactor: AWS recommends an SQS visibility timeout of at least
// six times the function timeout for SQS event sources (Lambda developer guide,
// "Using Lambda with Amazon SQS").
const lambdaVisibilityFactor = 6

type cfn struct {
	Parameters map[string]map[string]any
	Conditions map[string]any
	Resources  map[string]resource
	Outputs    map[string]map[string]any
}

type resource struct {
	Type                string
	Condition           string
	DeletionPolicy      string
	UpdateReplacePolicy string
	Metadata            map[string]any
	Properties          map[string]any
}

var (
	translateOnce sync.Once
	translated    *cfn
	translateErr  error
	translateSkip string
)

// translate returns template.yaml translated to CloudFormation (once per test
// binary). A missing translator skips, or fails under PILOTSYNC_REQUIRE_EMULATORS=1.
func translate(t *testing.T) *cfn {
	t.Helper()
	translateOnce.Do(func() {
		if _, err := exec.LookPath("python3"); err != nil {
			translateSkip = "python3 not on PATH"
			return
		}
		if err := exec.Command("python3", "-c", "import samtranslator").Run(); err != nil {
			translateSkip = "aws-sam-translator not installed for python3 (pip install aws-sam-translator)"
			return
		}
		cmd := exec.Command("python3", "scripts/sam-translate.py", "template.yaml")
		cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION=us-east-1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			translateErr = fmt.Errorf("sam-translate: %w\n%s", err, stderr.String())
			return
		}
		var c cfn
		if err := json.Unmarshal(out, &c); err != nil {
			translateErr = fmt.Errorf("decode translated template: %w", err)
			return
		}
		translated = &c
	})
	if translateSkip != "" {
		if os.Getenv("PILOTSYNC_REQUIRE_EMULATORS") == "1" {
			t.Fatalf("%s, but PILOTSYNC_REQUIRE_EMULATORS=1", translateSkip)
		}
		t.Skip(translateSkip)
	}
	if translateErr != nil {
		t.Fatal(translateErr)
	}
	return translated
}

// param returns the default of a template parameter as a string.
func (c *cfn) param(t *testing.T, name string) string {
	t.Helper()
	p, ok := c.Parameters[name]
	if !ok {
		t.Fatalf("parameter %s missing", name)
	}
	return fmt.Sprint(p["Default"])
}

// resolve evaluates Ref (to a parameter: its default) and Fn::Sub over parameter
// defaults, leaving other intrinsics as they are.
func (c *cfn) resolve(t *testing.T, v any) any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return v
	}
	if ref, ok := m["Ref"].(string); ok {
		if _, isParam := c.Parameters[ref]; isParam {
			return c.param(t, ref)
		}
		return v
	}
	if s, ok := m["Fn::Sub"].(string); ok {
		return regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`).ReplaceAllStringFunc(s, func(x string) string {
			name := x[2 : len(x)-1]
			if _, isParam := c.Parameters[name]; isParam {
				return c.param(t, name)
			}
			return x
		})
	}
	return v
}

func (c *cfn) number(t *testing.T, v any) int {
	t.Helper()
	n, err := strconv.Atoi(fmt.Sprint(c.resolve(t, v)))
	if err != nil {
		t.Fatalf("%v is not a number: %v", v, err)
	}
	return n
}

func (c *cfn) res(t *testing.T, id, typ string) resource {
	t.Helper()
	r, ok := c.Resources[id]
	if !ok {
		t.Fatalf("resource %s missing", id)
	}
	if r.Type != typ {
		t.Fatalf("resource %s: type = %s, want %s", id, r.Type, typ)
	}
	return r
}

// byType returns the ids of resources of type typ, sorted.
func (c *cfn) byType(typ string) []string {
	var ids []string
	for id, r := range c.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func ref(id string) string               { return jsonOf(map[string]any{"Ref": id}) }
func getAtt(id, attr string) string      { return jsonOf(map[string]any{"Fn::GetAtt": []string{id, attr}}) }
func get(m map[string]any, k string) any { return m[k] }
func sub(m any, k string) map[string]any {
	mm, _ := m.(map[string]any)
	x, _ := mm[k].(map[string]any)
	return x
}

func TestTemplateFunctions(t *testing.T) {
	c := translate(t)
	wantEnv := []string{"PILOTSYNC_TABLE", "PILOTSYNC_QUEUE_URL", "PILOTSYNC_DLQ_URL", "HUBSPOT_SECRET_ARN", "USERPILOT_SECRET_ARN", "PILOTSYNC_CONFIG"}
	for _, id := range functions {
		t.Run(id, func(t *testing.T) {
			r := c.res(t, id, "AWS::Lambda::Function")
			p := r.Properties
			if got := p["Runtime"]; got != "provided.al2023" {
				t.Errorf("Runtime = %v, want provided.al2023", got)
			}
			if got := jsonOf(p["Architectures"]); got != `["arm64"]` {
				t.Errorf("Architectures = %s, want [arm64]", got)
			}
			if got := p["Handler"]; got != "bootstrap" {
				t.Errorf("Handler = %v, want bootstrap", got)
			}
			if got := get(sub(p, "LoggingConfig"), "LogFormat"); got != "JSON" {
				t.Errorf("LoggingConfig.LogFormat = %v, want JSON", got)
			}
			if got := get(r.Metadata, "BuildMethod"); got != "makefile" {
				t.Errorf("Metadata.BuildMethod = %v, want makefile", got)
			}
			if to := c.number(t, p["Timeout"]); to < 10 || to > 900 {
				t.Errorf("Timeout = %d, want 10..900 s", to)
			}
			if mem := c.number(t, p["MemorySize"]); mem < 128 {
				t.Errorf("MemorySize = %d, want >= 128", mem)
			}
			vars := sub(sub(p, "Environment"), "Variables")
			for _, k := range wantEnv {
				if _, ok := vars[k]; !ok {
					t.Errorf("environment variable %s missing", k)
				}
			}
			if got := vars["PILOTSYNC_CONFIG"]; got != "/var/task/integration.yaml" {
				t.Errorf("PILOTSYNC_CONFIG = %v, want /var/task/integration.yaml", got)
			}
			if got, want := jsonOf(vars["PILOTSYNC_TABLE"]), ref("Table"); got != want {
				t.Errorf("PILOTSYNC_TABLE = %s, want %s", got, want)
			}
			if got, want := jsonOf(vars["PILOTSYNC_DLQ_URL"]), ref("ActivityDeadLetterQueue"); got != want {
				t.Errorf("PILOTSYNC_DLQ_URL = %s, want %s", got, want)
			}
			for k, v := range vars {
				if s, ok := v.(string); ok && k != "PILOTSYNC_CONFIG" && s != "" {
					t.Errorf("environment variable %s is a literal %q: credentials and names come from resources", k, s)
				}
			}
		})
	}
}

// TestTemplateSchedules checks each function gets exactly the schedules it
// needs, by name (SAM names a function's rule <Function><Event>): the poll
// every 5 minutes, the daily measured job once a day, and its follow-up every
// 15 minutes sending {"action":"continue"} so a pass that outgrew one
// invocation finishes the same day.
func TestTemplateSchedules(t *testing.T) {
	c := translate(t)
	type schedule struct {
		rule  string
		want  *regexp.Regexp
		input string // the target's Input as JSON, "" for the scheduled event
	}
	tests := []struct {
		function string
		want     []schedule
	}{
		{"PollFunction", []schedule{{"PollFunctionPoll", regexp.MustCompile(`^rate\(5 minutes\)$`), ""}}},
		{"DailyMeasuredFunction", []schedule{
			{"DailyMeasuredFunctionDaily", regexp.MustCompile(`^cron\(0 3 \* \* \? \*\)$`), ""},
			{"DailyMeasuredFunctionContinue", regexp.MustCompile(`^rate\(15 minutes\)$`), `{"action":"continue"}`},
		}},
		{"ActivityFunction", nil},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			found := map[string]map[string]any{} // rule -> target
			exprs := map[string]string{}
			for _, id := range c.byType("AWS::Events::Rule") {
				p := c.Resources[id].Properties
				for _, target := range p["Targets"].([]any) {
					if jsonOf(get(target.(map[string]any), "Arn")) == getAtt(tt.function, "Arn") {
						found[id] = target.(map[string]any)
						exprs[id] = fmt.Sprint(c.resolve(t, p["ScheduleExpression"]))
					}
				}
			}
			if len(found) != len(tt.want) {
				t.Errorf("schedules targeting %s = %q, want %d", tt.function, exprs, len(tt.want))
			}
			for _, w := range tt.want {
				target, ok := found[w.rule]
				if !ok {
					t.Errorf("no schedule %s targeting %s (have %q)", w.rule, tt.function, exprs)
					continue
				}
				if !w.want.MatchString(exprs[w.rule]) {
					t.Errorf("schedule %s with default parameters = %q, want %s", w.rule, exprs[w.rule], w.want)
				}
				in, _ := target["Input"].(string)
				if w.input == "" {
					if in != "" {
						t.Errorf("schedule %s sends Input %s, want the scheduled event itself", w.rule, in)
					}
					continue
				}
				var got, want any
				if err := json.Unmarshal([]byte(in), &got); err != nil {
					t.Fatalf("schedule %s Input %q: %v", w.rule, in, err)
				}
				_ = json.Unmarshal([]byte(w.input), &want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("schedule %s Input = %s, want %s", w.rule, in, w.input)
				}
			}
		})
	}
}

func TestTemplateQueue(t *testing.T) {
	c := translate(t)
	q := c.res(t, "ActivityQueue", "AWS::SQS::Queue").Properties
	c.res(t, "ActivityDeadLetterQueue", "AWS::SQS::Queue")

	redrive := sub(q, "RedrivePolicy")
	if got, want := jsonOf(redrive["deadLetterTargetArn"]), getAtt("ActivityDeadLetterQueue", "Arn"); got != want {
		t.Errorf("RedrivePolicy.deadLetterTargetArn = %s, want %s", got, want)
	}
	if got, want := jsonOf(redrive["maxReceiveCount"]), ref("ActivityMaxReceiveCount"); got != want {
		t.Errorf("RedrivePolicy.maxReceiveCount = %s, want %s", got, want)
	}
	if n := c.number(t, redrive["maxReceiveCount"]); n < 2 {
		t.Errorf("default maxReceiveCount = %d, want >= 2 so a transient failure is retried", n)
	}

	fnTimeout := c.number(t, c.res(t, "ActivityFunction", "AWS::Lambda::Function").Properties["Timeout"])
	if vis := c.number(t, q["VisibilityTimeout"]); vis < lambdaVisibilityFactor*fnTimeout {
		t.Errorf("VisibilityTimeout = %d, want >= %d x ActivityFunction timeout %d", vis, lambdaVisibilityFactor, fnTimeout)
	}

	var mappings []resource
	for _, id := range c.byType("AWS::Lambda::EventSourceMapping") {
		mappings = append(mappings, c.Resources[id])
	}
	if len(mappings) != 1 {
		t.Fatalf("event source mappings = %d, want 1", len(mappings))
	}
	m := mappings[0].Properties
	if got, want := jsonOf(m["EventSourceArn"]), getAtt("ActivityQueue", "Arn"); got != want {
		t.Errorf("EventSourceArn = %s, want %s", got, want)
	}
	if got, want := jsonOf(m["FunctionName"]), ref("ActivityFunction"); got != want {
		t.Errorf("FunctionName = %s, want %s", got, want)
	}
	if got := jsonOf(m["FunctionResponseTypes"]); got != `["ReportBatchItemFailures"]` {
		t.Errorf("FunctionResponseTypes = %s, want [ReportBatchItemFailures]", got)
	}
	batch := c.number(t, m["BatchSize"])
	window := c.number(t, m["MaximumBatchingWindowInSeconds"])
	// Lambda: a batch size above 10 needs a batching window of at least 1 s.
	if batch > 10 && window < 1 {
		t.Errorf("BatchSize %d with MaximumBatchingWindowInSeconds %d: Lambda requires a window >= 1 s above 10", batch, window)
	}
}

func TestTemplateTable(t *testing.T) {
	c := translate(t)
	tables := c.byType("AWS::DynamoDB::Table")
	if len(tables) != 1 {
		t.Fatalf("tables = %v, want exactly one", tables)
	}
	p := c.Resources[tables[0]].Properties
	if got := p["BillingMode"]; got != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %v, want PAY_PER_REQUEST", got)
	}
	ttl := sub(p, "TimeToLiveSpecification")
	if ttl["AttributeName"] != "expires_at" || ttl["Enabled"] != true {
		t.Errorf("TimeToLiveSpecification = %s, want expires_at enabled", jsonOf(ttl))
	}
	if got := get(sub(p, "PointInTimeRecoverySpecification"), "PointInTimeRecoveryEnabled"); got != true {
		t.Errorf("PointInTimeRecoveryEnabled = %v, want true", got)
	}
	if got := get(sub(p, "SSESpecification"), "SSEEnabled"); got != true {
		t.Errorf("SSEEnabled = %v, want true", got)
	}
}

// tableShape is the part of a table's definition that must agree between
// template.yaml and store.CreateTable.
type tableShape struct {
	Attributes []string // "name:type", sorted
	Keys       []string // "name:HASH|RANGE"
	Indexes    []string // "name keys projection", sorted
}

func templateShape(p map[string]any) tableShape {
	var s tableShape
	for _, a := range p["AttributeDefinitions"].([]any) {
		m := a.(map[string]any)
		s.Attributes = append(s.Attributes, fmt.Sprintf("%v:%v", m["AttributeName"], m["AttributeType"]))
	}
	keys := func(v any) []string {
		var out []string
		for _, k := range v.([]any) {
			m := k.(map[string]any)
			out = append(out, fmt.Sprintf("%v:%v", m["AttributeName"], m["KeyType"]))
		}
		return out
	}
	s.Keys = keys(p["KeySchema"])
	if gsis, ok := p["GlobalSecondaryIndexes"].([]any); ok {
		for _, g := range gsis {
			m := g.(map[string]any)
			s.Indexes = append(s.Indexes, fmt.Sprintf("%v %v %v", m["IndexName"], keys(m["KeySchema"]), sub(m, "Projection")["ProjectionType"]))
		}
	}
	sort.Strings(s.Attributes)
	sort.Strings(s.Indexes)
	return s
}

func describedShape(d *dynamodb.DescribeTableOutput) tableShape {
	var s tableShape
	for _, a := range d.Table.AttributeDefinitions {
		s.Attributes = append(s.Attributes, fmt.Sprintf("%s:%s", aws.ToString(a.AttributeName), a.AttributeType))
	}
	for _, k := range d.Table.KeySchema {
		s.Keys = append(s.Keys, fmt.Sprintf("%s:%s", aws.ToString(k.AttributeName), k.KeyType))
	}
	for _, g := range d.Table.GlobalSecondaryIndexes {
		var keys []string
		for _, k := range g.KeySchema {
			keys = append(keys, fmt.Sprintf("%s:%s", aws.ToString(k.AttributeName), k.KeyType))
		}
		s.Indexes = append(s.Indexes, fmt.Sprintf("%s %v %s", aws.ToString(g.IndexName), keys, g.Projection.ProjectionType))
	}
	sort.Strings(s.Attributes)
	sort.Strings(s.Indexes)
	return s
}

// TestTemplateTableMatchesStore creates the store's table in DynamoDB Local with
// store.CreateTable and compares it with the template's table, so a schema change
// on one side without the other fails here rather than in production.
func TestTemplateTableMatchesStore(t *testing.T) {
	c := translate(t)
	db := awstest.DynamoDB(t)
	ctx := t.Context()
	name := awstest.UniqueName("tpl")
	if err := store.CreateTable(ctx, db, name); err != nil {
		t.Fatalf("store.CreateTable: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("describe table: %v", err)
	}
	tables := c.byType("AWS::DynamoDB::Table")
	if len(tables) != 1 {
		t.Fatalf("tables = %v, want exactly one", tables)
	}
	got, want := templateShape(c.Resources[tables[0]].Properties), describedShape(d)
	if jsonOf(got) != jsonOf(want) {
		t.Errorf("template table differs from store.CreateTable:\ntemplate: %+v\nstore:    %+v", got, want)
	}
	if d.Table.BillingModeSummary == nil || d.Table.BillingModeSummary.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("store.CreateTable billing mode = %+v, want PAY_PER_REQUEST like the template", d.Table.BillingModeSummary)
	}
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("describe ttl: %v", err)
	}
	if got := aws.ToString(ttl.TimeToLiveDescription.AttributeName); got != "expires_at" {
		t.Errorf("store.CreateTable TTL attribute = %q, want expires_at like the template", got)
	}
}

// statements returns every IAM statement of the role's inline policies, looking
// inside Fn::If branches.
func statements(policies any) []map[string]any {
	var out []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if st, ok := x["Statement"]; ok {
				switch s := st.(type) {
				case []any:
					for _, e := range s {
						if m, ok := e.(map[string]any); ok {
							out = append(out, m)
						}
					}
				case map[string]any:
					out = append(out, s)
				}
				return
			}
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(policies)
	return out
}

// arnText returns the text of a resource ARN: a literal, or the pattern of an
// Fn::Sub (both of its forms).
func arnText(r any) string {
	switch x := r.(type) {
	case string:
		return x
	case map[string]any:
		switch s := x["Fn::Sub"].(type) {
		case string:
			return s
		case []any:
			if len(s) > 0 {
				str, _ := s[0].(string)
				return str
			}
		}
	}
	return ""
}

// functionDirs maps each function to its main package.
var functionDirs = map[string]string{
	"PollFunction":          "functions/poll",
	"DailyMeasuredFunction": "functions/daily-measured",
	"ActivityFunction":      "functions/activity",
}

// logGroups maps each function to its own log group.
var logGroups = map[string]string{
	"PollFunction":          "PollLogGroup",
	"DailyMeasuredFunction": "DailyMeasuredLogGroup",
	"ActivityFunction":      "ActivityLogGroup",
}

// goSources returns the non-test Go sources under dir, concatenated.
func goSources(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasSuffix(path, "test") && path != dir) {
			return filepath.SkipDir // sandboxes and test helpers call nothing in AWS
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			b.Write(src)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// grant is one action on one resource, as the template's text has it.
type grant struct{ action, resource string }

// resourceText renders a policy resource: a literal, a Ref or GetAtt as JSON,
// or the pattern of an Fn::Sub.
func resourceText(r any) string {
	if s := arnText(r); s != "" {
		return s
	}
	return jsonOf(r)
}

// neededGrants returns what fn's code and template features call, each with
// the one resource it may be granted on. An action is only here when the code
// makes the call (found in its sources) or Lambda makes it for a feature the
// function uses (its log group, its SQS event source).
func neededGrants(t *testing.T, c *cfn, fn string) []grant {
	t.Helper()
	store := goSources(t, "shared/store")
	main := goSources(t, functionDirs[fn])
	var out []grant
	// Lambda writes the function's logs to its LoggingConfig log group.
	lg := get(sub(c.res(t, fn, "AWS::Lambda::Function").Properties, "LoggingConfig"), "LogGroup")
	if jsonOf(lg) != ref(logGroups[fn]) {
		t.Fatalf("%s logs to %s, want its own %s", fn, jsonOf(lg), logGroups[fn])
	}
	logs := "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${" + logGroups[fn] + "}:*"
	out = append(out, grant{"logs:CreateLogStream", logs}, grant{"logs:PutLogEvents", logs})
	// Every function builds the store (shared/wire); these are its calls.
	dynamo := map[string]string{
		"dynamodb:GetItem":            `\.GetItem\(`,
		"dynamodb:BatchGetItem":       `\.BatchGetItem\(`,
		"dynamodb:Query":              `\.Query\(|NewQueryPaginator\(`,
		"dynamodb:PutItem":            `\.PutItem\(|Put: &types\.Put\{`,
		"dynamodb:UpdateItem":         `\.UpdateItem\(|Update: &types\.Update\{`,
		"dynamodb:DeleteItem":         `\.DeleteItem\(|Delete: &types\.Delete\{`,
		"dynamodb:BatchWriteItem":     `\.BatchWriteItem\(`,
		"dynamodb:ConditionCheckItem": `ConditionCheck: &types\.ConditionCheck\{`,
		"dynamodb:Scan":               `\.Scan\(|NewScanPaginator\(`,
		"dynamodb:TransactGetItems":   `\.TransactGetItems\(`,
	}
	for action, call := range dynamo {
		if action == "dynamodb:Scan" {
			// Only the daily link audit scans (store.LinkedProfiles, links.go);
			// the status and redrive scans run in the admin's CLI, not in a
			// function.
			links, err := os.ReadFile("shared/store/links.go")
			if err != nil {
				t.Fatal(err)
			}
			if fn == "DailyMeasuredFunction" && regexp.MustCompile(call).Match(links) {
				out = append(out, grant{action, getAtt("Table", "Arn")})
			}
			continue
		}
		if regexp.MustCompile(call).MatchString(store) {
			out = append(out, grant{action, getAtt("Table", "Arn")})
			if action == "dynamodb:Query" && strings.Contains(store, "IndexName:") {
				out = append(out, grant{action, "${Table.Arn}/index/" + gsi1})
			}
		}
	}
	// shared/wire reads the HubSpot secret always, the Userpilot one unless
	// the function opts out (its main, or the wire constructor it calls).
	out = append(out, grant{"secretsmanager:GetSecretValue", ref("HubSpotSecret")})
	if !withoutUserpilot(t, main) {
		out = append(out, grant{"secretsmanager:GetSecretValue", ref("UserpilotSecret")})
	}
	if regexp.MustCompile(`\.SendEmail\(`).MatchString(goSources(t, "shared/notify")) {
		out = append(out, grant{"ses:SendEmail", "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SesIdentity}"})
	}
	for _, id := range c.byType("AWS::Lambda::EventSourceMapping") {
		m := c.Resources[id].Properties
		if jsonOf(m["FunctionName"]) != ref(fn) {
			continue
		}
		// What the SQS event source mapping calls with the function's role.
		q := jsonOf(m["EventSourceArn"])
		out = append(out, grant{"sqs:ReceiveMessage", q}, grant{"sqs:DeleteMessage", q}, grant{"sqs:GetQueueAttributes", q})
	}
	if fn == "ActivityFunction" && regexp.MustCompile(`\.SendMessage\(`).MatchString(goSources(t, "shared/forward")) {
		out = append(out, grant{"sqs:SendMessage", getAtt("ActivityDeadLetterQueue", "Arn")})
	}
	return out
}

// gsi1 is the index the store queries (store.GSI1Name).
const gsi1 = store.GSI1Name

// TestTemplatePoliciesAreScoped checks each function's role grants exactly
// what its code calls, on its own resources: no managed policy, no "*"
// resource, no action nothing calls (ses:SendRawEmail, a secret the function
// never reads), and nothing the code needs missing.
func TestTemplatePoliciesAreScoped(t *testing.T) {
	c := translate(t)
	for _, fn := range functions {
		t.Run(fn, func(t *testing.T) {
			if got, want := jsonOf(c.res(t, fn, "AWS::Lambda::Function").Properties["Role"]), getAtt(fn+"Role", "Arn"); got != want {
				t.Fatalf("Role = %s, want %s (its own role)", got, want)
			}
			role := c.res(t, fn+"Role", "AWS::IAM::Role").Properties
			if m, ok := role["ManagedPolicyArns"]; ok {
				t.Errorf("ManagedPolicyArns = %s: managed policies grant on \"*\"; use scoped statements", jsonOf(m))
			}
			needed := neededGrants(t, c, fn)
			granted := map[grant]bool{}
			for _, st := range statements(role["Policies"]) {
				if st["Effect"] != "Allow" {
					continue
				}
				actions, ok := st["Action"].([]any)
				if !ok {
					actions = []any{st["Action"]}
				}
				resources, ok := st["Resource"].([]any)
				if !ok {
					resources = []any{st["Resource"]}
				}
				for _, a := range actions {
					for _, r := range resources {
						g := grant{fmt.Sprint(a), resourceText(r)}
						granted[g] = true
						if g.resource == "*" || (strings.Contains(g.resource, "*") && !strings.HasSuffix(g.resource, ":log-group:${"+logGroups[fn]+"}:*")) {
							t.Errorf("%s on %q: a wildcard resource; name the function's own resource", g.action, g.resource)
						}
						if !slices.Contains(needed, g) {
							t.Errorf("%s on %s is granted but nothing in the function calls it there", g.action, g.resource)
						}
					}
				}
			}
			for _, g := range needed {
				if !granted[g] {
					t.Errorf("%s on %s is not granted, but the function calls it", g.action, g.resource)
				}
			}
		})
	}
}

func TestTemplateSecretsArePlaceholders(t *testing.T) {
	c := translate(t)
	for _, id := range []string{"HubSpotSecret", "UserpilotSecret"} {
		p := c.res(t, id, "AWS::SecretsManager::Secret").Properties
		if _, ok := p["SecretString"]; ok {
			t.Errorf("%s has a SecretString: values never live in the template", id)
		}
		if _, ok := p["GenerateSecretString"]; !ok {
			t.Errorf("%s has no GenerateSecretString placeholder", id)
		}
	}
}

func TestTemplateAlarms(t *testing.T) {
	c := translate(t)
	var dims []string
	for _, id := range c.byType("AWS::CloudWatch::Alarm") {
		p := c.Resources[id].Properties
		for _, d := range p["Dimensions"].([]any) {
			m := d.(map[string]any)
			dims = append(dims, fmt.Sprintf("%v %v %v=%s", p["Namespace"], p["MetricName"], m["Name"], jsonOf(m["Value"])))
		}
	}
	want := []string{
		"AWS/SQS ApproximateNumberOfMessagesVisible QueueName=" + getAtt("ActivityDeadLetterQueue", "QueueName"),
	}
	for _, fn := range functions {
		want = append(want, "AWS/Lambda Errors FunctionName="+ref(fn))
	}
	for _, w := range want {
		if !slices.Contains(dims, w) {
			t.Errorf("no alarm on %s; alarms: %q", w, dims)
		}
	}
}

func TestTemplateOutputs(t *testing.T) {
	c := translate(t)
	want := map[string]string{
		"QueueUrl":                  ref("ActivityQueue"),
		"DeadLetterQueueUrl":        ref("ActivityDeadLetterQueue"),
		"TableName":                 ref("Table"),
		"PollFunctionName":          ref("PollFunction"),
		"DailyMeasuredFunctionName": ref("DailyMeasuredFunction"),
		"ActivityFunctionName":      ref("ActivityFunction"),
	}
	for name, w := range want {
		if got := jsonOf(c.Outputs[name]["Value"]); got != w {
			t.Errorf("output %s = %s, want %s", name, got, w)
		}
	}
}

// TestMakefileBuildsEveryFunction checks `sam build` finds a build-<LogicalId>
// target for every function in the template.
func TestMakefileBuildsEveryFunction(t *testing.T) {
	c := translate(t)
	mk, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range c.byType("AWS::Lambda::Function") {
		if !regexp.MustCompile(`(?m)^build-` + id + `:`).Match(mk) {
			t.Errorf("Makefile has no build-%s target", id)
		}
	}
}

// TestSamconfigHasNoSecrets guards samconfig.toml, which is committed.
func TestSamconfigHasNoSecrets(t *testing.T) {
	b, err := os.ReadFile("samconfig.toml")
	if err != nil {
		t.Fatal(err)
	}
	bad := regexp.MustCompile(`(?i)(token|api_?key|secret|password|pat-[a-z0-9]{2}-)\s*=`)
	for i, line := range strings.Split(string(b), "\n") {
		if bad.MatchString(line) {
			t.Errorf("samconfig.toml:%d looks like a credential: keep secrets in Secrets Manager", i+1)
		}
	}
}

// TestTemplateAlarmTopicCloudWatchCanPublish checks the alarm topic is
// encrypted with a customer-managed key whose policy lets CloudWatch alarms
// use it: with the AWS-managed alias/aws/sns key (whose policy cannot grant
// CloudWatch) every alarm notification is dropped.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
func TestTemplateAlarmTopicCloudWatchCanPublish(t *testing.T) {
	c := translate(t)
	topic := c.res(t, "AlarmTopic", "AWS::SNS::Topic")
	keyRef, ok := topic.Properties["KmsMasterKeyId"].(map[string]any)
	if !ok {
		t.Fatalf("AlarmTopic KmsMasterKeyId = %s, want a Ref or GetAtt of a customer-managed AWS::KMS::Key in this template", jsonOf(topic.Properties["KmsMasterKeyId"]))
	}
	keyID, _ := keyRef["Ref"].(string)
	if att, ok := keyRef["Fn::GetAtt"].([]any); ok && len(att) == 2 {
		keyID, _ = att[0].(string)
	}
	key := c.res(t, keyID, "AWS::KMS::Key")
	if key.Condition != topic.Condition {
		t.Errorf("key condition %q, topic condition %q: want the same", key.Condition, topic.Condition)
	}
	need := map[string]bool{"kms:Decrypt": false, "kms:GenerateDataKey": false}
	for _, st := range statements(key.Properties["KeyPolicy"]) {
		if st["Effect"] != "Allow" || jsonOf(sub(st, "Principal")["Service"]) != `"cloudwatch.amazonaws.com"` {
			continue
		}
		actions, ok := st["Action"].([]any)
		if !ok {
			actions = []any{st["Action"]}
		}
		for _, a := range actions {
			for k := range need {
				if s := fmt.Sprint(a); s == k || (strings.HasSuffix(s, "*") && strings.HasPrefix(k, strings.TrimSuffix(s, "*"))) {
					need[k] = true
				}
			}
		}
	}
	for k, ok := range need {
		if !ok {
			t.Errorf("key policy of %s does not allow cloudwatch.amazonaws.com %s", keyID, k)
		}
	}
	if get(key.Properties, "EnableKeyRotation") != true {
		t.Errorf("%s EnableKeyRotation = %v, want true", keyID, get(key.Properties, "EnableKeyRotation"))
	}
	for _, id := range c.byType("AWS::CloudWatch::Alarm") {
		if got := jsonOf(c.Resources[id].Properties["AlarmActions"]); !strings.Contains(got, ref("AlarmTopic")) {
			t.Errorf("%s AlarmActions = %s, want the alarm topic", id, got)
		}
	}
}

// TestTemplateKeepsDataOnStackDeletion checks deleting or replacing the stack
// loses no data or credentials: the table, queues, secrets and log groups are
// retained, the table refuses deletion, only the activity queue may
// dead-letter into the DLQ, and the daily function has no asynchronous
// retries (the next schedule and its checkpoint cover a failed run).
func TestTemplateKeepsDataOnStackDeletion(t *testing.T) {
	c := translate(t)
	for _, id := range []string{"Table", "ActivityQueue", "ActivityDeadLetterQueue", "HubSpotSecret", "UserpilotSecret",
		"PollLogGroup", "DailyMeasuredLogGroup", "ActivityLogGroup"} {
		r, ok := c.Resources[id]
		if !ok {
			t.Errorf("resource %s missing", id)
			continue
		}
		if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
			t.Errorf("%s DeletionPolicy/UpdateReplacePolicy = %q/%q, want Retain/Retain", id, r.DeletionPolicy, r.UpdateReplacePolicy)
		}
	}
	if got := c.res(t, "Table", "AWS::DynamoDB::Table").Properties["DeletionProtectionEnabled"]; got != true {
		t.Errorf("Table DeletionProtectionEnabled = %v, want true", got)
	}

	q := c.res(t, "ActivityQueue", "AWS::SQS::Queue").Properties
	allow := sub(c.res(t, "ActivityDeadLetterQueue", "AWS::SQS::Queue").Properties, "RedriveAllowPolicy")
	if allow["redrivePermission"] != "byQueue" {
		t.Errorf("DLQ redrivePermission = %v, want byQueue", allow["redrivePermission"])
	}
	sources, _ := allow["sourceQueueArns"].([]any)
	name := regexp.MustCompile(`\$\{AWS::StackName\}-[a-z-]+`).FindString(jsonOf(q["QueueName"]))
	if len(sources) != 1 || name == "" || !strings.HasSuffix(arnText(sources[0]), ":${AWS::AccountId}:"+name) {
		t.Errorf("DLQ sourceQueueArns = %s, want the ARN of the activity queue (QueueName %s) alone", jsonOf(sources), jsonOf(q["QueueName"]))
	}

	retries := map[string]int{}
	for _, id := range c.byType("AWS::Lambda::EventInvokeConfig") {
		p := c.Resources[id].Properties
		retries[fmt.Sprint(get(p, "FunctionName"))+"/"+jsonOf(p["FunctionName"])] = c.number(t, p["MaximumRetryAttempts"])
	}
	for _, fn := range []string{"PollFunction", "DailyMeasuredFunction"} {
		found := false
		for k, n := range retries {
			if strings.HasSuffix(k, ref(fn)) {
				found = true
				if n != 0 {
					t.Errorf("%s MaximumRetryAttempts = %d, want 0", fn, n)
				}
			}
		}
		if !found {
			t.Errorf("%s has no EventInvokeConfig: asynchronous retries default to 2", fn)
		}
	}
}

// TestTemplateDashboard checks the dashboard's body is valid JSON, shows
// every alarm, and charts only metrics the runs print (shared/metrics), with
// the dimensions they carry, for each of the functions.
func TestTemplateDashboard(t *testing.T) {
	c := translate(t)
	ids := c.byType("AWS::CloudWatch::Dashboard")
	if len(ids) != 1 {
		t.Fatalf("dashboards = %v, want one", ids)
	}
	body := arnText(c.Resources[ids[0]].Properties["DashboardBody"])
	refs := regexp.MustCompile(`\$\{([A-Za-z0-9:.]+)\}`)
	var d struct {
		Widgets []struct {
			Type       string
			Properties struct {
				Alarms  []string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(refs.ReplaceAllString(body, "x")), &d); err != nil {
		t.Fatalf("dashboard body is not JSON: %v", err)
	}
	for _, m := range refs.FindAllStringSubmatch(body, -1) {
		name := strings.Split(m[1], ".")[0]
		if _, ok := c.Resources[name]; !ok && !strings.HasPrefix(name, "AWS::") {
			t.Errorf("dashboard references ${%s}, which is no resource", m[1])
		}
	}
	known := map[string]bool{}
	for _, n := range []string{metrics.RecordsRead, metrics.RecordsWritten, metrics.RecordsSent, metrics.RecordsFailed,
		metrics.RecordsQuarantined, metrics.EventsDelivered, metrics.EventsDropped, metrics.MessagesFailed,
		metrics.MessagesDeadLettered, metrics.ConcurrentDeliveries, metrics.APICalls, metrics.RateLimited,
		metrics.RunFailed, metrics.DurationMS, metrics.CursorLagSeconds} {
		known[n] = true
	}
	for _, r := range []string{forward.CountOtherEnvironment, forward.CountBeforeEnabled, forward.CountEcho, forward.CountTooOld,
		forward.CountCategoryFiltered, forward.CountSinkNone, forward.CountNoTarget, forward.CountRejected,
		forward.CountUnmatched, forward.CountInvalidEvents} {
		known[metrics.DroppedMetric(r)] = true
	}
	alarms := map[string]bool{}
	charted := map[string]bool{}
	for _, w := range d.Widgets {
		for _, a := range w.Properties.Alarms {
			alarms[a] = true
		}
		for _, m := range w.Properties.Metrics {
			if len(m) < 2 || m[0] != metrics.Namespace {
				continue
			}
			name := fmt.Sprint(m[1])
			charted[name] = true
			if !known[name] {
				t.Errorf("dashboard charts %s, which no run prints", name)
			}
			if len(m) < 6 || m[2] != "Function" || m[4] != "Job" {
				t.Errorf("dashboard metric %v: want dimensions Function and Job (the EMF directive's)", m)
			}
		}
	}
	for _, id := range c.byType("AWS::CloudWatch::Alarm") {
		if len(alarms) == 0 || !strings.Contains(body, `"${`+id+`.Arn}"`) {
			t.Errorf("dashboard does not show alarm %s", id)
		}
	}
	for n := range known {
		if !charted[n] && n != metrics.EventsDropped {
			t.Errorf("metric %s is printed but not on the dashboard", n)
		}
	}
}

// withoutUserpilot reports whether the function whose main is main builds
// its dependencies without the Userpilot client: the main passes
// wire.WithoutUserpilot(), or the wire constructor it calls adds it.
func withoutUserpilot(t *testing.T, main string) bool {
	t.Helper()
	if strings.Contains(main, "wire.WithoutUserpilot()") {
		return true
	}
	m := regexp.MustCompile(`wire\.([A-Z]\w*)\(context\.`).FindStringSubmatch(main)
	if m == nil {
		t.Fatalf("the function's main calls no wire constructor")
	}
	src, err := os.ReadFile("shared/wire/functions.go")
	if err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`(?s)\nfunc ` + m[1] + `\(.*?\n}\n`).Find(src)
	if body == nil {
		t.Fatalf("wire.%s is not in shared/wire/functions.go", m[1])
	}
	return strings.Contains(string(body), "WithoutUserpilot()")
}

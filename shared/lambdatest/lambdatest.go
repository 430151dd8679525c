// Package lambdatest runs a pilotsync function the way Lambda does, for tests:
// it builds functions/<name> as a `bootstrap` binary (linux, this machine's
// architecture, -tags lambda.norpc, without cgo as `make build` does; under
// `go test -race` with -race instead, which needs cgo: the function's
// packages are then the ones the test build already compiled, not a second
// full compile, and the binary is race-checked too), starts it under the AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie) on free loopback ports, and
// invokes it over the emulator's HTTP API.
//
//	fn := lambdatest.Start(t, lambdatest.Build(t, "activity"), lambdatest.Options{Env: env})
//	out, err := fn.Invoke(ctx, payload)
//
// Builds are cached per test binary (one build per function however many tests
// start it). The emulator crashes on concurrent invocations, so Invoke
// serializes them. The emulator and the function stop when the test ends.
//
// aws-lambda-rie is found through $PILOTSYNC_RIE, then PATH, then
// $(go env GOPATH)/bin (scripts/stack.sh install puts it there). When it is
// missing the test is skipped, or fails under PILOTSYNC_REQUIRE_EMULATORS=1.
package lambdatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// invokePath is the emulator's invoke endpoint (the Lambda Invoke API path).
const invokePath = "/2015-03-31/functions/function/invocations"

// Defaults.
const (
	defaultInvokeTimeout = 60 * time.Second
	readyTimeout         = 20 * time.Second
	stopGrace            = 3 * time.Second
)

// FunctionError is an error the function returned (or a panic): the emulator
// answers with {"errorMessage","errorType"}.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

// Error reports the function's error type and message.
func (e *FunctionError) Error() string {
	return fmt.Sprintf("lambdatest: function error %s: %s", e.Type, e.Message)
}

var (
	buildMu  sync.Mutex
	builds   = map[string]*buildResult{}
	buildDir string
)

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// Build builds ./functions/<name> of this module as a bootstrap and returns its
// path. It builds once per test binary; call Cleanup from TestMain to remove
// the binaries (or leave them to the OS's temp cleaning).
func Build(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	b, ok := builds[name]
	if !ok {
		b = &buildResult{}
		builds[name] = b
	}
	buildMu.Unlock()
	b.once.Do(func() { b.path, b.err = build(name) })
	if b.err != nil {
		t.Fatalf("lambdatest: build %s: %v", name, b.err)
	}
	return b.path
}

// Cleanup removes the binaries Build made. Call it from TestMain after m.Run.
func Cleanup() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
		buildDir = ""
	}
	builds = map[string]*buildResult{}
}

func build(name string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	buildMu.Lock()
	if buildDir == "" {
		buildDir, err = os.MkdirTemp("", "pilotsync-lambdatest-")
	}
	dir := buildDir
	buildMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("temp dir: %w", err)
	}
	out := filepath.Join(dir, name, "bootstrap")
	args := []string{"build", "-tags", "lambda.norpc", "-o", out}
	env := append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if raceBuild {
		args = append(args, "-race")
	} else {
		env = append(env, "CGO_ENABLED=0")
	}
	cmd := exec.Command("go", append(args, "./functions/"+name)...)
	cmd.Dir = root
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./functions/%s: %w\n%s", name, err, b)
	}
	return out, nil
}

// moduleRoot finds the directory holding go.mod, from the test's working
// directory upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// RIE returns the aws-lambda-rie binary, skipping the test (or failing it
// under PILOTSYNC_REQUIRE_EMULATORS=1) when there is none.
func RIE(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PILOTSYNC_RIE"); p != "" {
		return p
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var dirs []string
		if len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
			dirs = append(dirs, strings.TrimSpace(lines[0]))
		}
		if len(lines) > 1 {
			for _, gp := range filepath.SplitList(strings.TrimSpace(lines[1])) {
				dirs = append(dirs, filepath.Join(gp, "bin"))
			}
		}
		for _, d := range dirs {
			p := filepath.Join(d, "aws-lambda-rie")
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
	}
	msg := "aws-lambda-rie not found (scripts/stack.sh install, or set PILOTSYNC_RIE)"
	if os.Getenv("PILOTSYNC_REQUIRE_EMULATORS") == "1" {
		t.Fatalf("%s, but PILOTSYNC_REQUIRE_EMULATORS=1", msg)
	}
	t.Skip(msg)
	return ""
}

// Options configure a function under the emulator.
type Options struct {
	// Env is the function's environment on top of a minimal base: PATH, HOME,
	// AWS_REGION=us-east-1, static test credentials, and the AWS_ENDPOINT_URL*
	// variables of the test process. The machine's AWS credentials and other
	// variables are not passed on.
	Env map[string]string
	// InvokeTimeout bounds one invocation (default 60 s).
	InvokeTimeout time.Duration
}

// Function is a bootstrap running under aws-lambda-rie.
type Function struct {
	url     string
	cmd     *exec.Cmd
	logs    *SyncBuffer
	timeout time.Duration
	mu      sync.Mutex // one invocation at a time: the emulator crashes on concurrent ones
	done    chan struct{}
}

// Start runs bootstrap under the emulator and waits until it accepts
// invocations. It stops at the end of the test; the emulator's and the
// function's output is logged when the test failed.
func Start(t testing.TB, bootstrap string, opts Options) *Function {
	t.Helper()
	rie := RIE(t)
	apiPort, err := freePort()
	if err != nil {
		t.Fatalf("lambdatest: %v", err)
	}
	runtimePort, err := freePort()
	if err != nil {
		t.Fatalf("lambdatest: %v", err)
	}
	apiAddr := fmt.Sprintf("127.0.0.1:%d", apiPort)
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", apiAddr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", runtimePort),
		"--log-level", "warn",
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = environment(opts.Env)
	logs := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	// Own process group, so stopping it also stops the bootstrap the emulator started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("lambdatest: start %s: %v", rie, err)
	}
	f := &Function{url: "http://" + apiAddr + invokePath, cmd: cmd, logs: logs, timeout: opts.InvokeTimeout, done: make(chan struct{})}
	if f.timeout <= 0 {
		f.timeout = defaultInvokeTimeout
	}
	go func() { _ = cmd.Wait(); close(f.done) }()
	t.Cleanup(func() {
		f.stop()
		if t.Failed() {
			t.Logf("lambdatest: output of %s under the emulator:\n%s", filepath.Base(filepath.Dir(bootstrap)), logs.String())
		}
	})
	if err := waitListening(apiAddr, f.done); err != nil {
		t.Fatalf("lambdatest: emulator for %s: %v\n%s", bootstrap, err, logs.String())
	}
	return f
}

// Invoke sends payload to the function and returns its response. A function
// error is returned as *FunctionError. Invocations are serialized.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.done:
		return nil, errors.New("lambdatest: the emulator has exited")
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("lambdatest: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lambdatest: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("lambdatest: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("lambdatest: invoke: status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	if resp.Header.Get("X-Amz-Function-Error") != "" || looksLikeError(body) {
		var fe FunctionError
		if json.Unmarshal(body, &fe) == nil && (fe.Type != "" || fe.Message != "") {
			return body, &fe
		}
		return body, fmt.Errorf("lambdatest: function error: %s", body)
	}
	return body, nil
}

// Logs returns what the emulator and the function have written so far.
func (f *Function) Logs() string { return f.logs.String() }

// looksLikeError reports whether body is exactly a Lambda error document
// (the emulator does not always set X-Amz-Function-Error).
func looksLikeError(body []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	_, hasType := m["errorType"]
	_, hasMsg := m["errorMessage"]
	for k := range m {
		if k != "errorType" && k != "errorMessage" && k != "stackTrace" && k != "requestId" {
			return false
		}
	}
	return hasType || hasMsg
}

func (f *Function) stop() {
	pid := f.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(stopGrace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-f.done
	}
	// The bootstrap may outlive the emulator in its group.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// environment builds the function's environment: a minimal base, the test's
// emulator endpoints, then extra.
func environment(extra map[string]string) []string {
	m := map[string]string{
		"PATH":                  os.Getenv("PATH"),
		"HOME":                  os.Getenv("HOME"),
		"TMPDIR":                os.TempDir(),
		"AWS_REGION":            "us-east-1",
		"AWS_DEFAULT_REGION":    "us-east-1",
		"AWS_ACCESS_KEY_ID":     "test",
		"AWS_SECRET_ACCESS_KEY": "test",
		// Never read ~/.aws: the function sees only what the test gives it.
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "AWS_ENDPOINT_URL") {
			m[k] = v
		}
	}
	for k, v := range extra {
		m[k] = v
	}
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListening waits until addr accepts connections or the process exits.
func waitListening(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited before listening")
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not listening on %s after %s", addr, readyTimeout)
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers and readers: a
// process's or a command's output read by the test while it runs.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

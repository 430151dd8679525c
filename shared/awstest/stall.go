package awstest

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// StallProxy is a loopback TCP proxy in front of an emulator that can stall:
// while stalled it accepts connections and reads requests but forwards and
// answers nothing, as a hung DynamoDB or a network partition does (the SDK's
// calls then wait for their context). Stalling it never touches the shared
// emulator itself.
type StallProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	stall  chan struct{} // closed while flowing; nil while stalled
	conns  []net.Conn
}

// NewStallProxy starts a proxy to the emulator at target ("127.0.0.1:8000"),
// closed when the test ends.
func NewStallProxy(t testing.TB, target string) *StallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("stall proxy: listen: %v", err)
	}
	p := &StallProxy{ln: ln, target: target, stall: make(chan struct{})}
	close(p.stall)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// URL is the proxy's endpoint URL.
func (p *StallProxy) URL() string { return "http://" + p.ln.Addr().String() }

// Stall makes every connection, open or new, stop forwarding until Resume.
func (p *StallProxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.stall:
		p.stall = make(chan struct{})
	default:
	}
}

// Resume forwards again.
func (p *StallProxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.stall:
	default:
		close(p.stall)
	}
}

// gate returns a channel that is closed while the proxy flows.
func (p *StallProxy) gate() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stall
}

func (p *StallProxy) close() {
	p.Resume()
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
}

func (p *StallProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

// pipe copies src to dst chunk by chunk. A chunk read while stalled is
// dropped, as by a network partition, and its connection closed once the
// proxy resumes: a request the caller gave up on never lands later.
func (p *StallProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			gate := p.gate()
			select {
			case <-gate:
			default:
				<-gate
				_ = src.Close()
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				_ = src.Close()
			}
			return
		}
	}
}

// DynamoDBVia returns a DynamoDB client that reaches DynamoDB Local through
// a new stall proxy.
func DynamoDBVia(t testing.TB) (*dynamodb.Client, *StallProxy) {
	t.Helper()
	ep := Endpoint(t, "DYNAMODB")
	host := ep[len("http://"):]
	p := NewStallProxy(t, host)
	return dynamodb.NewFromConfig(Config(), DynamoDBOptions(p.URL())), p
}

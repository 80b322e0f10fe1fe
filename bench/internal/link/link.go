// Package link is a small link-shaping TCP proxy for benchmarks: it puts a
// modelled network link — a round-trip time and a bandwidth cap per
// connection and direction — between a client and a server on loopback.
//
// The model, per proxied connection:
//
//   - Connection setup costs one round trip: nothing the client sends is
//     forwarded before RTT has passed since the connection was accepted (TCP's
//     SYN / SYN-ACK).
//   - Each direction delays its data by RTT/2 (propagation), so a request and
//     its response cost at least one RTT more.
//   - Each direction is paced by its own token bucket of Rate bytes per second
//     (with a burst of one read buffer) before the propagation delay, as a
//     bottleneck link serialises bytes and the wire then carries them.
//   - The bytes in flight per direction are bounded (twice the
//     bandwidth-delay product plus a margin), so a fast sender is held back
//     as TCP's window would, and the proxy's memory stays bounded.
//
// TCP slow start, loss and TLS handshakes are not modelled.
package link

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Model is a link: the round-trip time added to every connection and the
// bandwidth cap per connection and direction.
type Model struct {
	RTT  time.Duration
	Rate float64 // bytes per second per connection and direction; 0 means no cap
}

// String formats m as ParseModel reads it.
func (m Model) String() string {
	if m.Rate <= 0 {
		return m.RTT.String()
	}
	return fmt.Sprintf("%s,%gMB/s", m.RTT, m.Rate/1e6)
}

// ParseModel reads "RTT[,RATE]", for example "20ms,90MB/s". RATE takes the
// units B/s, KB/s, MB/s, GB/s (powers of 1000) and KiB/s, MiB/s, GiB/s.
func ParseModel(s string) (Model, error) {
	rtt, rate, _ := strings.Cut(strings.TrimSpace(s), ",")
	d, err := time.ParseDuration(strings.TrimSpace(rtt))
	if err != nil || d < 0 {
		return Model{}, fmt.Errorf("link: round-trip time %q: want a duration such as 20ms", rtt)
	}
	m := Model{RTT: d}
	rate = strings.TrimSpace(rate)
	if rate == "" {
		return m, nil
	}
	units := []struct {
		suffix string
		mult   float64
	}{{"GiB/s", 1 << 30}, {"MiB/s", 1 << 20}, {"KiB/s", 1 << 10}, {"GB/s", 1e9}, {"MB/s", 1e6}, {"KB/s", 1e3}, {"B/s", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(rate, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || v <= 0 {
				break
			}
			m.Rate = v * u.mult
			return m, nil
		}
	}
	return Model{}, fmt.Errorf("link: rate %q: want a positive number with a unit such as 90MB/s", rate)
}

// bufSize is the read buffer, and so the token bucket's burst.
const bufSize = 64 << 10

// Proxy forwards every connection it accepts to a target address through
// the modelled link.
type Proxy struct {
	ln     net.Listener
	target string
	model  Model

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Listen starts a proxy on addr (such as "127.0.0.1:0") that forwards to
// target (host:port) through a link with model m.
func Listen(addr, target string, m Model) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, model: m, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the address clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting, cuts every open connection and waits for the
// proxy's goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		accepted := time.Now()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c, accepted)
		}()
	}
}

func (p *Proxy) handle(client net.Conn, accepted time.Time) {
	if !p.track(client) {
		return
	}
	server, err := net.DialTimeout("tcp", p.target, 10*time.Second)
	if err != nil {
		p.untrack(client)
		return
	}
	if !p.track(server) {
		p.untrack(client)
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	// Connection setup: the client's first byte leaves after one RTT.
	go func() { defer wg.Done(); p.pipe(server, client, accepted.Add(p.model.RTT)) }()
	go func() { defer wg.Done(); p.pipe(client, server, accepted) }()
	wg.Wait()
	p.untrack(client, server)
}

// chunk is data read from one side, due at the other at a time.
type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst through one direction of the link: paced by the
// token bucket from start on, then delayed by RTT/2.
func (p *Proxy) pipe(dst, src net.Conn, start time.Time) {
	oneWay := p.model.RTT / 2
	// Bytes in flight: 2 × bandwidth-delay product + 1 MiB, in buffers.
	inflight := 1 << 20
	if p.model.Rate > 0 {
		inflight += int(2 * p.model.Rate * p.model.RTT.Seconds())
	} else {
		inflight += 4 << 20
	}
	slots := max(4, inflight/bufSize)
	free := make(chan []byte, slots)
	for range slots {
		free <- make([]byte, bufSize)
	}
	queue := make(chan chunk, slots)
	done := make(chan struct{})
	go func() {
		// Writer: deliver each chunk when it is due.
		defer close(done)
		failed := false
		for c := range queue {
			if !failed {
				if d := time.Until(c.due); d > 0 {
					time.Sleep(d)
				}
				if _, err := dst.Write(c.data); err != nil {
					failed = true
					src.Close() // unblock the reader
				}
			}
			free <- c.data[:cap(c.data)]
		}
		if !failed {
			if hc, ok := dst.(interface{ CloseWrite() error }); ok {
				hc.CloseWrite()
			} else {
				dst.Close()
			}
		}
	}()
	// Reader and token bucket. next is when the bucket next allows a byte
	// out (GCRA form of a token bucket of bufSize bytes).
	next := start
	burst := time.Duration(0)
	if p.model.Rate > 0 {
		burst = time.Duration(float64(bufSize) / p.model.Rate * float64(time.Second))
	}
	for {
		buf := <-free
		n, err := src.Read(buf)
		if n > 0 {
			now := time.Now()
			if floor := now.Add(-burst); next.Before(floor) {
				next = floor
			}
			if p.model.Rate > 0 {
				next = next.Add(time.Duration(float64(n) / p.model.Rate * float64(time.Second)))
			}
			due := next
			if due.Before(now) {
				due = now
			}
			queue <- chunk{data: buf[:n], due: due.Add(oneWay)}
		} else {
			free <- buf
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				// A reset or a cut: stop the other direction too.
				dst.Close()
			}
			break
		}
	}
	close(queue)
	<-done
}

package link

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// echoServer echoes every connection back until the client half-closes.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	return ln.Addr().String()
}

func proxy(t *testing.T, target string, m Model) *Proxy {
	t.Helper()
	p, err := Listen("127.0.0.1:0", target, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// roundTrip sends data through addr and returns what came back.
func roundTrip(t *testing.T, addr string, data []byte) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		c.(*net.TCPConn).CloseWrite()
		errc <- err
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return got
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed)})
	b := make([]byte, n)
	r.Read(b)
	return b
}

func TestParseModel(t *testing.T) {
	for in, want := range map[string]Model{
		"20ms,90MB/s":  {RTT: 20 * time.Millisecond, Rate: 90e6},
		"1ms, 8MiB/s":  {RTT: time.Millisecond, Rate: 8 << 20},
		"0s":           {},
		"50ms,1.5GB/s": {RTT: 50 * time.Millisecond, Rate: 1.5e9},
	} {
		got, err := ParseModel(in)
		if err != nil || got != want {
			t.Errorf("ParseModel(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fast", "20ms,90", "20ms,-1MB/s", "-5ms", "20ms,MB/s"} {
		if m, err := ParseModel(in); err == nil {
			t.Errorf("ParseModel(%q) = %+v, want an error", in, m)
		}
	}
}

// TestBytesIntact sends random data both ways over concurrent connections
// and compares what comes back.
func TestBytesIntact(t *testing.T) {
	p := proxy(t, echoServer(t), Model{RTT: 2 * time.Millisecond, Rate: 200e6})
	var wg sync.WaitGroup
	for i, n := range []int{0, 1, bufSize - 1, bufSize + 1, 3<<20 + 17} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := randomBytes(n, uint64(i))
			got := roundTrip(t, p.Addr(), data)
			if !bytes.Equal(got, data) {
				t.Errorf("%d bytes: got %d bytes back, sha256 %x, want %x", n, len(got), sha256.Sum256(got), sha256.Sum256(data))
			}
		}()
	}
	wg.Wait()
}

// TestRateCapped checks that a transfer takes at least what the cap allows
// (a lower bound only: a busy machine may make it slower, never faster).
func TestRateCapped(t *testing.T) {
	const rate, n = 8e6, 3 << 20
	p := proxy(t, echoServer(t), Model{Rate: rate})
	data := randomBytes(n, 7)
	start := time.Now()
	got := roundTrip(t, p.Addr(), data)
	elapsed := time.Since(start)
	if !bytes.Equal(got, data) {
		t.Fatal("data changed in transit")
	}
	// Each direction may send one burst (bufSize) ahead of the cap.
	want := time.Duration(0.8 * float64(n-bufSize) / rate * float64(time.Second))
	if elapsed < want {
		t.Errorf("%d bytes at %g B/s took %v, want at least %v", n, rate, elapsed, want)
	}
}

// TestRoundTripTime checks that a request and its response on a new
// connection cost at least two round trips (setup, then the exchange), and a
// second exchange on the same connection at least one.
func TestRoundTripTime(t *testing.T) {
	const rtt = 60 * time.Millisecond
	p := proxy(t, echoServer(t), Model{RTT: rtt})
	start := time.Now()
	c, err := net.DialTimeout("tcp", p.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	buf := make([]byte, 4)
	exchange := func() {
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("read %q, %v", buf, err)
		}
	}
	exchange()
	if elapsed := time.Since(start); elapsed < time.Duration(0.8*float64(2*rtt)) {
		t.Errorf("first exchange on a new connection took %v, want at least 0.8 × 2 RTT (%v)", elapsed, 2*rtt)
	}
	start = time.Now()
	exchange()
	if elapsed := time.Since(start); elapsed < time.Duration(0.8*float64(rtt)) {
		t.Errorf("second exchange took %v, want at least 0.8 × RTT (%v)", elapsed, rtt)
	}
}

// TestCloseCutsConnections checks that Close ends open connections and
// returns.
func TestCloseCutsConnections(t *testing.T) {
	p, err := Listen("127.0.0.1:0", echoServer(t), Model{RTT: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", p.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(c); err != nil && !isReset(err) {
		t.Fatalf("after Close: %v", err)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

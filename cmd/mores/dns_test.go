package main

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
)

// nxdomainDNS is a DNS server on loopback that answers every query "no
// such host" (NXDOMAIN) and records the names asked. Installed as the
// process's resolver, it keeps a test's host lookups off the network: a
// name the test expects never to be looked up (api.openai.com) cannot
// reach the real service even when the code under test is wrong.
type nxdomainDNS struct {
	mu    sync.Mutex
	names []string
}

// asked returns the names looked up so far.
func (d *nxdomainDNS) asked() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.names...)
}

// askedFor reports whether a name containing s was looked up.
func (d *nxdomainDNS) askedFor(s string) bool {
	for _, n := range d.asked() {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// useNXDOMAINResolver starts an nxdomainDNS and makes it the resolver of
// every lookup (net.DefaultResolver, which the HTTP transport's dialer
// uses) until the test ends. Tests using it must not run in parallel.
func useNXDOMAINResolver(t *testing.T) *nxdomainDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &nxdomainDNS{}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp, name, ok := nxdomain(buf[:n]); ok {
				d.mu.Lock()
				d.names = append(d.names, name)
				d.mu.Unlock()
				pc.WriteTo(resp, addr)
			}
		}
	}()
	prev := net.DefaultResolver
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
	t.Cleanup(func() {
		net.DefaultResolver = prev
		pc.Close()
	})
	return d
}

// nxdomain builds the NXDOMAIN answer to a DNS query (RFC 1035 §4.1): the
// query's id and question, with the flags QR, RD, RA and RCODE 3, and no
// records. It also returns the name asked.
func nxdomain(q []byte) ([]byte, string, bool) {
	if len(q) < 12 || q[4] != 0 || q[5] != 1 {
		return nil, "", false // one question
	}
	var labels []string
	i := 12
	for {
		if i >= len(q) {
			return nil, "", false
		}
		l := int(q[i])
		if l == 0 {
			i++
			break
		}
		if l > 63 || i+1+l > len(q) {
			return nil, "", false
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	end := i + 4 // type and class
	if end > len(q) {
		return nil, "", false
	}
	resp := make([]byte, end)
	copy(resp, q[:end])
	resp[2] = 0x80 | (q[2] & 0x01) // QR, opcode 0, RD as asked
	resp[3] = 0x80 | 3             // RA, RCODE 3: name error
	for k := 6; k < 12; k++ {
		resp[k] = 0 // no answer, authority or additional records
	}
	return resp, strings.Join(labels, "."), true
}

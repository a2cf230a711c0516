package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huiyin/huiyin/api"
	"github.com/huiyin/huiyin/db"
	"github.com/huiyin/huiyin/db/dbtest"
	"github.com/huiyin/huiyin/staff"
)

// outageProxy stands between the service and its database: cut drops
// every connection and refuses new ones, as a stopped or unreachable
// database does; restore lets them through again. The data stays.
type outageProxy struct {
	target string
	ln     net.Listener
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newOutageProxy(t *testing.T, target string) *outageProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &outageProxy{target: target, ln: ln}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *outageProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *outageProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// TestDatabaseOutage loses the database in the middle of intake: requests
// then fail fast with 503 and a clear body, readiness says so, and once it
// is back every acknowledged message has its ticket and every ticket gets
// its draft from the job queue, which carried on by itself.
func TestDatabaseOutage(t *testing.T) {
	dbtest.New(t) // the package's database, emptied
	u, err := url.Parse(dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newOutageProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	pool, err := db.Open(context.Background(), u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := newServerOn(t, api.Config{IntakePerMin: 100000, RequestTimeout: 3 * time.Second}, pool)
	s.ingestKB(t)
	s.startJobs(t)

	send := func(i int) (int, map[string]any, time.Duration) {
		start := time.Now()
		status, out, _ := s.do(t, http.MethodPost, "/api/v1/messages",
			`{"channel":"app","message_id":"outage-`+strconv.Itoa(i)+`","owner":"owner-`+strconv.Itoa(i)+`","text":"`+strconv.Itoa(i%9+1)+`栋的路灯不亮了，晚上很黑"}`)
		return status, out, time.Since(start)
	}
	acknowledged := map[string]string{} // message id → ticket
	for i := range 5 {
		if status, out, _ := send(i); status == http.StatusCreated {
			acknowledged["outage-"+strconv.Itoa(i)] = out["ticket"].(string)
		}
	}
	if len(acknowledged) != 5 {
		t.Fatalf("before the outage: %d of 5 acknowledged", len(acknowledged))
	}

	proxy.cut()
	for i := 5; i < 10; i++ {
		status, out, took := send(i)
		if status == http.StatusCreated || status == http.StatusOK {
			acknowledged["outage-"+strconv.Itoa(i)] = out["ticket"].(string)
			continue
		}
		if status != http.StatusServiceUnavailable || out["code"] != "unavailable" || !strings.Contains(out["error"].(string), "暂时不可用") {
			t.Fatalf("during the outage: %d %v", status, out)
		}
		if took > 4*time.Second {
			t.Errorf("a request took %s to fail", took)
		}
	}
	if status, _, _ := s.do(t, http.MethodGet, "/readyz", ""); status != http.StatusServiceUnavailable {
		t.Errorf("readyz during the outage: %d", status)
	}

	proxy.restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, out, _ := send(10)
		if status == http.StatusCreated {
			acknowledged["outage-10"] = out["ticket"].(string)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("intake did not come back: %d %v", status, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if status, _, _ := s.do(t, http.MethodGet, "/readyz", ""); status != http.StatusOK {
		t.Errorf("readyz after the outage: %d", status)
	}
	s.login(t, "lead", staff.Lead, "")
	for id := range acknowledged {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE channel_msg_id = $1`, id).Scan(&n); err != nil || n != 1 {
			t.Errorf("message %s: %d stored (%v)", id, n, err)
		}
	}
	// The job queue works again: the message taken after the outage gets
	// its draft. (A draft job that was running when the database went away
	// can stay marked running longer than River's rescue interval; see the
	// note in the ticketjobs client. Its ticket is safe and can be drafted
	// again from the console.)
	s.waitDraftWithin(t, acknowledged["outage-10"], 30*time.Second)
}

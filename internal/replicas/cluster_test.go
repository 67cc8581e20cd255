package replicas_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"aftersale/internal/commerce"
	"aftersale/internal/store/postgres/pgtest"
)

const (
	platformKey = "platform_replicas_test_key_0123456789abcdef"
	operatorKey = "operator_replicas_test_key_0123456789abcdef"
)

// The aftersale binary, built once for the package's tests.
var bin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bin.dir != "" {
		os.RemoveAll(bin.dir)
	}
	os.Exit(code)
}

// binary builds cmd/aftersale (once) and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	bin.once.Do(func() {
		bin.dir, bin.err = os.MkdirTemp("", "aftersale-replicas-")
		if bin.err != nil {
			return
		}
		bin.path = filepath.Join(bin.dir, "aftersale")
		// go test puts its own GOROOT/bin first on the test's PATH.
		goCmd := "go"
		// crashtest: AFTERSALE_TEST_CRASH_AFTER_COMMIT works (crash_test.go).
		out, err := exec.Command(goCmd, "build", "-tags", "crashtest", "-o", bin.path, "aftersale/cmd/aftersale").CombinedOutput()
		if err != nil {
			bin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	return bin.path
}

// freshSchema skips the test unless the replica tests are asked for, and
// returns a database URL on a fresh schema (pgtest: a missing server fails
// the test under AFTERSALE_REQUIRE_POSTGRES=1).
func freshSchema(t *testing.T) string {
	t.Helper()
	if os.Getenv("AFTERSALE_TEST_STORE") != "postgres" {
		t.Skip("the replica tests start several `aftersale serve` processes on one PostgreSQL: " +
			"run them with AFTERSALE_TEST_STORE=postgres (.ci/run's PostgreSQL step does)")
	}
	return pgtest.FreshSchema(t)
}

// cluster is n `aftersale serve` processes on one schema (or one
// process on a SQLite file).
type cluster struct {
	t      *testing.T
	db     string
	dir    string
	args   []string
	base   int      // c.args[:base] are the flags every start keeps
	env    []string // added to the environment of the next starts
	reps   []*replica
	client *http.Client
	pool   *pgxpool.Pool // the test's own connections, for reading the event log (PostgreSQL only)
}

// replica is one serve process.
type replica struct {
	name   string
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	log    string // its log file
	exited chan struct{}
}

// newCluster starts n replicas on a fresh schema with the given policy
// versions (a --policy file; "" for none) and extra serve flags.
func newCluster(t *testing.T, n int, policyYAML string, extra ...string) *cluster {
	t.Helper()
	return newClusterOn(t, freshSchema(t), n, policyYAML, extra...)
}

// newClusterOn is newCluster on the store db: a PostgreSQL URL or a SQLite file.
func newClusterOn(t *testing.T, db string, n int, policyYAML string, extra ...string) *cluster {
	t.Helper()
	// AFTERSALE_REPLICAS_LOGDIR keeps the replicas' logs (at debug level)
	// after the test, for a failure's post-mortem.
	dir, level := t.TempDir(), "info"
	if d := os.Getenv("AFTERSALE_REPLICAS_LOGDIR"); d != "" {
		dir, level = d, "debug"
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := &cluster{t: t, db: db, dir: dir,
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	exe := binary(t)
	// the tests' webhook receivers are on loopback, refused without --webhook-allow
	c.args = []string{"serve", "--addr", "127.0.0.1:0", "--db", c.db, "--log-level", level, "--webhook-allow", "127.0.0.0/8"}
	if policyYAML != "" {
		p := filepath.Join(c.dir, "policy.yaml")
		if err := os.WriteFile(p, []byte(policyYAML), 0o600); err != nil {
			t.Fatal(err)
		}
		c.args = append(c.args, "--policy", p)
	}
	c.base = len(c.args)
	c.args = append(c.args, extra...)
	if strings.HasPrefix(c.db, "postgres") {
		pool, err := pgxpool.New(context.Background(), c.db)
		if err != nil {
			t.Fatal(err)
		}
		c.pool = pool
		t.Cleanup(pool.Close)
	}
	// Stop the replicas before the schema is dropped (cleanups run last first).
	t.Cleanup(c.stopAll)
	var wg sync.WaitGroup
	c.reps = make([]*replica, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.reps[i], errs[i] = c.start(exe, fmt.Sprintf("r%d", i+1))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// restart stops every replica (SIGTERM: a graceful shutdown) and starts
// them again with the cluster's flags, extra replacing the extra flags
// given to newCluster, as a deploy would.
func (c *cluster) restart(extra ...string) {
	c.t.Helper()
	for _, r := range c.reps {
		if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			c.t.Fatal(err)
		}
	}
	for _, r := range c.reps {
		select {
		case <-r.exited:
		case <-time.After(30 * time.Second):
			c.t.Fatalf("%s still running 30 s after SIGTERM", r.name)
		}
	}
	c.args = append(c.args[:c.base:c.base], extra...)
	exe := binary(c.t)
	var wg sync.WaitGroup
	errs := make([]error, len(c.reps))
	for i, r := range c.reps {
		wg.Go(func() { c.reps[i], errs[i] = c.start(exe, r.name+"b") })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			c.t.Fatal(err)
		}
	}
}

// start runs one replica and waits until it serves.
func (c *cluster) start(exe, name string) (*replica, error) {
	r := &replica{name: name, log: filepath.Join(c.dir, name+".log"), exited: make(chan struct{})}
	logf, err := os.Create(r.log)
	if err != nil {
		return nil, err
	}
	r.cmd = exec.Command(exe, c.args...)
	r.cmd.Env = append(os.Environ(), "AFTERSALE_API_KEYS=platform:"+platformKey+",operator:"+operatorKey)
	r.cmd.Env = append(r.cmd.Env, c.env...)
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		defer logf.Close()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			logf.Write(append(line, '\n'))
			var l struct{ Msg, Addr string }
			if bytes.Contains(line, []byte(`"aftersale serving"`)) && json.Unmarshal(line, &l) == nil {
				addr <- l.Addr
			}
		}
	}()
	go func() { r.cmd.Wait(); close(r.exited) }()
	select {
	case a := <-addr:
		r.base = "http://" + a
		return r, nil
	case <-r.exited:
		b, _ := os.ReadFile(r.log)
		return nil, fmt.Errorf("%s exited before serving:\n%s", name, b)
	case <-time.After(60 * time.Second):
		r.cmd.Process.Kill()
		return nil, fmt.Errorf("%s not serving after 60 s", name)
	}
}

// kill sends SIGKILL: no shutdown, no rollback of its own, connections cut.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.exited
}

// stopAll ends the replicas still running (SIGTERM, then SIGKILL after 15 s).
func (c *cluster) stopAll() {
	for _, r := range c.reps {
		if r != nil {
			select {
			case <-r.exited:
			default:
				r.cmd.Process.Signal(syscall.SIGTERM)
			}
		}
	}
	for _, r := range c.reps {
		if r == nil {
			continue
		}
		select {
		case <-r.exited:
		case <-time.After(15 * time.Second):
			r.cmd.Process.Kill()
			<-r.exited
		}
	}
	c.client.CloseIdleConnections()
	if c.t.Failed() {
		for _, r := range c.reps {
			if r != nil {
				b, _ := os.ReadFile(r.log)
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				c.t.Logf("%s: last log lines:\n%s", r.name, strings.Join(lines[max(0, len(lines)-15):], "\n"))
			}
		}
	}
}

// resp is an HTTP answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to replica i with the platform key (headers: name, value pairs).
func (c *cluster) do(i int, method, path string, body any, headers ...string) (resp, error) {
	return c.doAt(c.reps[i].base, method, path, body, headers...)
}

// doAt sends a request to the replica serving at base (http://host:port).
func (c *cluster) doAt(base, method, path string, body any, headers ...string) (resp, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return resp{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return resp{}, err
	}
	req.Header.Set("Authorization", "Bearer "+platformKey)
	req.Header.Set("Content-Type", "application/json")
	for j := 0; j+1 < len(headers); j += 2 {
		req.Header.Set(headers[j], headers[j+1])
	}
	res, err := c.client.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}, err
}

// must sends a request and fails the test unless the status is want.
func (c *cluster) must(i int, method, path string, body any, want int, out any, headers ...string) {
	c.t.Helper()
	r, err := c.do(i, method, path, body, headers...)
	if err != nil {
		c.t.Fatalf("%s %s on %s: %v", method, path, c.reps[i].name, err)
	}
	if r.status != want {
		c.t.Fatalf("%s %s on %s: %d %s", method, path, c.reps[i].name, r.status, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, r.body)
		}
	}
}

// facts ingests facts on replica i and fails the test unless all are accepted.
func (c *cluster) facts(i int, fs ...commerce.Fact) {
	c.t.Helper()
	var out factsResult
	c.must(i, http.MethodPost, "/v1/facts", map[string]any{"facts": fs}, http.StatusOK, &out)
	if out.Accepted != len(fs) {
		c.t.Fatalf("facts: %d of %d accepted: %+v", out.Accepted, len(fs), out.Results[:min(5, len(out.Results))])
	}
}

// factsResult is POST /v1/facts's answer.
type factsResult struct {
	Accepted, Duplicate, Refused int
	Results                      []struct{ ID, Status string }
}

// count runs a counting query on the schema.
func (c *cluster) count(sql string, args ...any) int {
	c.t.Helper()
	var n int
	if err := c.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// policyPatch is a --policy file: a Taobao version in force from from.
func policyPatch(from time.Time, rules string) string {
	return fmt.Sprintf("platform: taobao\nversions:\n  - id: taobao/replicas-test\n    effective_from: %s\n"+
		"    comment: loaded by the replica tests with serve --policy\n    rules: %s\n", from.Format(time.RFC3339), rules)
}

// subAccount is a sub-account with the platform-task permission that
// subscribes to reminders (R-NTF-1).
func subAccount(id string) commerce.Account {
	return commerce.Account{ID: id, Permissions: []string{commerce.PermPlatformTask}, SubscribesReminders: true}
}

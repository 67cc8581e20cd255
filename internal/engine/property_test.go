package engine_test

// Randomized (property) test of the one write path: random sequences of facts,
// buyer/seller/agent commands, complaints and clock advances go through the
// real engine on a real SQLite store (testkit), and after every step the
// invariants below are checked from the store.
//
//	go test ./internal/engine -run TestEngineProperty                      # 30 seeds × 200 steps
//	go test ./internal/engine -run TestEngineProperty -prop.seeds=500 -prop.steps=400
//	go test ./internal/engine -run TestEngineProperty -prop.seed=17 -v    # one seed, step log
//	go test ./internal/engine -run '^$' -fuzz FuzzEngine -fuzztime 60s
//
// (PROP_SEEDS, PROP_STEPS and PROP_SEED in the environment do the same as the flags.)
//
// Invariants, checked after every step:
//
//	(a) R-ST-4: a task never goes back to awaiting_seller_reply. No transition
//	    enters it (From ≠ awaiting_seller_reply, To = awaiting_seller_reply);
//	    apart from the create event, an event with To = awaiting_seller_reply
//	    is a non-transition recorded while the task is still there (From = To),
//	    and a task that has left the state is never seen in it again.
//	(b) at most one open task per (order, type).
//	(c) no timer exists for a completed task; every task timer belongs to the
//	    task's current state; no invoice timer outlives its issued invoice.
//	(d) every event has an actor (role and id), a time, a policy version and a
//	    valid visibility (R-ST-4: "recorded with actor, time, reason and the
//	    policy version in force").
//	(e) every open task in awaiting_seller_reply / awaiting_seller_action /
//	    awaiting_buyer_confirmation has its state's deadline timer and DueAt
//	    equal to it; platform_intervening and completed tasks have no DueAt.
//	(f) a refused command or fact (or a duplicate fact) changed nothing: no
//	    event, no outbox message, the same tasks (Rev and state), timers, order
//	    projection and complaints.
//	(g) event seqs strictly increase; event times never run backwards.
//	(h) the projection is the fold of its events: a task's State is the To of
//	    its last event and its Rev counts its transition events.
//	(i) operations the rules always allow are accepted: an agent's note on an
//	    open task, an agent resolving an intervened task, finishing an open
//	    complaint, the shop's main account replying to a new non-collaborative
//	    task, the buyer answering a plan.
//	(j) who acts and who is told: a shop actor belongs to the task's shop and a
//	    sub-account acting holds the platform-task permission (R-ACC-1); agent
//	    notes are agents-only and messages to the agent never public (R-MSG-2);
//	    an urge_shipment task is created only after the order's ship-by time
//	    (R-URG-1, R-URG-3); reminders and cards go only to sub-accounts with
//	    the permission, and no sub-account has more pending reminders in a
//	    business day than the cap (R-NTF-1, R-NTF-2).
//
// Refusals (apperr errors other than EINTERNAL) are expected; system errors,
// EINTERNAL refusals and timers the lifecycle does not take fail the test.

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

func propEnvInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

var (
	propSeeds = flag.Int("prop.seeds", int(propEnvInt("PROP_SEEDS", 30)), "TestEngineProperty: number of seeds")
	propSteps = flag.Int("prop.steps", int(propEnvInt("PROP_STEPS", 200)), "TestEngineProperty: steps per seed")
	propSeed  = flag.Int64("prop.seed", propEnvInt("PROP_SEED", -1), "TestEngineProperty: run only this seed")
	propMust  = flag.Bool("prop.must", os.Getenv("PROP_MUST") != "0", "TestEngineProperty, FuzzEngine: check invariant (i) (false: to fuzz past a known wrong refusal)")
	propCover = flag.Bool("prop.cover", os.Getenv("PROP_COVER") != "", "TestEngineProperty: log which transitions and refusals the run reached")
)

// propCoverage counts, over all seeds, the task events by (type family,
// action, from → to) and the refusals by reason, for -prop.cover.
var propCoverage = struct {
	sync.Mutex
	m map[string]int
}{m: map[string]int{}}

func propCount(key string) {
	if !*propCover {
		return
	}
	propCoverage.Lock()
	propCoverage.m[key]++
	propCoverage.Unlock()
}

// TestEngineProperty drives random sequences through the engine and checks
// the invariants (a)–(i) above (R-ST-4 among them) after every step.
func TestEngineProperty(t *testing.T) {
	seeds := make([]int64, 0, *propSeeds)
	if *propSeed >= 0 {
		seeds = append(seeds, *propSeed)
	} else {
		for s := range int64(*propSeeds) {
			seeds = append(seeds, s+1)
		}
	}
	if *propCover {
		t.Cleanup(func() {
			keys := make([]string, 0, len(propCoverage.m))
			for k := range propCoverage.m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			var b strings.Builder
			for _, k := range keys {
				fmt.Fprintf(&b, "%6d %s\n", propCoverage.m[k], k)
			}
			t.Logf("coverage:\n%s", b.String())
		})
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			c := propRand{rand.New(rand.NewPCG(uint64(seed), 0x5eed))}
			w := newPropWorld(t, c, fmt.Sprintf("go test ./internal/engine -run 'TestEngineProperty' -prop.seed=%d -prop.steps=%d -v", seed, *propSteps))
			for i := 0; i < *propSteps; i++ {
				w.step()
			}
			if testing.Verbose() && *propSeed >= 0 {
				t.Logf("steps:\n%s", strings.Join(w.log, "\n"))
			}
			t.Logf("%d steps: %d accepted, %d refused, %d tasks, %d events, %d timers fired", len(w.log), w.nAccepted, w.nRefused, len(w.tasks), w.lastSeq, w.fired)
		})
	}
}

// FuzzEngine derives the step sequence from the fuzz input: every choice the
// randomized test makes reads the next byte(s); the sequence ends when the
// input does (at most 400 steps).
func FuzzEngine(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	r := rand.New(rand.NewPCG(1, 2))
	for range 4 {
		b := make([]byte, 600)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &propBytes{b: data}
		w := newPropWorld(t, c, "go test ./internal/engine -run 'FuzzEngine/<corpus entry>' (testdata/fuzz/FuzzEngine)")
		for i := 0; i < 400 && !c.done(); i++ {
			w.step()
		}
	})
}

// chooser makes the random choices: from math/rand for the seeded test, from
// the input bytes for the fuzz target.
type propChooser interface {
	Intn(n int) int // in [0, n); 0 when n <= 1
}

type propRand struct{ r *rand.Rand }

func (c propRand) Intn(n int) int {
	if n <= 1 {
		return 0
	}
	return c.r.IntN(n)
}

type propBytes struct {
	b []byte
	i int
}

func (c *propBytes) Intn(n int) int {
	if n <= 1 {
		return 0
	}
	v := 0
	for k := 0; k < 2 && (k == 0 || n > 256); k++ {
		v <<= 8
		if c.i < len(c.b) {
			v |= int(c.b[c.i])
			c.i++
		}
	}
	return v % n
}

func (c *propBytes) done() bool { return c.i >= len(c.b) }

type propShop struct {
	id        string
	platform  commerce.Platform
	main      string
	subPerm   string // sub-account with the platform-task permission (R-ACC-1)
	subNoPerm string // sub-account without it
}

type propOrder struct {
	id, shopID, buyerID string
	shipBy              time.Time
}

// world is one random run: an engine on a fresh store, what was created, and
// what the invariants remember between steps.
type propWorld struct {
	tb    testing.TB
	env   *testkit.Env
	c     propChooser
	repro string

	shops      []propShop
	orders     []propOrder
	facts      []commerce.Fact // accepted or refused, for duplicates
	complaints []string
	factN      int
	log        []string

	// invariant state
	tasks     map[string]task.Task
	taskIDs   []string
	timers    []task.Timer
	lastSeq   int64
	lastOut   int64
	lastAt    time.Time
	leftReply map[string]bool
	lastTo    map[string]task.State
	transN    map[string]int

	nAccepted, nRefused, fired int
	mustSeen                   map[string]bool
	reminders                  map[string]int // pending reminders by recipient and business day
	factOK                     map[string]bool
}

var propStarts = []string{
	"2022-12-13T09:00:00+08:00", // crosses the 2022-12-15 stall thresholds and 2022-12-16 Tmall invoice points
	"2023-07-01T09:00:00+08:00", // crosses 2023-07-04 (cards, agent messages) and 2023-07-15
	"2023-07-13T20:00:00+08:00",
	"2023-08-01T09:00:00+08:00",
}

func newPropWorld(tb testing.TB, c propChooser, repro string) *propWorld {
	start, err := time.Parse(time.RFC3339, propStarts[c.Intn(len(propStarts))])
	if err != nil {
		tb.Fatal(err)
	}
	w := &propWorld{tb: tb, env: testkit.New(tb, start), c: c, repro: repro,
		tasks: map[string]task.Task{}, leftReply: map[string]bool{}, lastTo: map[string]task.State{}, transN: map[string]int{}}
	plats := []commerce.Platform{commerce.Taobao, commerce.Tmall, commerce.Taote}
	var facts []commerce.Fact
	for i, p := range plats {
		for k := 0; k < 1+c.Intn(2); k++ {
			id := fmt.Sprintf("s%d%c", i, 'a'+k)
			s := propShop{id: id, platform: p, main: id + "_main", subPerm: id + "_sub1", subNoPerm: id + "_sub2"}
			w.shops = append(w.shops, s)
			f := testkit.ShopFact(id, p,
				commerce.Account{ID: s.subPerm, Permissions: []string{commerce.PermPlatformTask}, SubscribesReminders: c.Intn(3) > 0},
				commerce.Account{ID: s.subNoPerm, Permissions: []string{"chat"}, SubscribesReminders: c.Intn(2) == 0})
			facts = append(facts, f)
		}
	}
	w.env.MustIngest(facts...)
	w.snapshot("setup")
	for range 3 + c.Intn(3) {
		w.step1(w.planOrder())
	}
	return w
}

func (w *propWorld) now() time.Time { return w.env.Clock.Now() }

func (w *propWorld) pick(n int) int { return w.c.Intn(n) }

func (w *propWorld) chance(num, den int) bool { return w.c.Intn(den) < num }

func (w *propWorld) fail(format string, args ...any) {
	w.tb.Helper()
	tail := w.log
	if len(tail) > 60 {
		tail = tail[len(tail)-60:]
	}
	w.tb.Fatalf("%s\nreproduce: %s\nlast steps:\n%s", fmt.Sprintf(format, args...), w.repro, strings.Join(tail, "\n"))
}

// plan is one step: what it is (for the log), the order it may change (for
// the "changed nothing" check), and how to run it.
type propPlan struct {
	desc    string
	orderID string
	// must: the rules always allow this; a refusal is a bug (invariant i).
	must bool
	run  func() (propOutcome, error)
}

type propOutcome int

const (
	outAccepted propOutcome = iota
	outRefused
	outMixed // a batch of facts, some accepted
)

// step picks a random step, runs it and checks the invariants.
func (w *propWorld) step() {
	w.tb.Helper()
	type gen struct {
		weight int
		f      func() propPlan
	}
	gens := []gen{
		{6, w.planOrder},
		{14, w.planFact},
		{3, w.planDuplicate},
		{5, w.planUrge},
		{2, w.planKeepContacting},
		{4, w.planStall},
		{3, w.planChaseInvoice},
		{6, w.planOpenTask},
		{16, w.planSeller},
		{5, w.planBuyer},
		{6, w.planAgent},
		{3, w.planFileComplaint},
		{4, w.planFinishComplaint},
		{12, w.planAdvance},
	}
	total := 0
	for _, g := range gens {
		total += g.weight
	}
	n := w.pick(total)
	for _, g := range gens {
		if n < g.weight {
			w.step1(g.f())
			return
		}
		n -= g.weight
	}
}

func (w *propWorld) step1(p propPlan) {
	w.tb.Helper()
	var preOrder []byte
	var preComplaints []judgment.Complaint
	if p.orderID != "" {
		preOrder, preComplaints = w.orderState(p.orderID)
	}
	preTasks, preTimers := w.tasks, w.timers
	out, err := p.run()
	line := fmt.Sprintf("%3d %s %s", len(w.log)+1, w.now().Format("01-02T15:04:05Z"), p.desc)
	if err != nil {
		ae, ok := apperr.As(err)
		if !ok || ae.Code == apperr.EINTERNAL {
			w.log = append(w.log, line+" → SYSTEM ERROR")
			w.fail("step %q: system error: %v", p.desc, err)
		}
		out = outRefused
		line += " → refused: " + ae.Error()
		propCount(fmt.Sprintf("refused %-28s %s %s", strings.SplitN(p.desc, " ", 2)[0], ae.Rule, ae.Reason))
	} else {
		line += [...]string{" → ok", " → refused", " → mixed"}[out]
	}
	w.log = append(w.log, line)
	switch out {
	case outAccepted, outMixed:
		w.nAccepted++
	case outRefused:
		w.nRefused++
		if p.must && *propMust {
			// A wrong refusal leaves the store as it was: report it once per
			// kind and keep going, so one run finds more than one bug.
			ae, _ := apperr.As(err)
			key := ""
			if ae != nil {
				key = ae.Reason + "|" + ae.Field + "|" + ae.Rule + "|" + strings.SplitN(p.desc, " ", 2)[0]
			}
			if !w.mustSeen[key] {
				if w.mustSeen == nil {
					w.mustSeen = map[string]bool{}
				}
				w.mustSeen[key] = true
				w.tb.Errorf("(i) step %d %q was refused, but the rules allow it: %v\nreproduce: %s", len(w.log), p.desc, err, w.repro)
			}
		}
	}
	newEvents, newOut := w.snapshot(p.desc)
	if out == outRefused {
		// (f) a refusal changes nothing.
		if newEvents > 0 || newOut > 0 {
			w.fail("(f) refused step %q appended %d events and %d outbox messages", p.desc, newEvents, newOut)
		}
		if len(preTasks) != len(w.tasks) {
			w.fail("(f) refused step %q changed the number of tasks: %d → %d", p.desc, len(preTasks), len(w.tasks))
		}
		for id, t := range w.tasks {
			if pt := preTasks[id]; pt.Rev != t.Rev || pt.State != t.State {
				w.fail("(f) refused step %q changed task %s: rev %d %s → rev %d %s", p.desc, id, pt.Rev, pt.State, t.Rev, t.State)
			}
		}
		if !propSameTimers(preTimers, w.timers) {
			w.fail("(f) refused step %q changed timers:\n%v\n→\n%v", p.desc, preTimers, w.timers)
		}
		if p.orderID != "" {
			postOrder, postComplaints := w.orderState(p.orderID)
			if string(preOrder) != string(postOrder) {
				w.fail("(f) refused step %q changed order %s:\n%s\n→\n%s", p.desc, p.orderID, preOrder, postOrder)
			}
			if !reflect.DeepEqual(preComplaints, postComplaints) {
				w.fail("(f) refused step %q changed complaints of %s", p.desc, p.orderID)
			}
		}
	}
}

func propSameTimers(a, b []task.Timer) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Subject != y.Subject || x.Kind != y.Kind || !x.DueAt.Equal(y.DueAt) || !x.SetAt.Equal(y.SetAt) || x.PolicyVersion != y.PolicyVersion {
			return false
		}
	}
	return true
}

func (w *propWorld) orderState(id string) ([]byte, []judgment.Complaint) {
	var o *commerce.Order
	var cs []judgment.Complaint
	err := w.env.Store.View(w.env.Ctx, func(tx store.ReadTx) error {
		var err error
		o, err = tx.Order(w.env.Ctx, id)
		if err != nil && apperr.CodeOf(err) != apperr.ENOTFOUND {
			return err
		}
		cs, err = tx.Complaints(w.env.Ctx, id)
		return err
	})
	if err != nil {
		w.fail("read order %s: %v", id, err)
	}
	if o == nil {
		return nil, cs
	}
	b, _ := json.Marshal(o)
	return b, cs
}

// snapshot reads the store after a step and checks the invariants. It
// returns how many events and outbox messages the step appended.
func (w *propWorld) snapshot(desc string) (newEvents, newOut int) {
	w.tb.Helper()
	ctx := w.env.Ctx
	var tasks []task.Task
	var timers []task.Timer
	var evs []task.Event
	var outN int
	err := w.env.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		if tasks, err = tx.Tasks(ctx, store.TaskFilter{}); err != nil {
			return err
		}
		if timers, err = tx.Timers(ctx, ""); err != nil {
			return err
		}
		if evs, err = tx.EventsAfter(ctx, w.lastSeq, 0); err != nil {
			return err
		}
		ms, err := tx.Outbox(ctx, w.lastOut, 0)
		if err != nil {
			return err
		}
		outN = len(ms)
		if len(ms) > 0 {
			w.lastOut = ms[len(ms)-1].Seq
		}
		w.checkOutbox(ms)
		return nil
	})
	if err != nil {
		w.fail("snapshot after %q: %v", desc, err)
	}

	// (a), (d), (g), and the fold for (h).
	for _, e := range evs {
		if e.Seq <= w.lastSeq {
			w.fail("(g) event seq %d after %d (%s %s)", e.Seq, w.lastSeq, e.Stream, e.Action)
		}
		w.lastSeq = e.Seq
		if e.At.Before(w.lastAt) {
			w.fail("(g) event %d at %s is before the previous event at %s", e.Seq, e.At, w.lastAt)
		}
		w.lastAt = e.At
		if e.Actor.Role == "" || e.Actor.ID == "" || e.At.IsZero() || e.PolicyVersion == "" {
			w.fail("(d) R-ST-4: event %d (%s on %s) lacks actor, time or policy version: %+v", e.Seq, e.Action, e.Stream, e)
		}
		switch e.Visibility {
		case task.Public, task.ShopAgent, task.AgentsOnly:
		default:
			w.fail("(d) event %d (%s) has visibility %q", e.Seq, e.Action, e.Visibility)
		}
		w.checkEvent(e)
		if e.Action == "complaint_filed" {
			var d struct {
				ID string `json:"complaint_id"`
			}
			if json.Unmarshal(e.Data, &d) == nil && d.ID != "" && !slices.Contains(w.complaints, d.ID) {
				w.complaints = append(w.complaints, d.ID)
			}
		}
		if e.TaskID == "" {
			continue
		}
		if e.To == task.AwaitingSellerReply && e.Action != string(task.ActCreate) {
			if e.From != task.AwaitingSellerReply {
				w.fail("(a) R-ST-4: event %d (%s) takes task %s from %s back to awaiting_seller_reply", e.Seq, e.Action, e.TaskID, e.From)
			}
		}
		if e.Action == string(task.ActCreate) {
			if _, seen := w.lastTo[e.TaskID]; seen {
				w.fail("(h) task %s has a second create event (%d)", e.TaskID, e.Seq)
			}
		} else if prev, ok := w.lastTo[e.TaskID]; !ok {
			w.fail("(h) event %d (%s) on task %s comes before its create event", e.Seq, e.Action, e.TaskID)
		} else if e.From != prev {
			w.fail("(h) event %d (%s) on task %s says from %s, but the task was %s", e.Seq, e.Action, e.TaskID, e.From, prev)
		}
		w.lastTo[e.TaskID] = e.To
		if t, ok := w.tasks[e.TaskID]; ok || e.Action == string(task.ActCreate) {
			fam := "?"
			if ok {
				fam = task.For(t.Type).Family
			}
			propCount(fmt.Sprintf("event   %-16s %-20s %s → %s", fam, e.Action, e.From, e.To))
		}
		if e.Action != "complaint_filed" {
			w.transN[e.TaskID]++
		}
	}
	newEvents = len(evs)

	prev := w.tasks
	w.tasks = make(map[string]task.Task, len(tasks))
	w.taskIDs = w.taskIDs[:0]
	open := map[string]string{}
	for _, t := range tasks {
		w.tasks[t.ID] = t
		w.taskIDs = append(w.taskIDs, t.ID)
		if p, ok := prev[t.ID]; ok && t.Rev < p.Rev {
			w.fail("task %s rev went back: %d → %d", t.ID, p.Rev, t.Rev)
		}
		// (a) once left, never back.
		if t.State != task.AwaitingSellerReply {
			w.leftReply[t.ID] = true
		} else if w.leftReply[t.ID] {
			w.fail("(a) R-ST-4: task %s is back in awaiting_seller_reply", t.ID)
		}
		// (b)
		if t.State.Open() {
			k := t.OrderID + "/" + string(t.Type)
			if other, dup := open[k]; dup {
				w.fail("(b) order %s has two open %s tasks: %s and %s", t.OrderID, t.Type, other, t.ID)
			}
			open[k] = t.ID
		}
		// (h)
		if last, ok := w.lastTo[t.ID]; !ok || last != t.State {
			w.fail("(h) task %s is %s but its last event says %q", t.ID, t.State, last)
		}
		if w.transN[t.ID] != t.Rev {
			w.fail("(h) task %s has rev %d but %d transition events", t.ID, t.Rev, w.transN[t.ID])
		}
		if t.State == task.Completed && t.Outcome == "" {
			w.fail("task %s completed without an outcome", t.ID)
		}
	}
	for id := range prev {
		if _, ok := w.tasks[id]; !ok {
			w.fail("task %s disappeared", id)
		}
	}

	// (c), (e)
	byTask := map[string]map[string]task.Timer{}
	for _, tm := range timers {
		t, isTask := w.tasks[tm.Subject]
		if !isTask {
			switch {
			case strings.HasPrefix(tm.Kind, "invoice_"):
			case tm.Kind == engine.TimerLiability && strings.HasPrefix(tm.Subject, "shop:"):
				// R-LIA-1: a shop's window re-evaluation, due at the next business midnight.
				if l := tm.DueAt.In(beijing); !tm.DueAt.After(w.now()) || l.Hour() != 0 || l.Minute() != 0 || l.Second() != 0 {
					w.fail("(c) shop timer %s/%s due %s: want a business midnight after now", tm.Subject, tm.Kind, tm.DueAt)
				}
			default:
				w.fail("(c) timer %s/%s has no task", tm.Subject, tm.Kind)
			}
			continue
		}
		if !t.State.Open() {
			w.fail("(c) completed task %s still has a %s timer (due %s)", t.ID, tm.Kind, tm.DueAt)
		}
		lc := task.For(t.Type)
		def, ok := lc.TimerFor(tm.Kind)
		if !ok || def.State != t.State {
			w.fail("(c) task %s in %s has a %s timer of another state", t.ID, t.State, tm.Kind)
		}
		if byTask[t.ID] == nil {
			byTask[t.ID] = map[string]task.Timer{}
		}
		byTask[t.ID][tm.Kind] = tm
	}
	deadline := map[task.State]string{
		task.AwaitingSellerReply:       task.TimerReply,
		task.AwaitingSellerAction:      task.TimerAction,
		task.AwaitingBuyerConfirmation: task.TimerConfirm,
	}
	for _, t := range tasks {
		kind, timed := deadline[t.State]
		if !timed {
			if t.DueAt != nil {
				w.fail("(e) task %s in %s has DueAt %s", t.ID, t.State, t.DueAt)
			}
			continue
		}
		tm, ok := byTask[t.ID][kind]
		if !ok {
			w.fail("(e) task %s in %s has no %s timer (DueAt %v; timers %v)", t.ID, t.State, kind, t.DueAt, byTask[t.ID])
		}
		if t.DueAt == nil || !t.DueAt.Equal(tm.DueAt) {
			w.fail("(e) task %s in %s: DueAt %v, %s timer due %s", t.ID, t.State, t.DueAt, kind, tm.DueAt)
		}
	}
	// invoice timers must not outlive the invoice (checked lazily: only subjects with timers)
	for _, tm := range timers {
		if _, isTask := w.tasks[tm.Subject]; isTask || tm.Kind == engine.TimerLiability {
			continue
		}
		b, _ := w.orderState(tm.Subject)
		var o commerce.Order
		if b == nil || json.Unmarshal(b, &o) != nil || o.Invoice == nil {
			w.fail("(c) invoice timer %s/%s for an order without an invoice request", tm.Subject, tm.Kind)
		}
		if o.Invoice.IssuedAt != nil {
			w.fail("(c) invoice timer %s/%s outlives the invoice issued at %s", tm.Subject, tm.Kind, o.Invoice.IssuedAt)
		}
	}
	w.timers = timers
	return newEvents, outN
}

// ---- choosing targets ----

func (w *propWorld) pickShop() propShop { return w.shops[w.pick(len(w.shops))] }

func (w *propWorld) shopOf(id string) propShop {
	for _, s := range w.shops {
		if s.id == id {
			return s
		}
	}
	return propShop{id: id, main: id + "_main"}
}

func (w *propWorld) pickOrder() (propOrder, bool) {
	if len(w.orders) == 0 {
		return propOrder{}, false
	}
	return w.orders[w.pick(len(w.orders))], true
}

// pickTask returns an open task most of the time, any task otherwise.
func (w *propWorld) pickTask() (task.Task, bool) {
	if len(w.taskIDs) == 0 {
		return task.Task{}, false
	}
	if w.chance(6, 7) {
		var open []string
		for _, id := range w.taskIDs {
			if w.tasks[id].State.Open() {
				open = append(open, id)
			}
		}
		if len(open) > 0 {
			return w.tasks[open[w.pick(len(open))]], true
		}
	}
	return w.tasks[w.taskIDs[w.pick(len(w.taskIDs))]], true
}

func (w *propWorld) buyer(o propOrder) task.Actor {
	switch w.pick(12) {
	case 0:
		return task.Actor{Role: task.RoleBuyer, ID: "buyer_other"}
	case 1:
		return task.Actor{Role: task.RoleShopMain, ID: w.shopOf(o.shopID).main}
	}
	return task.Actor{Role: task.RoleBuyer, ID: o.buyerID}
}

// sellerActor is the shop's main account, a sub-account with or without the
// platform-task permission, another shop's account, or someone else.
func (w *propWorld) sellerActor(shopID string) (task.Actor, string) {
	s := w.shopOf(shopID)
	switch n := w.pick(20); {
	case n < 9:
		return task.Actor{Role: task.RoleShopMain, ID: s.main}, "main"
	case n < 15:
		return task.Actor{Role: task.RoleShopSub, ID: s.subPerm}, "sub+perm"
	case n < 17:
		return task.Actor{Role: task.RoleShopSub, ID: s.subNoPerm}, "sub-perm"
	case n < 18:
		o := w.pickShop()
		return task.Actor{Role: task.RoleShopMain, ID: o.main}, "other shop"
	case n < 19:
		return task.Actor{Role: task.RoleShopMain, ID: s.subPerm}, "sub as main"
	default:
		return task.Actor{Role: task.RoleBuyer, ID: "buyer_0"}, "buyer"
	}
}

func (w *propWorld) agent() task.Actor {
	switch w.pick(15) {
	case 0:
		return task.Actor{Role: task.RoleSystem, ID: "sys"}
	case 1:
		return task.Actor{Role: task.RoleBuyer, ID: "buyer_0"}
	}
	return task.Actor{Role: task.RoleAgent, ID: fmt.Sprintf("agent_%d", w.pick(3))}
}

func (w *propWorld) randDur(maxHours int) time.Duration {
	return time.Duration(w.pick(maxHours*60+1)) * time.Minute
}

// ---- facts ----

func (w *propWorld) nextFactID() string {
	w.factN++
	return fmt.Sprintf("f%05d", w.factN)
}

// factAt is now most of the time, sometimes in the past, rarely too far ahead.
func (w *propWorld) factAt() time.Time {
	switch w.pick(12) {
	case 0:
		return w.now().Add(-w.randDur(72))
	case 1:
		return w.now().Add(10 * time.Minute) // beyond the 5 min skew: refused
	case 2:
		return w.now().Add(-time.Duration(w.pick(120)) * time.Second)
	}
	return w.now()
}

func (w *propWorld) ingestPlan(desc, orderID string, facts ...commerce.Fact) propPlan {
	return propPlan{desc: desc, orderID: orderID, run: func() (propOutcome, error) {
		res, err := w.env.Engine.Ingest(w.env.Ctx, facts)
		if err != nil {
			return outRefused, err
		}
		w.facts = append(w.facts, facts...)
		if w.factOK == nil {
			w.factOK = map[string]bool{}
		}
		nAcc := 0
		for i, r := range res {
			// A fact id is accepted once and then answered as a duplicate; a
			// refused fact is not recorded, so it may be accepted later.
			if r.Status == engine.FactDuplicate && !w.factOK[r.ID] {
				return outRefused, fmt.Errorf("fact %s answered as a duplicate, but it was never accepted", r.ID)
			}
			if r.Status != engine.FactDuplicate && w.factOK[r.ID] {
				return outRefused, fmt.Errorf("fact %s accepted before, now %s instead of duplicate", r.ID, r.Status)
			}
			switch r.Status {
			case engine.FactAccepted:
				w.factOK[r.ID] = true
				nAcc++
				if f := facts[i]; f.Type == commerce.FactOrder {
					w.orders = append(w.orders, propOrder{id: f.Order.ID, shopID: f.Order.ShopID, buyerID: f.Order.BuyerID, shipBy: f.Order.ShipBy})
				}
			case engine.FactRefused:
				if r.Error == nil || r.Error.Code == apperr.EINTERNAL {
					return outRefused, fmt.Errorf("fact %s refused with a system error: %v", r.ID, r.Error)
				}
			case engine.FactDuplicate:
			default:
				return outRefused, fmt.Errorf("fact %s: status %q", r.ID, r.Status)
			}
		}
		switch nAcc {
		case 0:
			return outRefused, nil
		case len(facts):
			return outAccepted, nil
		}
		return outMixed, nil
	}}
}

func (w *propWorld) planOrder() propPlan {
	s := w.pickShop()
	id := fmt.Sprintf("ord_%03d", len(w.orders)+1)
	if w.chance(1, 20) && len(w.orders) > 0 {
		id = w.orders[w.pick(len(w.orders))].id // exists: refused
	}
	shopID := s.id
	if w.chance(1, 25) {
		shopID = "s_unknown"
	}
	now := w.now()
	paid := now.Add(-time.Duration(w.pick(3*3600)) * time.Second)
	shipBy := paid.Add(time.Duration(1+w.pick(72)) * time.Hour)
	if w.chance(1, 4) {
		shipBy = paid.Add(time.Duration(1+w.pick(60)) * time.Minute) // soon past due
	}
	presale := []commerce.PresaleKind{commerce.PresaleNone, commerce.PresaleNone, commerce.PresaleNone, commerce.PresaleStaged, commerce.PresaleFull}[w.pick(5)]
	o := &commerce.Order{
		ID: id, ShopID: shopID, BuyerID: fmt.Sprintf("buyer_%d", w.pick(5)),
		BuyerRegion: []string{"beijing", "shanghai", "xinjiang", "zhejiang"}[w.pick(4)],
		RemoteArea:  w.chance(1, 4), PaidFen: int64(100 * (1 + w.pick(500))), PaidAt: paid, ShipBy: shipBy,
		Presale: presale, WorryFree: w.chance(1, 5),
		Items: []commerce.Item{{SKU: "SKU-" + strconv.Itoa(w.pick(9)), Category: "apparel", Custom: w.chance(1, 10), Virtual: w.chance(1, 12)}},
	}
	f := commerce.Fact{ID: w.nextFactID(), Type: commerce.FactOrder, At: now, Order: o}
	return w.ingestPlan(fmt.Sprintf("fact order %s shop=%s buyer=%s ship_by=+%s presale=%q remote=%v custom=%v virtual=%v",
		id, shopID, o.BuyerID, shipBy.Sub(paid), presale, o.RemoteArea, o.Items[0].Custom, o.Items[0].Virtual), id, f)
}

func (w *propWorld) orderFact(o propOrder) (commerce.Fact, string) {
	f := commerce.Fact{ID: w.nextFactID(), At: w.factAt()}
	var desc string
	switch w.pick(10) {
	case 0, 1:
		f.Type, f.Shipment = commerce.FactShipment, &commerce.ShipmentFact{OrderID: o.id, Carrier: "sf", TrackingNo: "SF" + f.ID}
		desc = "shipment"
	case 2, 3:
		st := commerce.TrackingInTransit
		if w.chance(1, 3) {
			st = commerce.TrackingSigned
		}
		f.Type, f.Tracking = commerce.FactTracking, &commerce.TrackingFact{OrderID: o.id, Status: st, Location: "hub"}
		desc = "tracking " + st
	case 4, 5:
		var paid int64
		if b, _ := w.orderState(o.id); b != nil {
			var ord commerce.Order
			_ = json.Unmarshal(b, &ord)
			paid = ord.PaidFen - ord.RefundedFen
		}
		amt := paid
		switch w.pick(4) {
		case 0:
			amt = 1 + int64(w.pick(int(max(paid, 1))))
		case 1:
			amt = paid + 1 + int64(w.pick(100)) // more than paid: refused
		}
		if amt <= 0 {
			amt = 1
		}
		f.Type, f.Refund = commerce.FactRefund, &commerce.RefundFact{OrderID: o.id, AmountFen: amt}
		desc = fmt.Sprintf("refund %d of %d left", amt, paid)
	case 6:
		f.Type, f.InvoiceRequested = commerce.FactInvoiceRequested, &commerce.InvoiceRequestedFact{OrderID: o.id}
		desc = "invoice requested"
	case 7:
		f.Type, f.InvoiceIssued = commerce.FactInvoiceIssued, &commerce.InvoiceIssuedFact{OrderID: o.id}
		desc = "invoice issued"
	case 8:
		by := w.now().Add(w.randDur(96))
		if w.chance(1, 6) {
			by = w.now().Add(-time.Hour)
		}
		f.Type, f.DelayReport = commerce.FactDelayReport, &commerce.DelayReportFact{OrderID: o.id, ReportedShipBy: by, Approved: w.chance(3, 4)}
		desc = fmt.Sprintf("delay report until %s approved=%v", by.UTC().Format("01-02T15:04"), f.DelayReport.Approved)
	default:
		f.Type, f.ChatReply = commerce.FactChatReply, &commerce.ChatReplyFact{OrderID: o.id}
		desc = "chat reply"
	}
	return f, fmt.Sprintf("fact %s %s %s at %s", f.ID, desc, o.id, f.At.Format("01-02T15:04:05Z"))
}

func (w *propWorld) planFact() propPlan {
	if w.chance(1, 8) {
		// presence of a random account (or an unknown one)
		s := w.pickShop()
		acc := []string{s.subPerm, s.subNoPerm, s.main, "acc_unknown"}[w.pick(4)]
		on := w.chance(1, 2)
		f := commerce.Fact{ID: w.nextFactID(), Type: commerce.FactPresence, At: w.now(), Presence: &commerce.PresenceFact{AccountID: acc, Online: on}}
		return w.ingestPlan(fmt.Sprintf("fact presence %s online=%v", acc, on), "", f)
	}
	o, ok := w.pickOrder()
	if !ok {
		return w.planOrder()
	}
	if w.chance(1, 6) {
		// a batch of 2–3 facts on the same order (group commit; some may be refused)
		var facts []commerce.Fact
		var descs []string
		for range 2 + w.pick(2) {
			f, d := w.orderFact(o)
			facts = append(facts, f)
			descs = append(descs, d)
		}
		if w.chance(1, 3) {
			facts = append(facts, facts[0]) // same id again in the batch: duplicate
			descs = append(descs, "dup "+facts[0].ID)
		}
		return w.ingestPlan("batch["+strings.Join(descs, "; ")+"]", o.id, facts...)
	}
	f, d := w.orderFact(o)
	return w.ingestPlan(d, o.id, f)
}

func (w *propWorld) planDuplicate() propPlan {
	if len(w.facts) == 0 {
		return w.planFact()
	}
	f := w.facts[w.pick(len(w.facts))]
	return w.ingestPlan("resend fact "+f.ID+" ("+string(f.Type)+")", f.OrderID(), f)
}

// ---- buyer ----

func (w *propWorld) planUrge() propPlan {
	o, ok := w.pickOrder()
	if !ok {
		return w.planOrder()
	}
	b := w.buyer(o)
	return propPlan{desc: fmt.Sprintf("urge %s by %s/%s", o.id, b.Role, b.ID), orderID: o.id, run: func() (propOutcome, error) {
		_, err := w.env.Engine.Urge(w.env.Ctx, b, o.id)
		return outAccepted, err
	}}
}

func (w *propWorld) planKeepContacting() propPlan {
	o, ok := w.pickOrder()
	if !ok {
		return w.planOrder()
	}
	b := w.buyer(o)
	return propPlan{desc: fmt.Sprintf("keep contacting %s by %s", o.id, b.ID), orderID: o.id, run: func() (propOutcome, error) {
		return outAccepted, w.env.Engine.KeepContacting(w.env.Ctx, b, o.id)
	}}
}

func (w *propWorld) createPlan(o propOrder, typ task.Type, actor task.Actor) propPlan {
	cmd := task.Command{Actor: actor, OrderID: o.id, Type: typ}
	if w.chance(1, 2) {
		cmd.Details = map[string]string{"reason": []string{"late", "damaged", "wrong size"}[w.pick(3)]}
	}
	return propPlan{desc: fmt.Sprintf("open %s on %s by %s/%s", typ, o.id, actor.Role, actor.ID), orderID: o.id, run: func() (propOutcome, error) {
		_, err := w.env.Engine.CreateTask(w.env.Ctx, cmd)
		return outAccepted, err
	}}
}

func (w *propWorld) planStall() propPlan {
	o, ok := w.pickOrder()
	if !ok {
		return w.planOrder()
	}
	return w.createPlan(o, task.LogisticsStall, w.buyer(o))
}

func (w *propWorld) planChaseInvoice() propPlan {
	o, ok := w.pickOrder()
	if !ok {
		return w.planOrder()
	}
	return w.createPlan(o, task.UrgeInvoice, w.buyer(o))
}

func (w *propWorld) planOpenTask() propPlan {
	o, ok := w.pickOrder()
	if !ok {
		return w.planOrder()
	}
	typ := task.Types[w.pick(len(task.Types))]
	if w.chance(1, 30) {
		typ = "bogus_type"
	}
	actor := w.buyer(o)
	if typ == task.Collaborative {
		actor = w.agent()
	}
	return w.createPlan(o, typ, actor)
}

func (w *propWorld) planBuyer() propPlan {
	t, ok := w.pickTask()
	if !ok {
		return w.planOpenTask()
	}
	o := propOrder{id: t.OrderID, shopID: t.ShopID, buyerID: t.BuyerID}
	b := w.buyer(o)
	act := task.ActAcceptPlan
	if w.chance(1, 2) {
		act = task.ActRejectPlan
	}
	must := t.State == task.AwaitingBuyerConfirmation && b.Role == task.RoleBuyer && b.ID == t.BuyerID
	return w.actPlan(t, task.Command{Action: act, Actor: b, TaskID: t.ID}, must)
}

// ---- seller ----

func (w *propWorld) planSeller() propPlan {
	t, ok := w.pickTask()
	if !ok {
		return w.planOpenTask()
	}
	acts := []task.Action{task.ActReply, task.ActProposePlan, task.ActRefuse, task.ActPerform, task.ActMessage,
		task.ActCollabAgreed, task.ActCollabNotAgreed, task.ActCollabUnreachable}
	// Mostly an action the task's state takes, so that runs get deep into
	// the lifecycles; otherwise any action, to exercise the refusals.
	sensible := w.chance(2, 3)
	if sensible {
		switch {
		case t.Type == task.Collaborative && t.State == task.AwaitingSellerReply:
			acts = acts[5:]
		case t.State == task.AwaitingSellerReply:
			acts = acts[:4]
		case t.State == task.AwaitingSellerAction:
			acts = []task.Action{task.ActPerform, task.ActPerform, task.ActRefuse}
		case t.State == task.PlatformIntervening:
			acts = []task.Action{task.ActMessage}
		}
	}
	act := acts[w.pick(len(acts))]
	actor, who := w.sellerActor(t.ShopID)
	cmd := task.Command{Action: act, Actor: actor, TaskID: t.ID, Text: "seller says " + string(act)}
	if w.chance(2, 3) || t.Type == task.Collaborative {
		r := &task.Reply{Text: "reply text", Attempts: w.pick(4)}
		sinceCreate := time.Duration(w.pick(int(w.now().Sub(t.CreatedAt)/time.Second)+1)) * time.Second
		switch n := w.pick(8); {
		case sensible && n < 6:
			at := t.CreatedAt.Add(sinceCreate)
			r.ContactedAt, r.Attempts = &at, 1+w.pick(3)
			r.Evidence = []string{"sha256:ab"}
		case n == 0:
		case n == 1:
			at := t.CreatedAt.Add(-time.Hour) // before creation: refused (R-COL-3)
			r.ContactedAt = &at
		case n == 2:
			at := w.now().Add(time.Hour) // in the future: refused
			r.ContactedAt = &at
		default:
			at := t.CreatedAt.Add(sinceCreate)
			r.ContactedAt = &at
		}
		for range w.pick(3) {
			r.Evidence = append(r.Evidence, fmt.Sprintf("sha256:%02x", w.pick(256)))
		}
		cmd.Reply = r
	}
	must := act == task.ActReply && who == "main" && t.State == task.AwaitingSellerReply && t.Type != task.Collaborative
	p := w.actPlan(t, cmd, must)
	p.desc += " (" + who + ")"
	return p
}

// ---- agent ----

func (w *propWorld) planAgent() propPlan {
	t, ok := w.pickTask()
	if !ok {
		return w.planOpenTask()
	}
	a := w.agent()
	isAgent := a.Role == task.RoleAgent
	if w.chance(1, 2) {
		cmd := task.Command{Action: task.ActResolve, Actor: a, TaskID: t.ID, Text: "judged"}
		if w.chance(1, 2) {
			cmd.Outcome = []string{"refund_buyer", "seller_wins", "compensated"}[w.pick(3)]
		}
		return w.actPlan(t, cmd, isAgent && t.State == task.PlatformIntervening)
	}
	return w.actPlan(t, task.Command{Action: task.ActAgentNote, Actor: a, TaskID: t.ID, Text: "note"}, isAgent && t.State.Open())
}

func (w *propWorld) actPlan(t task.Task, cmd task.Command, must bool) propPlan {
	return propPlan{desc: fmt.Sprintf("%s %s [%s %s] by %s/%s", cmd.Action, t.ID, t.Type, t.State, cmd.Actor.Role, cmd.Actor.ID),
		orderID: t.OrderID, must: must, run: func() (propOutcome, error) {
			_, err := w.env.Engine.Act(w.env.Ctx, cmd)
			return outAccepted, err
		}}
}

// ---- complaints ----

func (w *propWorld) planFileComplaint() propPlan {
	o, ok := w.pickOrder()
	if !ok {
		return w.planOrder()
	}
	b := w.buyer(o)
	kind := []string{judgment.ComplaintShipping, judgment.ComplaintShipping, judgment.ComplaintInvoice, "bogus"}[w.pick(4)]
	return propPlan{desc: fmt.Sprintf("file %s complaint on %s by %s", kind, o.id, b.ID), orderID: o.id, run: func() (propOutcome, error) {
		c, err := w.env.Engine.FileComplaint(w.env.Ctx, b, o.id, kind)
		if err == nil {
			w.complaints = append(w.complaints, c.ID)
		}
		return outAccepted, err
	}}
}

func (w *propWorld) planFinishComplaint() propPlan {
	if len(w.complaints) == 0 {
		return w.planFileComplaint()
	}
	id := w.complaints[w.pick(len(w.complaints))]
	if w.chance(1, 20) {
		id = "cmp_unknown"
	}
	var c *judgment.Complaint
	_ = w.env.Store.View(w.env.Ctx, func(tx store.ReadTx) error {
		c, _ = tx.Complaint(w.env.Ctx, id)
		return nil
	})
	status := []string{judgment.ComplaintUpheld, judgment.ComplaintWithdrawn, judgment.ComplaintDismissed, "bogus"}[w.pick(4)]
	a := w.agent()
	orderID := ""
	must := false
	if c != nil {
		orderID = c.OrderID
		must = !c.Finished() && a.Role == task.RoleAgent && status != "bogus"
	}
	desc := fmt.Sprintf("finish complaint %s as %s by %s/%s", id, status, a.Role, a.ID)
	if c != nil {
		desc += fmt.Sprintf(" [%s %s task=%q]", c.Kind, c.Status, c.TaskID)
	}
	return propPlan{desc: desc, orderID: orderID, must: must, run: func() (propOutcome, error) {
		_, err := w.env.Engine.FinishComplaint(w.env.Ctx, a, id, status)
		return outAccepted, err
	}}
}

// ---- time ----

func (w *propWorld) planAdvance() propPlan {
	var d time.Duration
	switch w.pick(10) {
	case 0, 1:
		d = time.Duration(1+w.pick(59)) * time.Second
	case 2, 3:
		d = time.Duration(1+w.pick(59)) * time.Minute
	case 4, 5, 6, 7:
		d = time.Duration(1+w.pick(23))*time.Hour + time.Duration(w.pick(60))*time.Minute
	default:
		d = time.Duration(1+w.pick(3))*24*time.Hour + time.Duration(w.pick(24))*time.Hour
	}
	late := w.chance(1, 3)
	batch := 1 + w.pick(4)
	desc := "advance " + d.String()
	if late {
		desc += fmt.Sprintf(" (late sweeper, batches of %d)", batch)
	}
	return propPlan{desc: desc, run: func() (propOutcome, error) {
		to := w.now().Add(d)
		var res engine.FireResult
		if late {
			w.env.Clock.Set(to)
			for {
				r, err := w.env.Engine.FireDue(w.env.Ctx, to, batch)
				if err != nil {
					return outRefused, err
				}
				res.Fired += r.Fired
				res.Skipped += r.Skipped
				if r.Fired+r.Skipped == 0 {
					break
				}
			}
		} else {
			var err error
			if res, err = w.env.Engine.AdvanceTo(w.env.Ctx, w.env.Clock, to); err != nil {
				return outRefused, err
			}
		}
		w.fired += res.Fired
		if res.Skipped > 0 {
			w.fail("advance %s: %d timers fired but the lifecycle did not take them (a timer outlived its state)", d, res.Skipped)
		}
		return outAccepted, nil
	}}
}

// checkEvent checks (j) on one event.
func (w *propWorld) checkEvent(e task.Event) {
	w.tb.Helper()
	switch e.Actor.Role {
	case task.RoleShopMain, task.RoleShopSub:
		if !strings.HasPrefix(e.Actor.ID, e.ShopID+"_") {
			w.fail("(j) R-ACC-1: event %d (%s on %s) by %s, not an account of shop %s", e.Seq, e.Action, e.Stream, e.Actor.ID, e.ShopID)
		}
		if e.Actor.Role == task.RoleShopSub && !strings.HasSuffix(e.Actor.ID, "_sub1") {
			w.fail("(j) R-ACC-1: event %d (%s) by sub-account %s, which lacks the platform-task permission", e.Seq, e.Action, e.Actor.ID)
		}
	}
	switch task.Action(e.Action) {
	case task.ActAgentNote:
		if e.Visibility != task.AgentsOnly {
			w.fail("(j) R-MSG-2: agent note %d is %s", e.Seq, e.Visibility)
		}
	case task.ActMessage:
		if e.Visibility == task.Public {
			w.fail("(j) R-MSG-2: message to the agent %d is public", e.Seq)
		}
	case task.ActCreate:
		if w.taskType(e.TaskID) != task.UrgeShipment {
			break
		}
		for _, o := range w.orders {
			if o.id == e.OrderID && !e.At.After(o.shipBy) {
				w.fail("(j) R-URG-3: urge_shipment task %s created at %s, within the ship-by time %s", e.TaskID, e.At, o.shipBy)
			}
		}
	}
}

func (w *propWorld) taskType(id string) task.Type {
	if t, ok := w.tasks[id]; ok {
		return t.Type
	}
	var typ task.Type
	_ = w.env.Store.View(w.env.Ctx, func(tx store.ReadTx) error {
		if t, err := tx.Task(w.env.Ctx, id); err == nil {
			typ = t.Type
		}
		return nil
	})
	return typ
}

// checkOutbox checks (j) on new outbox messages.
func (w *propWorld) checkOutbox(ms []notify.Message) {
	w.tb.Helper()
	for _, m := range ms {
		if m.PolicyVersion == "" || m.At.IsZero() || m.Recipient == "" {
			w.fail("outbox message %d (%s) lacks policy version, time or recipient: %+v", m.Seq, m.Kind, m)
		}
		switch m.Kind {
		case notify.KindReminder, notify.KindCard:
			if !strings.HasSuffix(m.Recipient, "_sub1") {
				w.fail("(j) R-NTF-1/R-NTF-2: %s %d to %s, which is not a sub-account with the platform-task permission", m.Kind, m.Seq, m.Recipient)
			}
		}
		if m.Kind != notify.KindReminder || m.Status != notify.Pending {
			continue
		}
		shop := w.shopOf(m.ShopID)
		r, err := w.env.Policy.At(shop.platform, m.At)
		if err != nil {
			w.fail("policy for %s at %s: %v", shop.platform, m.At, err)
		}
		key := m.Recipient + " " + r.BusinessDay(m.At)
		if w.reminders == nil {
			w.reminders = map[string]int{}
		}
		w.reminders[key]++
		if n := w.reminders[key]; n > r.Notify.ReminderDailyCap {
			w.fail("(j) R-NTF-1: %s got %d pending reminders on %s, cap %d", m.Recipient, n, key, r.Notify.ReminderDailyCap)
		}
	}
}

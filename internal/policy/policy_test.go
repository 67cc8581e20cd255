package policy

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
)

var cst = time.FixedZone("CST", 8*3600)

func at(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, cst)
}

func mustDefault(t testing.TB) *Registry {
	t.Helper()
	r, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return r
}

func mustAt(t testing.TB, r *Registry, p commerce.Platform, tm time.Time) *RuleSet {
	t.Helper()
	rs, err := r.At(p, tm)
	if err != nil {
		t.Fatalf("At(%s, %s): %v", p, tm, err)
	}
	return rs
}

var platforms = []commerce.Platform{commerce.Taobao, commerce.Tmall, commerce.Taote}

var eightCardTypes = []string{"return_refund", "exchange", "change_address", "resend",
	"provide_return_address", "repair", "postage_refund", "delivery_problem"}

func TestDefaultsLoad(t *testing.T) {
	r := mustDefault(t)
	if got := len(r.Files()); got != 3 {
		t.Fatalf("files = %d, want 3", got)
	}
	for _, p := range platforms {
		rs := mustAt(t, r, p, at(2023, 8, 1, 10, 0, 0))
		if rs.Platform != p {
			t.Errorf("%s: Platform = %q", p, rs.Platform)
		}
		if !strings.HasPrefix(rs.Version, string(p)+"/2022.1+") {
			t.Errorf("%s: Version = %q", p, rs.Version)
		}
		// Location is cached when resolving: no LoadLocation on the hot path.
		if rs.loc == nil || rs.Location().String() != "Asia/Shanghai" {
			t.Errorf("%s: location not cached: %v", p, rs.loc)
		}
	}
}

// Collaborative tasks are Tmall's (R-COL-1); every other type runs everywhere (RULES.md §1).
func TestEnabledTypes(t *testing.T) {
	r := mustDefault(t)
	for _, p := range platforms {
		rs := mustAt(t, r, p, at(2022, 6, 1, 0, 0, 0))
		for _, typ := range TaskTypes {
			want := typ != "collaborative" || p == commerce.Tmall
			if got := rs.Tasks.TypeEnabled(typ); got != want {
				t.Errorf("%s: TypeEnabled(%s) = %v, want %v", p, typ, got, want)
			}
		}
	}
}

// R-SLA-1: every task type, reply within 24 hours.
func TestReplyDeadline24h_R_SLA_1(t *testing.T) {
	r := mustDefault(t)
	for _, p := range platforms {
		for _, tm := range []time.Time{at(2022, 1, 1, 0, 0, 0), at(2024, 1, 1, 0, 0, 0)} {
			rs := mustAt(t, r, p, tm)
			for _, typ := range TaskTypes {
				if got := rs.Tasks.ReplyDeadlineFor(typ); got != 24*time.Hour {
					t.Errorf("%s %s %s: reply deadline %v, want 24h", p, tm, typ, got)
				}
			}
		}
	}
}

// R-NTF-1: at most 10 reminders per sub-account per day.
func TestReminderCap10_R_NTF_1(t *testing.T) {
	r := mustDefault(t)
	for _, p := range platforms {
		if got := mustAt(t, r, p, at(2023, 1, 1, 0, 0, 0)).Notify.ReminderDailyCap; got != 10 {
			t.Errorf("%s: reminder cap %d, want 10", p, got)
		}
	}
}

// R-LOG-1: 48 h / 72 h until 2022-12-15 00:00 +08:00, then 72 h / 96 h, and
// the version recorded differs.
func TestLogisticsStall_R_LOG_1(t *testing.T) {
	r := mustDefault(t)
	for _, p := range platforms {
		before := mustAt(t, r, p, at(2022, 12, 14, 23, 59, 59))
		after := mustAt(t, r, p, at(2022, 12, 15, 0, 0, 0))
		if before.Logistics.StallAfter.D() != 48*time.Hour || before.Logistics.StallAfterRemote.D() != 72*time.Hour {
			t.Errorf("%s before: %s/%s, want 48h/72h", p, before.Logistics.StallAfter, before.Logistics.StallAfterRemote)
		}
		if after.Logistics.StallAfter.D() != 72*time.Hour || after.Logistics.StallAfterRemote.D() != 96*time.Hour {
			t.Errorf("%s after: %s/%s, want 72h/96h", p, after.Logistics.StallAfter, after.Logistics.StallAfterRemote)
		}
		if before.Version == after.Version {
			t.Errorf("%s: same version %q on both sides of 2022-12-15", p, before.Version)
		}
		if want := string(p) + "/2022.1+" + string(p) + "/2022.12.15"; after.Version != want {
			t.Errorf("%s: version %q, want %q", p, after.Version, want)
		}
		// The same instant given in UTC resolves the same.
		if got := mustAt(t, r, p, at(2022, 12, 15, 0, 0, 0).UTC()); got != after {
			t.Errorf("%s: UTC instant resolved differently", p)
		}
	}
}

// R-LOG-3: the 72/96 h layer gets an end date later (edited into the file);
// after it the 48/72 h figures come back, while the later layers (points,
// cards, July switches) still apply. Exactly at the end: the old figures.
func TestLogisticsEndAnnounced_R_LOG_3(t *testing.T) {
	src, err := DefaultSource(commerce.Tmall)
	if err != nil {
		t.Fatal(err)
	}
	const open = "    effective_until:\n"
	if strings.Count(string(src), open) != 1 {
		t.Fatalf("tmall.yaml: want exactly one open effective_until line")
	}
	edited := strings.Replace(string(src), open, "    effective_until: 2023-09-01T00:00:00+08:00\n", 1)
	f, issues := ParseFile("tmall.yaml", []byte(edited))
	if issues != nil {
		t.Fatalf("edited file: %v", issues)
	}
	r, err := NewRegistry(f)
	if err != nil {
		t.Fatal(err)
	}
	checkLOG3(t, r)
}

// R-LOG-3 through the registry: an operator announces the end with SetUntil.
func TestLogisticsEndAnnouncedSetUntil_R_LOG_3(t *testing.T) {
	r := mustDefault(t)
	end := at(2023, 9, 1, 0, 0, 0)
	if err := r.SetUntil(commerce.Tmall, "tmall/2022.12.15", end); err != nil {
		t.Fatal(err)
	}
	checkLOG3(t, r)
	// The end, once set, is not replaced.
	if err := r.SetUntil(commerce.Tmall, "tmall/2022.12.15", end.Add(time.Hour)); apperr.CodeOf(err) != apperr.ECONFLICT {
		t.Errorf("second SetUntil: %v, want conflict", err)
	}
	if err := r.SetUntil(commerce.Tmall, "tmall/nope", end); apperr.CodeOf(err) != apperr.ENOTFOUND {
		t.Errorf("SetUntil unknown id: %v, want not found", err)
	}
	// Other platforms are untouched.
	if got := mustAt(t, r, commerce.Taobao, end).Logistics.StallAfter.D(); got != 72*time.Hour {
		t.Errorf("taobao after tmall's end: %v, want 72h", got)
	}
}

func checkLOG3(t *testing.T, r *Registry) {
	t.Helper()
	end := at(2023, 9, 1, 0, 0, 0)
	last := mustAt(t, r, commerce.Tmall, end.Add(-time.Nanosecond))
	if last.Logistics.StallAfter.D() != 72*time.Hour || last.Logistics.StallAfterRemote.D() != 96*time.Hour {
		t.Errorf("just before the end: %s/%s, want 72h/96h", last.Logistics.StallAfter, last.Logistics.StallAfterRemote)
	}
	for _, tm := range []time.Time{end, end.Add(24 * time.Hour)} {
		rs := mustAt(t, r, commerce.Tmall, tm)
		if rs.Logistics.StallAfter.D() != 48*time.Hour || rs.Logistics.StallAfterRemote.D() != 72*time.Hour {
			t.Errorf("at %s: %s/%s, want 48h/72h back", tm, rs.Logistics.StallAfter, rs.Logistics.StallAfterRemote)
		}
		if rs.Invoice.PointsPerCase != 1 {
			t.Errorf("at %s: points per case %d, want 1 (R-INV-3 still applies)", tm, rs.Invoice.PointsPerCase)
		}
		if !slices.Equal(rs.Notify.CardTypes, eightCardTypes) {
			t.Errorf("at %s: card types %v (R-NTF-2 still applies)", tm, rs.Notify.CardTypes)
		}
		if rs.Urge.RequireComplaint || len(rs.Urge.ExemptPresale) != 0 {
			t.Errorf("at %s: July switches lost: %+v", tm, rs.Urge)
		}
		if want := "tmall/2022.1+tmall/2022.12.16+tmall/2023.7.4+tmall/2023.7.15"; rs.Version != want {
			t.Errorf("at %s: version %q, want %q", tm, rs.Version, want)
		}
	}
}

// R-URG-2 (4)(5): the "no complaint yet" and presale exclusions are lifted
// at 2023-07-15 00:00 +08:00 (inferred date for the seed's "mid-July").
func TestUrgeSwitchesMidJuly_R_URG_2(t *testing.T) {
	r := mustDefault(t)
	for _, p := range platforms {
		before := mustAt(t, r, p, at(2023, 7, 14, 23, 59, 59))
		after := mustAt(t, r, p, at(2023, 7, 15, 0, 0, 0))
		if !before.Urge.RequireComplaint || !slices.Equal(before.Urge.ExemptPresale, []string{"staged", "full"}) {
			t.Errorf("%s before: %+v, want require_complaint and presale exempt", p, before.Urge)
		}
		if after.Urge.RequireComplaint || len(after.Urge.ExemptPresale) != 0 {
			t.Errorf("%s after: %+v, want both lifted", p, after.Urge)
		}
		// (1)(2)(3) stay.
		for _, rs := range []*RuleSet{before, after} {
			if !rs.Urge.HonorDelayReports || !slices.Equal(rs.Urge.ExemptItemFlags, []string{"custom", "virtual"}) {
				t.Errorf("%s: %+v, want delay reports honoured and custom/virtual exempt", p, rs.Urge)
			}
		}
	}
}

// R-INV-3: 0 points before 2022-12-16 00:00 +08:00, 1 at it, capped at 6 in
// 30 days (Tmall). R-INV-2: first deadline 10 d, second timeout 10 d later.
func TestInvoicePoints_R_INV_3(t *testing.T) {
	r := mustDefault(t)
	before := mustAt(t, r, commerce.Tmall, at(2022, 12, 15, 23, 59, 59))
	after := mustAt(t, r, commerce.Tmall, at(2022, 12, 16, 0, 0, 0))
	if before.Invoice.PointsPerCase != 0 || after.Invoice.PointsPerCase != 1 {
		t.Errorf("points per case: %d before, %d after, want 0 then 1", before.Invoice.PointsPerCase, after.Invoice.PointsPerCase)
	}
	if after.Invoice.PointsCap != 6 || after.Invoice.PointsWindow.D() != 30*24*time.Hour {
		t.Errorf("cap %d in %s, want 6 in 30d", after.Invoice.PointsCap, after.Invoice.PointsWindow)
	}
	// R-INV-2: seed 001's example, applied 12-05 → latest 12-25 (A + 10 d + 10 d).
	a := at(2022, 12, 5, 0, 0, 0)
	second := a.Add(after.Invoice.FirstDeadline.D() + after.Invoice.SecondTimeoutAfter.D())
	if !second.Equal(at(2022, 12, 25, 0, 0, 0)) {
		t.Errorf("second timeout %s, want 2022-12-25", second)
	}
	// Taobao and Taote: the seed's points rule is Tmall's (see the comments in
	// their default files): no points.
	for _, p := range []commerce.Platform{commerce.Taobao, commerce.Taote} {
		if got := mustAt(t, r, p, at(2024, 1, 1, 0, 0, 0)).Invoice.PointsPerCase; got != 0 {
			t.Errorf("%s: points per case %d, want 0", p, got)
		}
	}
}

// R-NTF-2, R-MSG-1: no card types before 2023-07-04, the eight after.
func TestCardTypes_R_NTF_2(t *testing.T) {
	r := mustDefault(t)
	for _, p := range platforms {
		before := mustAt(t, r, p, at(2023, 7, 3, 23, 59, 59))
		after := mustAt(t, r, p, at(2023, 7, 4, 0, 0, 0))
		if len(before.Notify.CardTypes) != 0 || len(before.Messages.AgentMessageTypes) != 0 {
			t.Errorf("%s before: cards %v, messages %v, want none", p, before.Notify.CardTypes, before.Messages.AgentMessageTypes)
		}
		if !slices.Equal(after.Notify.CardTypes, eightCardTypes) {
			t.Errorf("%s after: cards %v", p, after.Notify.CardTypes)
		}
		if !slices.Equal(after.Messages.AgentMessageTypes, eightCardTypes) {
			t.Errorf("%s after: agent message types %v (R-MSG-1)", p, after.Messages.AgentMessageTypes)
		}
		for _, not := range []string{"urge_shipment", "signed_elsewhere", "logistics_stall", "urge_invoice", "presale_deposit_refund"} {
			if Contains(after.Notify.CardTypes, not) {
				t.Errorf("%s: %s must not send a card", p, not)
			}
		}
	}
}

// R-SLA-3 hooks: the standard shipping complaints are judged by.
func TestComplaintStandards_R_SLA_3(t *testing.T) {
	r := mustDefault(t)
	want := map[commerce.Platform]string{commerce.Tmall: "天猫物流时效管理规范", commerce.Taobao: "淘宝网发货管理规范", commerce.Taote: "淘宝网发货管理规范"}
	for p, std := range want {
		if got := mustAt(t, r, p, at(2023, 1, 1, 0, 0, 0)).Complaints.ShippingStandard; got != std {
			t.Errorf("%s: %q, want %q", p, got, std)
		}
	}
}

func TestAtErrors(t *testing.T) {
	r := mustDefault(t)
	if _, err := r.At("jd", at(2023, 1, 1, 0, 0, 0)); apperr.CodeOf(err) != apperr.ENOTFOUND {
		t.Errorf("unknown platform: %v", err)
	}
	if _, err := r.At(commerce.Tmall, at(2021, 12, 31, 23, 59, 59)); apperr.CodeOf(err) != apperr.ENOTFOUND {
		t.Errorf("before the first version: %v", err)
	}
	var empty Registry
	if _, err := empty.At(commerce.Tmall, at(2023, 1, 1, 0, 0, 0)); err == nil {
		t.Error("empty registry: no error")
	}
}

// An operator loads a version that takes effect in the future (RULES.md
// "Policy"); the registry re-validates and refuses duplicates and bad
// versions without changing anything.
func TestAddFutureVersion(t *testing.T) {
	r := mustDefault(t)
	patch := []byte(`platform: tmall
versions:
  - id: tmall/2024.3.1
    effective_from: 2024-03-01T00:00:00+08:00
    comment: operator preview
    rules:
      logistics: {stall_after: 60h}
      tasks: {reply_deadline_by_type: {urge_invoice: 12h}}
`)
	f, issues := ParsePatch("ops.yaml", patch)
	if issues != nil {
		t.Fatal(issues)
	}
	if _, issues := ParseFile("ops.yaml", patch); len(issues) == 0 {
		t.Error("ParseFile accepted an incomplete first version")
	}
	if err := r.Add(f); err != nil {
		t.Fatal(err)
	}
	before := mustAt(t, r, commerce.Tmall, at(2024, 2, 29, 23, 59, 59))
	after := mustAt(t, r, commerce.Tmall, at(2024, 3, 1, 0, 0, 0))
	if before.Logistics.StallAfter.D() != 72*time.Hour {
		t.Errorf("before: %s", before.Logistics.StallAfter)
	}
	if after.Logistics.StallAfter.D() != 60*time.Hour || after.Logistics.StallAfterRemote.D() != 96*time.Hour {
		t.Errorf("after: %s/%s, want 60h/96h", after.Logistics.StallAfter, after.Logistics.StallAfterRemote)
	}
	if after.Tasks.ReplyDeadlineFor("urge_invoice") != 12*time.Hour || after.Tasks.ReplyDeadlineFor("repair") != 24*time.Hour {
		t.Errorf("per-type deadline: %v", after.Tasks.ReplyDeadlineByType)
	}
	if !strings.HasSuffix(after.Version, "+tmall/2024.3.1") {
		t.Errorf("version %q", after.Version)
	}
	if n := len(r.Versions(commerce.Tmall)); n != 6 {
		t.Errorf("versions = %d, want 6", n)
	}

	// Duplicate id: refused, nothing replaced.
	err := r.Add(f)
	ie, ok := err.(*IssueError)
	if !ok || len(ie.Issues) != 1 || ie.Issues[0].Path != "versions[0].id" || apperr.CodeOf(err) != apperr.EINVALID {
		t.Fatalf("duplicate: %v", err)
	}
	// A version whose resolved rules are invalid: refused with the path.
	bad := &File{Name: "bad.yaml", Platform: commerce.Tmall, Versions: []Version{{
		ID: "tmall/2024.4", From: at(2024, 4, 1, 0, 0, 0),
		Rules: map[string]any{"notify": map[string]any{"card_types": []any{"repair", "haircut"}}},
	}}}
	err = r.Add(bad)
	ie, ok = err.(*IssueError)
	if !ok || len(ie.Issues) != 1 || ie.Issues[0].String() != `bad.yaml: versions[0].rules.notify.card_types[1]: unknown task type "haircut" (want one of: `+strings.Join(TaskTypes, ", ")+")" {
		t.Fatalf("bad card type: %v", err)
	}
	if got := mustAt(t, r, commerce.Tmall, at(2024, 5, 1, 0, 0, 0)); got.Version != after.Version {
		t.Errorf("registry changed by a refused Add: %q", got.Version)
	}
	// A patch alone before the baseline leaves the rules incomplete.
	early := &File{Name: "early.yaml", Platform: commerce.Taote, Versions: []Version{{
		ID: "taote/2021", From: at(2021, 1, 1, 0, 0, 0), Until: ptr(at(2021, 6, 1, 0, 0, 0)),
		Rules: map[string]any{"logistics": map[string]any{"stall_after": "1h"}},
	}}}
	if err := r.Add(early); err == nil || !strings.Contains(err.Error(), "early.yaml: versions[0].rules: the rules in force from 2021-01-01T00:00:00+08:00 (taote/2021) are incomplete") {
		t.Errorf("early patch: %v", err)
	}
	// Programmatic Rules (as from JSON) decode too: float64 numbers.
	js := &File{Name: "api", Platform: commerce.Taobao, Versions: []Version{{
		ID: "taobao/2025.1", From: at(2025, 1, 1, 0, 0, 0),
		Rules: map[string]any{"invoice": map[string]any{"points_per_case": float64(2)}},
	}}}
	if err := r.Add(js); err != nil {
		t.Fatal(err)
	}
	if got := mustAt(t, r, commerce.Taobao, at(2025, 1, 2, 0, 0, 0)).Invoice.PointsPerCase; got != 2 {
		t.Errorf("points from JSON-like rules: %d", got)
	}
}

func ptr[T any](v T) *T { return &v }

// Returned values are copies: changing them does not change the registry.
func TestRegistryCopies(t *testing.T) {
	r := mustDefault(t)
	vs := r.Versions(commerce.Tmall)
	vs[0].Rules["timezone"] = "Mars/Olympus"
	vs[0].Rules["logistics"].(map[string]any)["stall_after"] = "1h"
	fs := r.Files()
	fs[0].Versions[0].ID = "x"
	again := r.Versions(commerce.Tmall)
	if again[0].Rules["timezone"] != "Asia/Shanghai" || again[0].Rules["logistics"].(map[string]any)["stall_after"] != "48h" || r.Files()[0].Versions[0].ID == "x" {
		t.Error("registry state changed through a returned copy")
	}
	layers, err := r.Layers(commerce.Tmall, at(2022, 12, 15, 0, 0, 0))
	if err != nil || len(layers) != 2 || layers[1].ID != "tmall/2022.12.15" {
		t.Errorf("Layers: %v %v", layers, err)
	}
	ch := r.Changes(commerce.Taobao)
	if len(ch) != 4 || !ch[1].At.Equal(at(2022, 12, 15, 0, 0, 0)) {
		t.Errorf("Changes: %v", ch)
	}
}

func TestConcurrentAtAndAdd(t *testing.T) {
	r := mustDefault(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				if _, err := r.At(commerce.Tmall, at(2023, 1, 1, 0, 0, 0).Add(time.Duration(i)*time.Hour)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		f := &File{Platform: commerce.Tmall, Versions: []Version{{
			ID: "tmall/ops." + string(rune('a'+i)), From: at(2024, 1, 1+i, 0, 0, 0),
			Rules: map[string]any{"notify": map[string]any{"reminder_daily_cap": i + 1}},
		}}}
		if err := r.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if got := mustAt(t, r, commerce.Tmall, at(2025, 1, 1, 0, 0, 0)).Notify.ReminderDailyCap; got != 20 {
		t.Errorf("cap %d, want 20", got)
	}
}

func TestDurationString(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{{"24h", "24h"}, {"72h", "72h"}, {"10d", "10d"}, {"30d", "30d"}, {"1d12h", "36h"}, {"90m", "1h30m"}, {"2h", "2h"}, {"0s", "0s"}, {"7d", "7d"}} {
		d, err := ParseDuration(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if d.String() != c.want {
			t.Errorf("%s: %q, want %q", c.in, d.String(), c.want)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Errorf("%s: round trip %v %v", c.in, back, err)
		}
	}
}

func BenchmarkAt(b *testing.B) {
	r := mustDefault(b)
	times := []time.Time{at(2022, 6, 1, 0, 0, 0), at(2022, 12, 15, 12, 0, 0), at(2023, 7, 10, 0, 0, 0), at(2024, 1, 1, 0, 0, 0)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := r.At(commerce.Tmall, times[i&3]); err != nil {
			b.Fatal(err)
		}
	}
}

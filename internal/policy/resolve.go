package policy

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"aftersale/internal/commerce"
)

// layer is a version with where it came from, for messages.
type layer struct {
	v   *Version
	src string // file name
	idx int    // index of the version in its file
}

func (l layer) path() string { return fmt.Sprintf("versions[%d]", l.idx) }

// segment is a stretch of time [from, next segment's from) over which the
// same layers are in force.
type segment struct {
	from   time.Time
	rs     *RuleSet // nil when no version is in force
	layers []*Version
}

// reporter collects issues, dropping repeats (the same key is usually in
// force over several segments).
type reporter struct {
	issues []FileIssue
	seen   map[FileIssue]bool
}

func (r *reporter) add(src, path, format string, args ...any) {
	fi := FileIssue{File: src, Issue: Issue{Path: path, Message: fmt.Sprintf(format, args...)}}
	if r.seen == nil {
		r.seen = map[FileIssue]bool{}
	}
	if r.seen[fi] {
		return
	}
	r.seen[fi] = true
	r.issues = append(r.issues, fi)
}

// addFirst adds an issue unless one is already reported at the same path
// (the same gap in the rules shows in several segments).
func (r *reporter) addFirst(src, path, format string, args ...any) {
	for _, fi := range r.issues {
		if fi.File == src && fi.Path == path {
			return
		}
	}
	r.add(src, path, format, args...)
}

// resolve computes the rules in force over every segment of a platform's
// versions and validates each, reporting problems on the layer that set the
// key at fault. Layers must already have passed checkFile.
func resolve(p commerce.Platform, layers []layer, rep *reporter) []segment {
	sorted := append([]layer(nil), layers...)
	sort.SliceStable(sorted, func(a, b int) bool { return sorted[a].v.From.Before(sorted[b].v.From) })

	var bounds []time.Time
	for _, l := range sorted {
		bounds = append(bounds, l.v.From)
		if l.v.Until != nil {
			bounds = append(bounds, *l.v.Until)
		}
	}
	sort.Slice(bounds, func(a, b int) bool { return bounds[a].Before(bounds[b]) })
	uniq := bounds[:0]
	for _, b := range bounds {
		if len(uniq) == 0 || !b.Equal(uniq[len(uniq)-1]) {
			uniq = append(uniq, b)
		}
	}
	bounds = uniq

	segs := make([]segment, 0, len(bounds))
	for bi, b := range bounds {
		var active []layer
		for _, l := range sorted {
			if l.v.Contains(b) {
				active = append(active, l)
			}
		}
		seg := segment{from: b}
		if len(active) == 0 {
			// Every bound is at or after the earliest start, so this is a gap
			// opened by some version's end.
			end := "onwards"
			if bi+1 < len(bounds) {
				end = "until " + bounds[bi+1].Format(time.RFC3339)
			}
			for _, l := range sorted {
				if l.v.Until != nil && l.v.Until.Equal(b) {
					rep.add(l.src, l.path()+".effective_until", "no version is in force from %s %s", b.Format(time.RFC3339), end)
					break
				}
			}
			segs = append(segs, seg)
			continue
		}
		seg.rs = resolveSegment(p, b, active, rep)
		seg.layers = make([]*Version, len(active))
		for i, l := range active {
			seg.layers[i] = l.v
		}
		segs = append(segs, seg)
	}
	return segs
}

// resolveSegment merges and validates the rules of the active layers.
func resolveSegment(p commerce.Platform, from time.Time, active []layer, rep *reporter) *RuleSet {
	merged := map[string]any{}
	prov := map[string]int{}
	ids := make([]string, len(active))
	for i, l := range active {
		merge(merged, l.v.Rules, "", i, prov)
		ids[i] = l.v.ID
	}
	version := strings.Join(ids, "+")
	at := from.Format(time.RFC3339)
	if miss := missingRules(merged); len(miss) > 0 {
		if len(miss) > 6 {
			miss = append(miss[:6], "…")
		}
		first := active[0]
		rep.addFirst(first.src, first.path()+".rules", "the rules in force from %s (%s) are incomplete: missing %s; the earliest version in force must set every rule",
			at, version, strings.Join(miss, ", "))
		return nil
	}
	rs := &RuleSet{Platform: p, Version: version}
	d := &decoder{}
	d.rules(merged, rs)
	bad := len(d.issues) > 0
	report := func(path, msg string) {
		l := active[blame(prov, path)]
		rep.add(l.src, join(l.path()+".rules", path), "%s", msg)
	}
	for _, is := range d.issues {
		report(is.Path, is.Message)
	}
	for _, is := range validate(rs) {
		report(is.Path, is.Message)
		bad = true
	}
	if bad {
		return nil
	}
	return rs
}

// validate checks the values of a resolved rule set and, when the time zone
// loads, caches it for Location.
func validate(rs *RuleSet) []Issue {
	var is []Issue
	add := func(path, format string, args ...any) {
		is = append(is, Issue{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	positive := func(path string, d Duration) {
		if d <= 0 {
			add(path, "must be more than 0, got %s", d)
		}
	}
	oneOf := func(path string, list []string, allowed []string, what string) {
		seen := map[string]bool{}
		for i, s := range list {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case !Contains(allowed, s):
				add(p, "unknown %s %q (want one of: %s)", what, s, strings.Join(allowed, ", "))
			case seen[s]:
				add(p, "%q is listed twice", s)
			}
			seen[s] = true
		}
	}

	if rs.Timezone == "" {
		add("timezone", "must name a time zone such as Asia/Shanghai")
	} else if loc, err := time.LoadLocation(rs.Timezone); err != nil {
		add("timezone", "unknown time zone %q", rs.Timezone)
	} else {
		rs.loc = loc
	}

	t := &rs.Tasks
	oneOf("tasks.enabled", t.Enabled, TaskTypes, "task type")
	positive("tasks.reply_deadline", t.ReplyDeadline)
	for _, typ := range sortedDurationKeys(t.ReplyDeadlineByType) {
		p := "tasks.reply_deadline_by_type." + typ
		if !ValidTaskType(typ) {
			add(p, "unknown task type %q (want one of: %s)", typ, strings.Join(TaskTypes, ", "))
			continue
		}
		positive(p, t.ReplyDeadlineByType[typ])
	}
	positive("tasks.seller_action_deadline", t.SellerActionDeadline)
	positive("tasks.buyer_confirm_deadline", t.BuyerConfirmDeadline)
	if !Contains(BuyerConfirmTimeouts, t.BuyerConfirmTimeout) {
		add("tasks.buyer_confirm_timeout", "must be accept or intervene, got %q", t.BuyerConfirmTimeout)
	}
	if t.ReminderBefore < 0 {
		add("tasks.reminder_before", "must not be negative (0 turns the reminder off), got %s", t.ReminderBefore)
	}

	u := &rs.Urge
	for i, w := range u.ExemptRegions {
		p := fmt.Sprintf("urge.exempt_regions[%d]", i)
		if strings.TrimSpace(w.Region) == "" {
			add(p+".region", "must name a region")
		}
		if w.From.IsZero() {
			add(p+".from", "must be a time")
		}
		if w.Until != nil && !w.Until.After(w.From) {
			add(p+".until", "%s is not after from %s", w.Until.Format(time.RFC3339), w.From.Format(time.RFC3339))
		}
	}
	oneOf("urge.exempt_item_flags", u.ExemptItemFlags, ItemFlags, "item flag")
	oneOf("urge.exempt_presale", u.ExemptPresale, PresaleKinds, "presale kind")

	positive("logistics.stall_after", rs.Logistics.StallAfter)
	positive("logistics.stall_after_remote", rs.Logistics.StallAfterRemote)

	in := &rs.Invoice
	positive("invoice.first_deadline", in.FirstDeadline)
	positive("invoice.second_timeout_after", in.SecondTimeoutAfter)
	if in.PointsPerCase < 0 {
		add("invoice.points_per_case", "must not be negative, got %d", in.PointsPerCase)
	}
	if in.PointsCap <= 0 {
		add("invoice.points_cap", "must be more than 0, got %d", in.PointsCap)
	}
	positive("invoice.points_window", in.PointsWindow)
	for _, k := range ShopKinds {
		if len(in.ModesByShopKind[k]) == 0 {
			add("invoice.modes_by_shop_kind."+k, "must list the invoice modes a %s shop may use", k)
		}
	}
	for k, ms := range in.ModesByShopKind {
		if !Contains(ShopKinds, k) {
			add("invoice.modes_by_shop_kind."+k, "unknown shop kind %q (want one of %s)", k, strings.Join(ShopKinds, ", "))
			continue
		}
		oneOf("invoice.modes_by_shop_kind."+k, ms, InvoiceModes, "invoice mode")
	}
	positive("invoice.after_final_issue_within", in.AfterFinalIssueWithin)

	if rs.Notify.ReminderDailyCap <= 0 {
		add("notify.reminder_daily_cap", "must be more than 0, got %d", rs.Notify.ReminderDailyCap)
	}
	oneOf("notify.card_types", rs.Notify.CardTypes, TaskTypes, "task type")
	oneOf("messages.agent_message_types", rs.Messages.AgentMessageTypes, TaskTypes, "task type")
	oneOf("collaborative.channels", rs.Collaborative.Channels, CollabChannels, "channel")
	if len(rs.Collaborative.ContactChannels) == 0 {
		add("collaborative.contact_channels", "must list at least one channel a shop may contact the buyer by")
	}
	if rs.Collaborative.UnreachableMinAttempts < 1 {
		add("collaborative.unreachable_min_attempts", "must be at least 1, got %d", rs.Collaborative.UnreachableMinAttempts)
	}

	if strings.TrimSpace(rs.Complaints.ShippingStandard) == "" {
		add("complaints.shipping_standard", "must name the standard shipping complaints are judged by")
	}
	if strings.TrimSpace(rs.Complaints.InvoiceStandard) == "" {
		add("complaints.invoice_standard", "must name the standard invoice complaints are judged by")
	}
	validateJudgment(rs, add)
	validateEvidence(rs, add)
	validateQA(rs, add)
	return is
}

func sortedDurationKeys(m map[string]Duration) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

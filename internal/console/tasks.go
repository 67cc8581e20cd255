package console

import (
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// pageSize is how many tasks a workbench tab shows at a time.
const pageSize = 50

// countCap is where a tab's count stops ("1000+"): counting costs at most
// that many index entries per state, whatever the shop's history.
const countCap = 1000

func (c *Console) routesTasks() {
	c.mux.HandleFunc("GET "+Prefix+"/tasks", c.page("workbench", c.workbench))
	c.mux.HandleFunc("GET "+Prefix+"/tasks/{id}", c.page("task", c.taskPage))
	c.mux.HandleFunc("POST "+Prefix+"/tasks/{id}/act", c.page("task", c.act))
	c.mux.HandleFunc("POST "+Prefix+"/tasks/{id}/attachments", c.page("upload", c.upload))
	c.mux.HandleFunc("POST "+Prefix+"/tasks/{id}/invoice", c.page("task", c.issueInvoice))
	c.mux.HandleFunc("GET "+Prefix+"/attachments/{id}", c.attachment)
	c.mux.HandleFunc("GET "+Prefix+"/accounts", c.page("accounts", c.accounts))
	c.mux.HandleFunc("POST "+Prefix+"/accounts/{id}/permission", c.page("accounts", c.togglePermission))
	c.mux.HandleFunc("POST "+Prefix+"/accounts/{id}/reminders", c.page("accounts", c.toggleReminders))
}

// tabView is one state tab of the workbench.
type tabView struct {
	State  task.State
	Count  int
	More   bool // Count reached countCap
	Active bool
}

type workbenchData struct {
	Tabs   []tabView
	State  task.State
	Urged  bool
	Orders []commerce.Order // the urged orders filter (R-URG-3)
	Tasks  []task.Task
	Next   string
	Denied *problemView // R-ACC-1: why the person may not see tasks
	ShopID string
	Agent  bool
}

// workbench is the seller task workbench (售后任务工作台): tabs per state
// with counts, the tasks of the chosen tab with their deadlines, and the
// urged orders filter (R-URG-3, R-URG-5).
func (c *Console) workbench(q *req) (string, any, error) {
	d := &workbenchData{State: task.State(q.r.URL.Query().Get("state")), Urged: q.r.URL.Query().Get("filter") == "urged",
		Agent: q.role() == auth.RoleAgent || q.role() == auth.RoleOperator}
	if d.State == "" {
		d.State = task.AwaitingSellerReply
	}
	if !slices.Contains(task.States, d.State) {
		return "", nil, apperr.Invalid("state", "", "unknown state %q", d.State)
	}
	if err := q.may(auth.ActReadTasks); err != nil {
		d.Denied = c.problem(err, q.lang)
		return "workbench", d, nil
	}
	v := q.viewer()
	err := c.eng.Store().View(q.ctx, func(tx store.ReadTx) error {
		if v.Shop() {
			shopID, err := v.ShopOf(q.ctx, tx)
			if err != nil {
				return err
			}
			d.ShopID = shopID
		}
		if d.ShopID == "" && !d.Agent {
			return apperr.Forbidden("viewer.scope", "", "the workbench is a shop's or an agent's")
		}
		counts, err := tx.CountTasksUpTo(q.ctx, d.ShopID, countCap)
		if err != nil {
			return err
		}
		for _, s := range task.States {
			d.Tabs = append(d.Tabs, tabView{State: s, Count: counts[s], More: counts[s] >= countCap, Active: !d.Urged && s == d.State})
		}
		if d.Urged {
			if err := q.may(auth.ActReadUrged); err != nil {
				return err
			}
			if d.ShopID != "" {
				d.Orders, err = tx.UrgedOrders(q.ctx, d.ShopID)
			}
			return err
		}
		f := store.TaskFilter{State: d.State, After: q.r.URL.Query().Get("after"), Limit: pageSize + 1}
		ts, err := engine.ListTasksTx(q.ctx, tx, v, f)
		if err != nil {
			if apperr.CodeOf(err) == apperr.ENOTFOUND && f.After != "" {
				return apperr.Invalid("after", "", "unknown cursor %q", f.After)
			}
			return err
		}
		if len(ts) > pageSize {
			ts, d.Next = ts[:pageSize], ts[pageSize-1].ID
		}
		d.Tasks = ts
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return "workbench", d, nil
}

// formView is one action form the viewer may use on a task.
type formView struct {
	Action task.Action
	Denied *problemView // the lifecycle allows the role, the permission table refuses the person (R-ACC-1)
}

type eventView struct {
	task.Event
	Fields []field // its data, labelled (eventFields)
}

type detailData struct {
	T        *task.Task
	Order    *commerce.Order
	Events   []eventView
	Timers   []task.Timer
	Evidence []task.EvidenceItem
	Forms    []formView
	// Buyer, Shop, Agent: the viewer's side.
	Buyer, Shop, Agent bool
	// MsgAgent: R-MSG-1 lets the shop message the agent now.
	MsgAgent bool
	// Required: a refusal needs evidence (R-EVD-1), with these examples.
	Required bool
	Examples []string
	// SecondRound is the deadline of a second round of evidence (R-EVD-4).
	SecondRound string
	Reason      string
	Remedies    []string
	// Sides with an open second round (R-EVD-4).
	Flash string
	Err   *problemView
	// Liable marks what a judgment decided.
	Judgment map[string]any
}

// has reports whether the form for action a is available (or refused with a reason).
func (d *detailData) Form(a string) *formView {
	for i := range d.Forms {
		if string(d.Forms[i].Action) == a {
			return &d.Forms[i]
		}
	}
	return nil
}

// personActions are the actions people take on tasks, in the order the
// forms appear.
var personActions = []task.Action{task.ActReply, task.ActProposePlan, task.ActPerform, task.ActRefuse, task.ActMessage,
	task.ActCollabAgreed, task.ActCollabNotAgreed, task.ActCollabUnreachable,
	task.ActAcceptPlan, task.ActRejectPlan, task.ActProvideEvidence,
	task.ActJudge, task.ActRequestEvidence, task.ActMarkEvidence, task.ActAgentNote, task.ActResolve}

// loadDetail reads a task for the person: the shared read (tenant scoping,
// visibility filter R-MSG-2), its order, its evidence as the viewer may see
// it, and the forms the lifecycle table and the permission table allow.
func (c *Console) loadDetail(q *req, id string) (*detailData, error) {
	if err := q.may(auth.ActReadTasks); err != nil {
		return nil, err
	}
	v := q.viewer()
	d := &detailData{}
	err := c.eng.Store().View(q.ctx, func(tx store.ReadTx) error {
		tv, err := engine.ReadTaskTx(q.ctx, tx, v, id)
		if err != nil {
			return err
		}
		d.T, d.Timers = tv.Task, tv.Timers
		for _, e := range tv.Events {
			d.Events = append(d.Events, eventView{Event: e, Fields: eventFields(e.Data, q.L)})
		}
		if d.Order, err = tx.Order(q.ctx, tv.Task.OrderID); err != nil {
			return err
		}
		items, err := tx.EvidenceItems(q.ctx, id)
		if err != nil {
			return err
		}
		d.Evidence = task.FilterEvidence(items, task.SideOf(v.Role))
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.Buyer, d.Shop, d.Agent = v.Buyer(), v.Shop(), v.Role == task.RoleAgent
	t := d.T
	r, err := c.eng.Policy().At(commerce.Platform(t.Platform), q.now)
	if err != nil {
		return nil, err
	}
	role := v.Role
	if q.role() == auth.RoleOperator {
		role = "" // operators read; they do not act on tasks
	}
	lc := task.For(t.Type)
	for _, a := range personActions {
		if lc == nil || role == "" || !allows(lc, a, t.State, role) {
			continue
		}
		if a == task.ActMessage && !slices.Contains(r.Messages.AgentMessageTypes, string(t.Type)) {
			continue // R-MSG-1: only for the eight types
		}
		f := formView{Action: a}
		if err := q.may(auth.TaskAction(a)); err != nil {
			f.Denied = c.problem(err, q.lang)
		}
		d.Forms = append(d.Forms, f)
		if a == task.ActMessage && f.Denied == nil {
			d.MsgAgent = true
		}
	}
	d.SecondRound = r.Evidence.SecondRoundDeadline.String()
	if t.Refund != nil {
		d.Reason = t.Refund.Reason
		if rr, ok := r.Evidence.Reason(t.Refund.Reason); ok {
			d.Reason = rr.Name.In(q.lang)
			if r.Evidence.RequiresEvidence(t.Refund.Reason, q.now) {
				d.Required = true
				for _, ex := range rr.Examples {
					d.Examples = append(d.Examples, ex.In(q.lang))
				}
			}
		}
	}
	return d, nil
}

// allows reports whether the lifecycle lets role take a in state s.
func allows(lc *task.Lifecycle, a task.Action, s task.State, role task.Role) bool {
	for _, tr := range lc.Candidates(a) {
		if slices.Contains(tr.From, s) && slices.Contains(tr.By, role) {
			return true
		}
	}
	return false
}

func (c *Console) taskPage(q *req) (string, any, error) {
	d, err := c.loadDetail(q, q.r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	return "task", d, nil
}

// act takes one action on a task through the engine (the same command as
// POST /v1/tasks/{id}/actions) and renders the task again with the outcome.
func (c *Console) act(q *req) (string, any, error) {
	id := q.r.PathValue("id")
	if err := form(q.r); err != nil {
		return "", nil, apperr.Invalid("form", "", "unreadable form: %v", err)
	}
	f := q.r.Form
	act := task.Action(f.Get("action"))
	err := c.doAct(q, id, act, f)
	d, lerr := c.loadDetail(q, id)
	if lerr != nil {
		return "", nil, lerr
	}
	if err != nil {
		d.Err = c.problem(err, q.lang)
		if ae, ok := apperr.As(err); ok && ae.Reason == "evidence.required" {
			d.Required = true // R-EVD-2: offer "continue refusing"
		}
		return "task", d, err
	}
	d.Flash = q.L.T("flash.done." + string(act))
	return "task", d, nil
}

func (c *Console) doAct(q *req, id string, act task.Action, f map[string][]string) error {
	get := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	if !slices.Contains(personActions, act) {
		return apperr.Invalid("action", "", "unknown action %q", act)
	}
	if err := q.may(auth.TaskAction(act)); err != nil {
		return err
	}
	// The task must be the person's (404 otherwise), as the API's personMayAct.
	if _, err := c.eng.ReadTask(q.ctx, q.viewer(), id); err != nil {
		return err
	}
	cmd := task.Command{Action: act, Actor: q.actor(), TaskID: id, Text: get("text"), Outcome: get("outcome")}
	switch act {
	case task.ActReply, task.ActProposePlan, task.ActPerform:
		cmd.Reply = &task.Reply{Text: get("text")}
	case task.ActCollabAgreed, task.ActCollabNotAgreed, task.ActCollabUnreachable:
		r := &task.Reply{Text: get("text"), Evidence: f["evidence_ref"]}
		if s := get("contacted_at"); s != "" {
			t, err := time.ParseInLocation("2006-01-02T15:04", s, shanghai)
			if err != nil {
				return apperr.Invalid("reply.contacted_at", "R-COL-3", "contact time %q is not a date and time", s)
			}
			r.ContactedAt = &t
		}
		if s := get("attempts"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return apperr.Invalid("reply.attempts", "R-COL-3", "attempts must be a whole number, not %q", s)
			}
			r.Attempts = n
		}
		cmd.Reply = r
	case task.ActJudge:
		cmd.Judgment = &task.Judgment{Liable: get("liable") == "true", Forged: get("forged")}
	case task.ActRequestEvidence:
		er := &task.EvidenceRequest{Text: get("text")}
		for _, s := range f["sides"] {
			er.Sides = append(er.Sides, task.Side(s))
		}
		cmd.EvidenceRequest = er
	case task.ActMarkEvidence:
		cmd.Mark = &task.EvidenceMark{ItemID: get("item_id"), Valid: get("valid") == "true", Note: get("note")}
	}
	if act == task.ActRefuse || act == task.ActProvideEvidence {
		desc, atts := get("evidence_description"), f["attachments"]
		if desc != "" || len(atts) > 0 {
			cmd.Evidence = &task.EvidenceInput{Description: desc, Attachments: atts, Visibility: task.Visibility(get("visibility"))}
		}
		cmd.ContinueRefusing = get("continue_refusing") == "true"
	}
	_, err := c.eng.Act(q.ctx, cmd)
	return err
}

// issueInvoice records that the shop issued the order's invoice (an
// invoice_issued fact through engine.Ingest), which completes an
// urge_invoice task (R-INV-5; the shop's invoice mode, R-INV-6, only
// decides how it was issued).
func (c *Console) issueInvoice(q *req) (string, any, error) {
	id := q.r.PathValue("id")
	err := q.may(auth.ActIssueInvoice)
	var tv *engine.TaskView
	if err == nil {
		tv, err = c.eng.ReadTask(q.ctx, q.viewer(), id)
	}
	if err == nil {
		err = c.ingestOne(q, commerce.Fact{ID: "console:invoice_issued:" + tv.Task.OrderID, Type: commerce.FactInvoiceIssued, At: q.now,
			InvoiceIssued: &commerce.InvoiceIssuedFact{OrderID: tv.Task.OrderID}})
	}
	d, lerr := c.loadDetail(q, id)
	if lerr != nil {
		return "", nil, lerr
	}
	if err != nil {
		return "task", d, err
	}
	d.Flash = q.L.T("flash.invoice_issued")
	return "task", d, nil
}

type uploadData struct {
	A      *task.Attachment
	TaskID string
}

// upload stores an evidence file for a task (engine.UploadAttachment: the
// type is sniffed, the size checked against the policy) and answers its
// preview with a hidden input that attaches it to the form's evidence.
func (c *Console) upload(q *req) (string, any, error) {
	id := q.r.PathValue("id")
	if err := q.may(auth.TaskAction(task.ActProvideEvidence)); err != nil {
		return "", nil, err
	}
	if _, err := c.eng.ReadTask(q.ctx, q.viewer(), id); err != nil {
		return "", nil, err
	}
	if err := q.r.ParseMultipartForm(8 << 20); err != nil {
		return "", nil, apperr.Invalid("file", "R-EVD-1", "upload a file (multipart form): %v", err)
	}
	file, hdr, err := q.r.FormFile("file")
	if err != nil {
		return "", nil, apperr.Invalid("file", "R-EVD-1", "choose a file to upload")
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, 32<<20))
	if err != nil {
		return "", nil, apperr.Invalid("file", "", "unreadable file: %v", err)
	}
	a, err := c.eng.UploadAttachment(q.ctx, q.actor(), id, hdr.Filename, data)
	if err != nil {
		return "", nil, err
	}
	return "upload", uploadData{A: a, TaskID: id}, nil
}

// attachment serves an evidence file to a person who may see it (R-MSG-2),
// inline so that images and PDFs preview.
func (c *Console) attachment(w http.ResponseWriter, r *http.Request) {
	q := c.newReq(w, r)
	if q.p == nil {
		c.toLogin(w, r)
		return
	}
	if err := checkIDs(r); err != nil {
		c.fail(w, r, err)
		return
	}
	var a *task.Attachment
	var data []byte
	err := c.eng.Store().View(q.ctx, func(tx store.ReadTx) error {
		var err error
		if err = q.may(auth.ActReadTasks); err != nil {
			return err
		}
		if a, err = tx.Attachment(q.ctx, r.PathValue("id")); err != nil {
			return err
		}
		if _, err := engine.ReadTaskTx(q.ctx, tx, q.viewer(), a.TaskID); err != nil {
			return err
		}
		ok, err := engine.AttachmentVisible(q.ctx, tx, q.viewer(), a)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.NotFound("id", "no attachment %q", a.ID)
		}
		data, err = tx.AttachmentBytes(q.ctx, a.SHA256)
		return err
	})
	if err != nil {
		c.fail(w, r, q.hideTenant(err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": a.Name}))
	_, _ = w.Write(data)
}

// --- sub-accounts -------------------------------------------------------------

type accountsData struct {
	ShopID   string
	Accounts []accountRow
	Manage   bool
	Flash    string
	Err      *problemView
}

type accountRow struct {
	commerce.Account
	Login   string
	TaskPer bool
}

// accounts lists the shop's accounts with the platform-task permission
// toggle (R-ACC-1) for the main account.
func (c *Console) accounts(q *req) (string, any, error) {
	d, err := c.loadAccounts(q)
	if err != nil {
		return "", nil, err
	}
	return "accounts", d, nil
}

func (c *Console) loadAccounts(q *req) (*accountsData, error) {
	if err := q.may(auth.ActReadAccounts); err != nil {
		return nil, err
	}
	if !q.p.Person.Role.Shop() {
		return nil, apperr.Forbidden("viewer.scope", "", "sub-account management is the shop main account's")
	}
	d := &accountsData{ShopID: q.p.Person.ShopID, Manage: q.may(auth.ActManageAccounts) == nil}
	err := c.eng.Store().View(q.ctx, func(tx store.ReadTx) error {
		accs, err := tx.ShopAccounts(q.ctx, d.ShopID)
		if err != nil {
			return err
		}
		ps, err := tx.People(q.ctx, d.ShopID)
		if err != nil {
			return err
		}
		logins := map[string]string{}
		for _, p := range ps {
			logins[p.SubjectID] = p.Login
		}
		for _, a := range accs {
			d.Accounts = append(d.Accounts, accountRow{Account: a, Login: logins[a.ID], TaskPer: a.Has(commerce.PermPlatformTask)})
		}
		return nil
	})
	return d, err
}

// toggleReminders turns an account's task reminders on or off
// (engine.SetReminders, R-NTF-1: at most 10 a business day).
func (c *Console) toggleReminders(q *req) (string, any, error) {
	if err := form(q.r); err != nil {
		return "", nil, apperr.Invalid("form", "", "unreadable form")
	}
	err := q.may(auth.ActManageAccounts)
	if err == nil {
		_, err = c.eng.SetReminders(q.ctx, q.actor(), q.r.PathValue("id"), q.r.Form.Get("on") == "true")
	}
	d, lerr := c.loadAccounts(q)
	if lerr != nil {
		return "", nil, lerr
	}
	if err != nil {
		d.Err = c.problem(err, q.lang)
		return "accounts", d, err
	}
	d.Flash = q.L.T("flash.saved")
	return "accounts", d, nil
}

// togglePermission grants or revokes a sub-account's platform-task
// permission (engine.SetPermission, R-ACC-1).
func (c *Console) togglePermission(q *req) (string, any, error) {
	if err := form(q.r); err != nil {
		return "", nil, apperr.Invalid("form", "", "unreadable form")
	}
	err := q.may(auth.ActManageAccounts)
	if err == nil {
		_, err = c.eng.SetPermission(q.ctx, q.actor(), q.r.PathValue("id"), commerce.PermPlatformTask, q.r.Form.Get("grant") == "true")
	}
	d, lerr := c.loadAccounts(q)
	if lerr != nil {
		return "", nil, lerr
	}
	if err != nil {
		d.Err = c.problem(err, q.lang)
		return "accounts", d, err
	}
	d.Flash = q.L.T("flash.saved")
	return "accounts", d, nil
}

package httpapi

import (
	"context"
	"mime"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"aftersale/internal/apperr"
	"aftersale/internal/engine"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// maxUploadBody bounds an attachment upload's body; the policy's
// evidence.attachment_max_bytes (5 MiB by default) is checked by the engine.
const maxUploadBody = 32 << 20

// RefundBody is the buyer's refund request on a refund-family or exchange task.
type RefundBody struct {
	Reason string `json:"reason" required:"true" minLength:"1" maxLength:"64" doc:"Refund reason: a code of the platform policy's evidence table (not_received, quality_issue, not_as_described, damaged_in_transit, missing_parts, wrong_item, seven_day_no_reason, changed_mind, shipping_delay, postage, presale_deposit …; R-EVD-5). An unknown code is refused naming the field reason."`
	Remedy string `json:"remedy,omitempty" enum:"return_refund,refund_only,exchange" doc:"What the buyer asks for, which the platform opens when the seller's refusal has no valid evidence (R-EVD-3). return_refund tasks: return_refund (default) or refund_only; presale_deposit_refund and postage_refund: refund_only; exchange: exchange."`
}

func (b *RefundBody) task() *task.RefundRequest {
	if b == nil {
		return nil
	}
	return &task.RefundRequest{Reason: b.Reason, Remedy: b.Remedy}
}

// EvidenceBody is evidence given with a refusal or a provide_evidence action.
type EvidenceBody struct {
	Description string   `json:"description,omitempty" maxLength:"4000" doc:"What the evidence shows (a description, or attachments, or both)."`
	Attachments []string `json:"attachments,omitempty" maxItems:"20" doc:"Ids of attachments uploaded to this task by the same side (POST /v1/tasks/{id}/attachments); each belongs to one item."`
	Visibility  string   `json:"visibility,omitempty" enum:"public,shop_agent,agent_only" doc:"Who sees the item: a buyer's evidence is public; a shop's public (default) or shop_agent; an agent's any (default agent_only). A buyer never sees shop_agent or agent_only items (R-MSG-2)."`
}

func (b *EvidenceBody) task() *task.EvidenceInput {
	if b == nil {
		return nil
	}
	return &task.EvidenceInput{Description: b.Description, Attachments: b.Attachments, Visibility: task.Visibility(b.Visibility)}
}

// EvidenceRequestBody asks for a second round of evidence (R-EVD-4).
type EvidenceRequestBody struct {
	Sides []string `json:"sides" required:"true" minItems:"1" maxItems:"2" doc:"Who must provide it: buyer, shop or both. Each side has the policy's deadline (evidence.second_round_deadline, 72 h by default); a shop that misses it counts as refusing without valid evidence (R-EVD-3)."`
	Text  string   `json:"text,omitempty" maxLength:"2000" doc:"What the agent asks for (e.g. what is now disputed)."`
}

func (b *EvidenceRequestBody) task() *task.EvidenceRequest {
	if b == nil {
		return nil
	}
	out := &task.EvidenceRequest{Text: b.Text}
	for _, s := range b.Sides {
		out.Sides = append(out.Sides, task.Side(s))
	}
	return out
}

// MarkBody is an agent's finding on an evidence item (R-EVD-3).
type MarkBody struct {
	ItemID string `json:"item_id" required:"true" minLength:"1" doc:"The evidence item."`
	Valid  bool   `json:"valid" doc:"false: the evidence is invalid. When the refusal required evidence and no valid shop evidence remains, the platform opens the remedy and judges the seller liable (R-EVD-3)."`
	Note   string `json:"note,omitempty" maxLength:"2000" doc:"Why."`
}

func (b *MarkBody) task() *task.EvidenceMark {
	if b == nil {
		return nil
	}
	return &task.EvidenceMark{ItemID: b.ItemID, Valid: b.Valid, Note: b.Note}
}

type uploadInput struct {
	ID             string `path:"id" doc:"The task id."`
	Name           string `query:"name" maxLength:"255" doc:"The file's name, for display."`
	Actor          string `header:"X-Actor" required:"true" doc:"Who uploads, as role:id: the task's buyer, an account of its shop (sub-accounts need the platform-task permission, R-ACC-1) or an agent."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	RawBody        []byte `contentType:"application/octet-stream" doc:"The file's bytes. Its type is sniffed from them (image/png, image/jpeg, image/gif, image/webp, application/pdf by default); the size limit is the policy's evidence.attachment_max_bytes (5 MiB by default)."`
}

type attachmentOutput struct{ Body *task.Attachment }

func (s *Server) uploadAttachment(ctx context.Context, in *uploadInput) (*attachmentOutput, error) {
	if err := s.personMayAct(ctx, in.ID, task.ActProvideEvidence); err != nil {
		return nil, err
	}
	a, err := actorOf(nil, in.Actor)
	if err != nil {
		return nil, err
	}
	att, err := s.eng.UploadAttachment(ctx, a, in.ID, in.Name, in.RawBody)
	if err != nil {
		return nil, err
	}
	return &attachmentOutput{Body: att}, nil
}

type provideInput struct {
	ID             string `path:"id" doc:"The task id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id, when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor    *ActorBody   `json:"actor,omitempty" doc:"The buyer, a shop account or an agent."`
		Evidence EvidenceBody `json:"evidence" required:"true" doc:"The evidence. Given while a second round is open for the side, it is that round (R-EVD-4)."`
	}
}

func (s *Server) provideEvidence(ctx context.Context, in *provideInput) (*taskOutput, error) {
	if err := s.personMayAct(ctx, in.ID, task.ActProvideEvidence); err != nil {
		return nil, err
	}
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	t, err := s.eng.Act(ctx, task.Command{Action: task.ActProvideEvidence, Actor: a, TaskID: in.ID, Evidence: in.Body.Evidence.task()})
	if err != nil {
		return nil, err
	}
	return &taskOutput{Body: t}, nil
}

type requestEvidenceInput struct {
	ID             string `path:"id" doc:"The task id."`
	Actor          string `header:"X-Actor" doc:"The agent, as agent:id, when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor   *ActorBody          `json:"actor,omitempty" doc:"An agent."`
		Request EvidenceRequestBody `json:"request" required:"true" doc:"The second round asked."`
	}
}

func (s *Server) requestEvidence(ctx context.Context, in *requestEvidenceInput) (*taskOutput, error) {
	if err := s.personMayAct(ctx, in.ID, task.ActRequestEvidence); err != nil {
		return nil, err
	}
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	t, err := s.eng.Act(ctx, task.Command{Action: task.ActRequestEvidence, Actor: a, TaskID: in.ID, EvidenceRequest: in.Body.Request.task()})
	if err != nil {
		return nil, err
	}
	return &taskOutput{Body: t}, nil
}

type markInput struct {
	ID             string `path:"id" doc:"The task id."`
	Item           string `path:"item" doc:"The evidence item id."`
	Actor          string `header:"X-Actor" doc:"The agent, as agent:id, when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor *ActorBody `json:"actor,omitempty" doc:"An agent."`
		Valid bool       `json:"valid" doc:"false marks the evidence invalid (R-EVD-3)."`
		Note  string     `json:"note,omitempty" maxLength:"2000" doc:"Why."`
	}
}

func (s *Server) markEvidence(ctx context.Context, in *markInput) (*taskOutput, error) {
	if err := s.personMayAct(ctx, in.ID, task.ActMarkEvidence); err != nil {
		return nil, err
	}
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	t, err := s.eng.Act(ctx, task.Command{Action: task.ActMarkEvidence, Actor: a, TaskID: in.ID,
		Mark: &task.EvidenceMark{ItemID: in.Item, Valid: in.Body.Valid, Note: in.Body.Note}})
	if err != nil {
		return nil, err
	}
	return &taskOutput{Body: t}, nil
}

type listEvidenceInput struct {
	ID     string `path:"id" doc:"The task id."`
	Viewer string `query:"viewer" doc:"Read as role:id. A buyer sees only public items, a shop account public and shop_agent ones, agents all (R-MSG-2). Default: agent view."`
}

// EvidenceList is a task's evidence as its viewer may see it.
type EvidenceList struct {
	TaskID string              `json:"task_id" doc:"The task."`
	Items  []task.EvidenceItem `json:"items" doc:"Evidence items, oldest first, filtered by the viewer's visibility: side, author, description, attachments (metadata; GET /v1/attachments/{id} for the bytes), visibility, time, round (1, or 2 for a second round, R-EVD-4), at_refusal, and an agent's valid/invalid finding."`
}

type evidenceListOutput struct{ Body EvidenceList }

// viewTask reads a task and checks the viewer may see it, as GET /v1/tasks/{id} does.
func viewTask(ctx context.Context, tx store.ReadTx, v viewer, id string) (*task.Task, error) {
	t, err := tx.Task(ctx, id)
	if err != nil {
		return nil, apperr.NotFoundAs(err, "id", "no task %q", id)
	}
	switch {
	case v.buyer() && t.BuyerID != v.ID:
		return nil, apperr.New(apperr.EFORBIDDEN, "not_your_order", "viewer", "", "buyer %s is not the buyer of task %s", v.ID, t.ID)
	case v.shop():
		shopID, err := v.shopOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		if shopID != t.ShopID {
			return nil, apperr.New(apperr.EFORBIDDEN, "not_your_shop", "viewer", "", "account %s does not belong to shop %s", v.ID, t.ShopID)
		}
	}
	return t, nil
}

func (s *Server) listEvidence(ctx context.Context, in *listEvidenceInput) (*evidenceListOutput, error) {
	v, err := parseViewer(in.Viewer)
	if err != nil {
		return nil, err
	}
	out := EvidenceList{TaskID: in.ID, Items: []task.EvidenceItem{}}
	err = s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		if _, err := viewTask(ctx, tx, v, in.ID); err != nil {
			return err
		}
		items, err := tx.EvidenceItems(ctx, in.ID)
		if err != nil {
			return err
		}
		out.Items = task.FilterEvidence(items, task.SideOf(v.Role))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &evidenceListOutput{Body: out}, nil
}

type getAttachmentInput struct {
	ID     string `path:"id" doc:"The attachment id."`
	Viewer string `query:"viewer" doc:"Read as role:id. Served only to a viewer who may see the evidence item it belongs to (R-MSG-2), or, before it belongs to one, to the side that uploaded it. Default: agent view."`
}

type attachmentBytesOutput struct {
	ContentType        string `header:"Content-Type" doc:"The type sniffed at upload."`
	ContentDisposition string `header:"Content-Disposition"`
	Digest             string `header:"X-Content-SHA256" doc:"The SHA-256 of the bytes (hex)."`
	NoSniff            string `header:"X-Content-Type-Options"`
	Body               []byte
}

func (s *Server) getAttachment(ctx context.Context, in *getAttachmentInput) (*attachmentBytesOutput, error) {
	v, err := parseViewer(in.Viewer)
	if err != nil {
		return nil, err
	}
	var out *attachmentBytesOutput
	err = s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		a, err := tx.Attachment(ctx, in.ID)
		if err != nil {
			return apperr.NotFoundAs(err, "id", "no attachment %q", in.ID)
		}
		if _, err := viewTask(ctx, tx, v, a.TaskID); err != nil {
			return err
		}
		ok, err := engine.AttachmentVisible(ctx, tx, engine.Viewer(v), a)
		if err != nil {
			return err
		}
		if !ok { // what the viewer may not see does not exist for them
			return apperr.NotFound("id", "no attachment %q", in.ID)
		}
		b, err := tx.AttachmentBytes(ctx, a.SHA256)
		if err != nil {
			return err
		}
		name := a.Name
		if name == "" {
			name = a.ID
		}
		out = &attachmentBytesOutput{ContentType: a.ContentType, Digest: a.SHA256, NoSniff: "nosniff",
			ContentDisposition: mime.FormatMediaType("attachment", map[string]string{"filename": name}), Body: b}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// routesEvidence registers the evidence endpoints (R-EVD-1..4).
func (s *Server) routesEvidence() {
	api := s.api
	up := op("upload-attachment", http.MethodPost, "/v1/tasks/{id}/attachments", "Upload an evidence file for a task (R-EVD-1, R-EVD-4)", platformOnly, "evidence")
	up.DefaultStatus = http.StatusCreated
	up.MaxBodyBytes = maxUploadBody
	huma.Register(api, up, s.uploadAttachment)
	pe := op("provide-evidence", http.MethodPost, "/v1/tasks/{id}/evidence", "Give evidence on a task (provide_evidence; a second round when one is open, R-EVD-4)", platformOnly, "evidence")
	huma.Register(api, pe, s.provideEvidence)
	huma.Register(api, op("list-evidence", http.MethodGet, "/v1/tasks/{id}/evidence", "A task's evidence, filtered by the viewer's visibility (R-MSG-2)", anyKey, "evidence"), s.listEvidence)
	huma.Register(api, op("request-evidence", http.MethodPost, "/v1/tasks/{id}/evidence/requests", "An agent asks for a second round of evidence (二次举证, R-EVD-4)", platformOnly, "evidence"), s.requestEvidence)
	huma.Register(api, op("mark-evidence", http.MethodPost, "/v1/tasks/{id}/evidence/{item}/mark", "An agent marks an evidence item valid or invalid (R-EVD-3)", platformOnly, "evidence"), s.markEvidence)
	huma.Register(api, op("get-attachment", http.MethodGet, "/v1/attachments/{id}", "An evidence file's bytes, for a viewer who may see it (R-MSG-2)", anyKey, "evidence"), s.getAttachment)
}

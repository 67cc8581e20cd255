package httpapi

import (
	"log/slog"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// Issue 12, finding 8: the server's sweep removes every upload never
// attached once it is older than the grace, in batches until none is left,
// and keeps the attached one and those within the grace.
func TestSweepUploads_AllDueInBatches(t *testing.T) {
	start := time.Date(2023, 8, 1, 10, 0, 0, 0, time.UTC)
	env := testkit.New(t, start)
	env.MustIngest(testkit.ShopFact("tb", commerce.Taobao),
		testkit.OrderFact("o1", "tb", "b1", start.Add(-10*24*time.Hour), start.Add(-9*24*time.Hour)))
	tk, err := env.Engine.CreateTask(env.Ctx, task.Command{Actor: task.Actor{Role: task.RoleBuyer, ID: "b1"}, OrderID: "o1",
		Type: task.ReturnRefund, Refund: &task.RefundRequest{Reason: "not_received"}})
	if err != nil {
		t.Fatal(err)
	}
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
	b := task.Actor{Role: task.RoleBuyer, ID: "b1"}
	var ids []string
	for i := range 6 {
		a, err := env.Engine.UploadAttachment(env.Ctx, b, tk.ID, "p.png", []byte(png+string(rune('a'+i))))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	if _, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActProvideEvidence, Actor: b, TaskID: tk.ID,
		Evidence: &task.EvidenceInput{Description: "box", Attachments: ids[:1]}}); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(DefaultUploadGrace + time.Second)
	young, err := env.Engine.UploadAttachment(env.Ctx, b, tk.ID, "p.png", []byte(png+"young"))
	if err != nil {
		t.Fatal(err)
	}
	if n := sweepUploads(env.Ctx, env.Engine, DefaultUploadGrace, 2, slog.New(slog.DiscardHandler)); n != 5 {
		t.Fatalf("swept %d, want the 5 never attached (in batches of 2)", n)
	}
	var left []task.Attachment
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) {
		left, err = tx.Attachments(env.Ctx, tk.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].ID != ids[0] || left[1].ID != young.ID {
		t.Fatalf("left %+v, want the attached %s and the young %s", left, ids[0], young.ID)
	}
}

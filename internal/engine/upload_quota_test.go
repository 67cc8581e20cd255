package engine_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// quotaEnv is a Taobao shop under a policy whose upload quotas are small:
// 3 files and 6 MiB per task and side, 11 MiB per person and business day.
func quotaEnv(t *testing.T) *testkit.Env {
	t.Helper()
	reg := modifiedRegistry(t, commerce.Taobao, "task_max_files: 20\n        task_max_bytes: 52428800 # 50 MiB\n        person_daily_max_bytes: 209715200",
		"task_max_files: 3\n        task_max_bytes: 6291456\n        person_daily_max_bytes: 11534336")
	env := newEnvWith(t, reg, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	return env
}

// png of n bytes in all.
func pngOf(n int) []byte {
	return append(append([]byte(nil), pngBytes...), bytes.Repeat([]byte{0}, n-len(pngBytes))...)
}

// Issue 12, finding 8: uploads have quotas. A side may hold at most the
// policy's files and bytes on one task (attached or not yet): the next
// upload is refused with evidence.quota_task_files / _task_bytes naming the
// file field and the policy setting, and stores nothing; the other side's
// uploads count apart. A person may upload at most the policy's bytes a
// business day over all tasks (evidence.quota_daily_bytes); the next day
// they may again.
func TestUploadQuota_PerTaskAndPerPersonDay(t *testing.T) {
	env := quotaEnv(t)
	mb := 1 << 20
	t1 := openRefund(t, env, "o1", task.ReturnRefund, "not_received", "")
	b1 := buyer(buyerOf("o1"))
	up := func(a task.Actor, taskID string, n int) (*task.Attachment, error) {
		return env.Engine.UploadAttachment(env.Ctx, a, taskID, "p.png", pngOf(n))
	}
	for i := range 3 {
		if _, err := up(b1, t1.ID, 100+i); err != nil {
			t.Fatalf("upload %d: %v", i+1, err)
		}
	}
	w := snapshot(env, "o1")
	_, err := up(b1, t1.ID, 100)
	ae := wantErr(t, err, apperr.EINVALID, "evidence.quota_task_files", "file", "")
	if !bytes.Contains([]byte(ae.Message), []byte("evidence.task_max_files")) {
		t.Errorf("the refusal does not name the policy setting: %s", ae.Message)
	}
	sameWorld(t, w, snapshot(env, "o1"))
	// the shop's side counts apart
	if _, err := up(shopMain("tb_main"), t1.ID, 5*mb); err != nil {
		t.Fatalf("the shop's upload: %v", err)
	}
	_, err = up(shopMain("tb_main"), t1.ID, 2*mb) // 7 MiB > 6 MiB
	wantErr(t, err, apperr.EINVALID, "evidence.quota_task_bytes", "file", "")
	if _, err := up(shopMain("tb_main"), t1.ID, 1*mb); err != nil { // exactly 6 MiB
		t.Fatalf("up to the task's bytes: %v", err)
	}

	// per person and day, over all tasks: the shop's main account has
	// uploaded 6 MiB; 5 MiB more on another task is 11 MiB, then no more
	t2 := openRefund(t, env, "o2", task.ReturnRefund, "not_received", "")
	t3 := openRefund(t, env, "o3", task.ReturnRefund, "not_received", "")
	if _, err := up(shopMain("tb_main"), t2.ID, 5*mb); err != nil {
		t.Fatalf("up to the day's bytes: %v", err)
	}
	w3 := snapshot(env, "o3")
	_, err = up(shopMain("tb_main"), t3.ID, 100)
	ae = wantErr(t, err, apperr.EINVALID, "evidence.quota_daily_bytes", "file", "")
	if !bytes.Contains([]byte(ae.Message), []byte("evidence.person_daily_max_bytes")) {
		t.Errorf("the refusal does not name the policy setting: %s", ae.Message)
	}
	sameWorld(t, w3, snapshot(env, "o3"))
	// another person of the shop is not limited by it, nor agents
	if _, err := up(agent("a1"), t3.ID, 5*mb); err != nil {
		t.Fatalf("an agent's upload: %v", err)
	}
	env.Clock.Set(bj(t, "2023-08-02T00:00:00"))
	if _, err := up(shopMain("tb_main"), t3.ID, 100); err != nil {
		t.Fatalf("the next business day: %v", err)
	}
}

// Issue 12, finding 8: uploads never attached to evidence are removed after
// the grace period by the sweep, bytes and all, with an event on the task
// for the uploading side; an attached one is kept whatever its age, and so
// is one uploaded within the grace. What was removed frees the task's quota.
func TestSweepUploads_RemovesUnreferencedAfterGrace(t *testing.T) {
	env := quotaEnv(t)
	tk := openRefund(t, env, "o1", task.ReturnRefund, "not_received", "")
	b := buyer(buyerOf("o1"))
	up := func(n int) *task.Attachment {
		t.Helper()
		a, err := env.Engine.UploadAttachment(env.Ctx, b, tk.ID, "p.png", pngOf(n))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	used, stale := up(200), up(201)
	act(env, task.Command{Action: task.ActProvideEvidence, Actor: b, TaskID: tk.ID,
		Evidence: &task.EvidenceInput{Description: "crushed", Attachments: []string{used.ID}}})
	env.Clock.Set(env.Clock.Now().Add(23 * time.Hour))
	young := up(202)
	if n, err := env.Engine.SweepUploads(env.Ctx, 24*time.Hour, 100); err != nil || n != 0 {
		t.Fatalf("sweep within the grace: %d, %v", n, err)
	}
	env.Clock.Set(env.Clock.Now().Add(time.Hour)) // exactly the grace: kept
	if n, err := env.Engine.SweepUploads(env.Ctx, 24*time.Hour, 100); err != nil || n != 0 {
		t.Fatalf("sweep at the grace: %d, %v", n, err)
	}
	env.Clock.Set(env.Clock.Now().Add(time.Second))
	if n, err := env.Engine.SweepUploads(env.Ctx, 24*time.Hour, 100); err != nil || n != 1 {
		t.Fatalf("sweep after the grace: %d, %v", n, err)
	}
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) error {
		if _, err := tx.Attachment(env.Ctx, stale.ID); apperr.CodeOf(err) != apperr.ENOTFOUND {
			t.Errorf("the stale upload: %v, want it removed", err)
		}
		if _, err := tx.AttachmentBytes(env.Ctx, stale.SHA256); apperr.CodeOf(err) != apperr.ENOTFOUND {
			t.Errorf("the stale upload's bytes: %v, want them removed", err)
		}
		for _, a := range []*task.Attachment{used, young} {
			if _, err := tx.Attachment(env.Ctx, a.ID); err != nil {
				t.Errorf("%s: %v, want it kept", a.ID, err)
			}
			if _, err := tx.AttachmentBytes(env.Ctx, a.SHA256); err != nil {
				t.Errorf("%s's bytes: %v, want them kept", a.ID, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	evs := env.Events(tk.ID)
	i := slices.IndexFunc(evs, func(e task.Event) bool { return e.Action == "attachment_removed" })
	if i < 0 || evs[i].Visibility != task.Public || !bytes.Contains(evs[i].Data, []byte(stale.ID)) {
		t.Fatalf("no public attachment_removed event naming %s: %v", stale.ID, eventActions(evs))
	}
	// the removed upload no longer counts: three files again (used, young, new)
	up(203)
	// and the attached one stays, however old
	env.Clock.Set(env.Clock.Now().Add(30 * 24 * time.Hour))
	if n, err := env.Engine.SweepUploads(env.Ctx, 24*time.Hour, 100); err != nil || n != 2 {
		t.Fatalf("sweep a month later: %d, %v (want the two unattached)", n, err)
	}
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) error {
		_, err := tx.Attachment(env.Ctx, used.ID)
		return err
	}); err != nil {
		t.Fatalf("the attached upload: %v", err)
	}
}

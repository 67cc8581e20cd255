package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"aftersale/internal/commerce"
)

// Issue 12, finding 8, over HTTP: a side holds at most the policy's 20
// files on a task; the 21st upload is 422 evidence.quota_task_files naming
// the file field and the policy setting, titled in zh-CN and en, and
// stores nothing. The sweep of uploads never attached frees the quota.
func TestUploadQuota_TaskFilesOverHTTP(t *testing.T) {
	e := newAPI(t, bj(t, "2023-03-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	tk := e.refundTask("return_refund", "o1", "not_received")
	as := "buyer:" + buyerOf("o1")
	for i := range 20 {
		e.ok(e.upload(tk.ID, as, png+strings.Repeat("x", i)), http.StatusCreated, nil)
	}
	titles := map[string]string{}
	for _, lang := range []string{"zh-CN", "en"} {
		r := e.post("/v1/tasks/"+tk.ID+"/attachments?name=proof.png", png+"over", "Content-Type", "application/octet-stream", "X-Actor", as,
			"Accept-Language", lang)
		p := e.wantProblem(r, http.StatusUnprocessableEntity, "evidence.quota_task_files", "", "file")
		if !strings.Contains(p.Detail, "evidence.task_max_files = 20") {
			t.Errorf("detail %q does not name the setting", p.Detail)
		}
		titles[lang] = p.Title
	}
	if titles["zh-CN"] == titles["en"] {
		t.Errorf("the same title in both languages: %q", titles["en"])
	}
	// nothing was stored: the task's history has 20 uploads
	var d struct{ Events []struct{ Action string } }
	e.ok(e.get("/v1/tasks/"+tk.ID), http.StatusOK, &d)
	n := 0
	for _, ev := range d.Events {
		if ev.Action == "attachment_uploaded" {
			n++
		}
	}
	if n != 20 {
		t.Fatalf("%d uploads recorded, want 20", n)
	}
	// a day later the sweep removes the 20 never attached: the quota is free
	e.clock.Advance(25 * time.Hour)
	if got, err := e.eng.SweepUploads(t.Context(), 24*time.Hour, 100); err != nil || got != 20 {
		t.Fatalf("sweep: %d, %v", got, err)
	}
	e.ok(e.upload(tk.ID, as, png+"after"), http.StatusCreated, nil)
}

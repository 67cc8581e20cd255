package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

func init() {
	register("EvidenceItems", testEvidenceItems)
	register("EvidenceAttachments", testEvidenceAttachments)
	register("UnreferencedAttachments", testUnreferencedAttachments)
}

// R-EVD-1, R-EVD-4: evidence items are stored per task, listed by (at, id)
// in UTC, and an agent's mark replaces the item's finding (R-EVD-3).
func testEvidenceItems(t *testing.T, s store.Store) {
	shanghai := time.FixedZone("CST", 8*3600)
	shop := task.Actor{Role: task.RoleShopMain, ID: "acc_1"}
	a := task.EvidenceItem{ID: "evd_2", TaskID: "tsk_1", Side: task.SideShop, By: shop, Description: "packing video",
		Visibility: task.ShopAgent, At: at(time.Minute).In(shanghai), Round: 1, AtRefusal: true, PolicyVersion: "v1",
		Attachments: []task.Attachment{{ID: "att_1", TaskID: "tsk_1", ItemID: "evd_2", ContentType: "image/png", Size: 3, SHA256: "ab", Side: task.SideShop, UploadedBy: shop, At: at(0)}}}
	b := task.EvidenceItem{ID: "evd_1", TaskID: "tsk_1", Side: task.SideBuyer, By: task.Actor{Role: task.RoleBuyer, ID: "b1"},
		Description: "photo", Visibility: task.Public, At: at(time.Minute), Round: 2, PolicyVersion: "v1", Attachments: []task.Attachment{}}
	other := task.EvidenceItem{ID: "evd_0", TaskID: "tsk_2", Side: task.SideAgent, Visibility: task.AgentsOnly, At: at(0), Round: 1, Attachments: []task.Attachment{}}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for _, it := range []*task.EvidenceItem{&a, &b, &other} {
			if err := tx.PutEvidenceItem(ctx, it); err != nil {
				t.Fatalf("PutEvidenceItem: %v", err)
			}
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		got, err := tx.EvidenceItems(ctx, "tsk_1")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != "evd_1" || got[1].ID != "evd_2" {
			t.Fatalf("items of tsk_1 = %+v, want evd_1 then evd_2 (same time, by id)", got)
		}
		want := a
		want.At = a.At.UTC()
		if !reflect.DeepEqual(got[1], want) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got[1], want)
		}
		if got[1].At.Location() != time.UTC {
			t.Fatalf("time read back in %v, want UTC", got[1].At.Location())
		}
		none, err := tx.EvidenceItems(ctx, "tsk_none")
		if err != nil || len(none) != 0 {
			t.Fatalf("items of an unknown task: %v %v", none, err)
		}
	})
	valid := false
	by := task.Actor{Role: task.RoleAgent, ID: "x1"}
	when := at(time.Hour)
	a.Valid, a.MarkedBy, a.MarkedAt = &valid, &by, &when
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if err := tx.PutEvidenceItem(ctx, &a); err != nil {
			t.Fatal(err)
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		got, _ := tx.EvidenceItems(ctx, "tsk_1")
		if len(got) != 2 || got[1].Valid == nil || *got[1].Valid || got[1].MarkedBy == nil || got[1].MarkedBy.ID != "x1" {
			t.Fatalf("after the mark: %+v", got)
		}
	})
}

// Attachments: metadata by id, bytes by SHA-256 stored once and never
// overwritten (content-addressed), byte for byte; unknown ones ENOTFOUND.
func testEvidenceAttachments(t *testing.T, s store.Store) {
	data := []byte("\x89PNG\r\n\x1a\n\x00\x00binary\xff\x00")
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	att := task.Attachment{ID: "att_1", TaskID: "tsk_1", Name: "a.png", ContentType: "image/png", Size: int64(len(data)),
		SHA256: sha, Side: task.SideBuyer, UploadedBy: task.Actor{Role: task.RoleBuyer, ID: "b1"}, At: at(0)}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if err := tx.PutAttachmentBytes(ctx, sha, data); err != nil {
			t.Fatal(err)
		}
		if err := tx.PutAttachmentBytes(ctx, sha, []byte("something else")); err != nil {
			t.Fatalf("a repeated hash is not an error: %v", err)
		}
		if err := tx.PutAttachment(ctx, &att); err != nil {
			t.Fatal(err)
		}
	})
	att.ItemID = "evd_1"
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if err := tx.PutAttachment(ctx, &att); err != nil {
			t.Fatal(err)
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		got, err := tx.Attachment(ctx, "att_1")
		if err != nil || !reflect.DeepEqual(*got, att) {
			t.Fatalf("Attachment = %+v, %v; want %+v", got, err, att)
		}
		b, err := tx.AttachmentBytes(ctx, sha)
		if err != nil || string(b) != string(data) {
			t.Fatalf("AttachmentBytes = %q, %v; want the first bytes stored", b, err)
		}
		if _, err := tx.Attachment(ctx, "att_none"); apperr.CodeOf(err) != apperr.ENOTFOUND {
			t.Fatalf("unknown attachment: %v, want ENOTFOUND", err)
		}
		if _, err := tx.AttachmentBytes(ctx, "00"); apperr.CodeOf(err) != apperr.ENOTFOUND {
			t.Fatalf("unknown bytes: %v, want ENOTFOUND", err)
		}
	})
}

// Issue 12, finding 8: a task's attachments are listed by id, attached or
// not; the sweep deletes the attachments of no item uploaded before the
// cut-off, oldest first and at most the limit, keeps every attachment of an
// item whatever its age and those uploaded since, and deletes the bytes no
// attachment left refers to (bytes shared with a kept one stay).
func testUnreferencedAttachments(t *testing.T, s store.Store) {
	blob := func(b string) string { sum := sha256.Sum256([]byte(b)); return hex.EncodeToString(sum[:]) }
	buyer := task.Actor{Role: task.RoleBuyer, ID: "b1"}
	mk := func(id, taskID, item, content string, age time.Duration) task.Attachment {
		return task.Attachment{ID: id, TaskID: taskID, ItemID: item, Name: id + ".png", ContentType: "image/png", Size: int64(len(content)),
			SHA256: blob(content), Side: task.SideBuyer, UploadedBy: buyer, At: at(-age)}
	}
	atts := []task.Attachment{
		mk("att_old2", "tsk_1", "", "old two", 48*time.Hour),
		mk("att_old1", "tsk_1", "", "old one", 72*time.Hour),
		mk("att_used", "tsk_1", "evd_1", "used", 96*time.Hour), // attached: kept
		mk("att_young", "tsk_1", "", "young", time.Hour),       // inside the grace: kept
		mk("att_shared", "tsk_2", "", "used", 50*time.Hour),    // bytes shared with att_used
		mk("att_same", "tsk_2", "", "old one", 49*time.Hour),   // bytes shared with att_old1
		mk("att_tie", "tsk_2", "", "tie", 48*time.Hour),        // same age as att_old2: by id
	}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for i := range atts {
			a := &atts[i]
			if err := tx.PutAttachmentBytes(ctx, a.SHA256, []byte(a.Name)); err != nil {
				t.Fatal(err)
			}
			if err := tx.PutAttachment(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		got, err := tx.Attachments(ctx, "tsk_1")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		if strings.Join(ids, ",") != "att_old1,att_old2,att_used,att_young" {
			t.Fatalf("Attachments(tsk_1) = %v", ids)
		}
		if none, err := tx.Attachments(ctx, "tsk_none"); err != nil || len(none) != 0 {
			t.Fatalf("attachments of an unknown task: %v %v", none, err)
		}
	})
	sweep := func(before time.Time, limit int) string {
		t.Helper()
		var ids []string
		update(t, s, func(ctx context.Context, tx store.Tx) {
			gone, err := tx.DeleteUnreferencedAttachments(ctx, before, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range gone {
				ids = append(ids, a.ID)
			}
		})
		return strings.Join(ids, ",")
	}
	cut := at(-24 * time.Hour)
	if got := sweep(cut, 3); got != "att_old1,att_shared,att_same" {
		t.Fatalf("first sweep deleted %s, want the three oldest unreferenced", got)
	}
	if got := sweep(cut, 10); got != "att_old2,att_tie" {
		t.Fatalf("second sweep deleted %s", got)
	}
	if got := sweep(cut, 10); got != "" {
		t.Fatalf("third sweep deleted %s, want nothing", got)
	}
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		for _, id := range []string{"att_used", "att_young"} {
			if _, err := tx.Attachment(ctx, id); err != nil {
				t.Errorf("%s: %v, want it kept", id, err)
			}
		}
		for _, id := range []string{"att_old1", "att_old2", "att_shared", "att_same", "att_tie"} {
			if _, err := tx.Attachment(ctx, id); apperr.CodeOf(err) != apperr.ENOTFOUND {
				t.Errorf("%s: %v, want it deleted", id, err)
			}
		}
		for content, kept := range map[string]bool{"used": true, "young": true, "old one": false, "old two": false, "tie": false} {
			_, err := tx.AttachmentBytes(ctx, blob(content))
			if kept && err != nil || !kept && apperr.CodeOf(err) != apperr.ENOTFOUND {
				t.Errorf("bytes of %q: %v, want kept %v", content, err, kept)
			}
		}
	})
}

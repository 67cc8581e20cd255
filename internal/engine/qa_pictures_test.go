package engine_test

import (
	"bytes"
	"fmt"
	"testing"

	"aftersale/internal/apperr"
	"aftersale/internal/engine"
	"aftersale/internal/evidence"
	"aftersale/internal/store"
)

// pngOfSize is a PNG of n bytes (a signature the sniffer knows, then padding).
func pngOfSize(n int) []byte {
	b := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, n)...)
	return b[:n]
}

// R-QA-2 (seed 001 温馨提示 2: "也可以上图来补充信息可信度(比如质检报告等)"): an
// answer may carry pictures, kept as evidence files are — the bytes by
// SHA-256 in the attachment store, the type sniffed from them. The policy's
// qa.answer_pictures (inferred: 9 pictures, 5 MiB each, images only) bounds
// them: 9 accepted and 10 refused, 5 MiB accepted and 5 MiB + 1 refused, a
// PDF or an empty file refused, each naming the field; a refused answer
// stores nothing. An answer without pictures is as before.
func TestQA2_AnswerPictures(t *testing.T) {
	const maxBytes = 5 << 20
	env := qaEnv(t)
	q := ask(t, env, "b9", "p1", "这件T恤是纯棉的吗？")
	main := shopMain("tb_main")
	pics := func(n, size int) []engine.PictureInput {
		out := make([]engine.PictureInput, n)
		for i := range out {
			d := pngOfSize(size)
			d[len(d)-1] = byte(i + 1) // distinct files
			out[i] = engine.PictureInput{Name: fmt.Sprintf("report-%d.png", i), Data: d}
		}
		return out
	}
	for _, c := range []struct {
		name  string
		pics  []engine.PictureInput
		field string
	}{
		{"ten pictures", pics(10, 100), "pictures"},
		{"one byte too large", pics(1, maxBytes+1), "pictures[0]"},
		{"a pdf", []engine.PictureInput{{Name: "r.pdf", Data: []byte("%PDF-1.4 quality report")}}, "pictures[0]"},
		{"empty", []engine.PictureInput{{Name: "e.png"}}, "pictures[0]"},
	} {
		_, err := env.Engine.AnswerWithPictures(env.Ctx, main, q.ID, "是的，附质检报告", c.pics)
		wantErr(t, err, apperr.EINVALID, "", c.field, "R-QA-2")
	}
	if got := question(t, env, q.ID); got.Answers != 0 {
		t.Fatalf("refused answers were stored: %d", got.Answers)
	}
	big := pics(1, maxBytes)
	a, err := env.Engine.AnswerWithPictures(env.Ctx, main, q.ID, "是的，附质检报告", append(big, pics(8, 100)...))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Pictures) != 9 || a.Pictures[0].Size != maxBytes || a.Pictures[0].ContentType != "image/png" ||
		a.Pictures[0].SHA256 != evidence.SHA256(big[0].Data) || a.Pictures[0].Name != "report-0.png" {
		t.Fatalf("answer pictures %+v", a.Pictures[:1])
	}
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) error {
		b, err := tx.AttachmentBytes(env.Ctx, a.Pictures[0].SHA256)
		if err == nil && !bytes.Equal(b, big[0].Data) {
			err = fmt.Errorf("stored bytes differ")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if d := orderEventData(env, q.ID, "question_answered"); d == nil || d["pictures"] != float64(9) {
		t.Errorf("event %v", d)
	}
	plain, err := env.Engine.Answer(env.Ctx, main, q.ID, "纯棉")
	if err != nil || len(plain.Pictures) != 0 {
		t.Fatalf("plain answer %+v %v", plain, err)
	}
}

package httpapi_test

import (
	"bytes"
	"net/http"
	"testing"
)

// R-QA-2 over HTTP: an answer may carry pictures (base64), stored as
// evidence files are and served back by index with their sniffed type; a
// picture of a type the policy does not accept is refused naming the
// field; an answer without pictures works as before.
func TestQA_API_AnswerPictures(t *testing.T) {
	e := qaAPI(t)
	q := e.ask("b9", "这件T恤是纯棉的吗？")
	path := "/v1/questions/" + q.ID + "/answers"
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 64)...)
	e.wantProblem(e.post(path, map[string]any{"actor": actor("shop_main", "tb_main"), "text": "附质检报告",
		"pictures": []map[string]any{{"name": "r.txt", "data": []byte("plain text report")}}}),
		http.StatusUnprocessableEntity, "invalid", "R-QA-2", "pictures[0]")
	var a struct {
		ID       string `json:"id"`
		Pictures []struct {
			Name        string `json:"name"`
			ContentType string `json:"content_type"`
			Size        int64  `json:"size"`
			SHA256      string `json:"sha256"`
		} `json:"pictures"`
	}
	e.ok(e.post(path, map[string]any{"actor": actor("shop_main", "tb_main"), "text": "纯棉，附质检报告",
		"pictures": []map[string]any{{"name": "report.png", "data": png}}}), http.StatusCreated, &a)
	if len(a.Pictures) != 1 || a.Pictures[0].ContentType != "image/png" || a.Pictures[0].Size != int64(len(png)) || a.Pictures[0].Name != "report.png" {
		t.Fatalf("answer %+v", a)
	}
	r := e.get(path + "/" + a.ID + "/pictures/0")
	if r.Status != http.StatusOK || !bytes.Equal(r.Body, png) || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("X-Content-SHA256") != a.Pictures[0].SHA256 {
		t.Fatalf("picture: %d %q %v", r.Status, r.Body, r.Header)
	}
	e.wantProblem(e.get(path+"/"+a.ID+"/pictures/1"), http.StatusNotFound, "not_found", "", "n")
	e.ok(e.post(path, map[string]any{"actor": actor("buyer", "b1"), "text": "是纯棉"}), http.StatusCreated, nil)
}

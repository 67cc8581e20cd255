package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/ident"
)

// decodedBatch is a POST /v1/facts body taken apart: the facts that decoded
// (in order) and, per position of the request, the refusal of a fact that
// did not (nil for the decoded ones).
type decodedBatch struct {
	facts   []commerce.Fact
	refused []*apperr.Error
	ids     []string // each fact's id as far as it could be read (for the results)
}

// decodeFacts decodes a batch strictly: the envelope may have only
// "facts"; each fact is decoded on its own (commerce.DecodeFact), so one
// with an unknown member or a value of the wrong type is that fact's
// refusal, and its neighbours are still ingested.
func decodeFacts(raw []byte, lang string) (*decodedBatch, error) {
	var body struct {
		Facts []json.RawMessage `json:"facts"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, huma.Error400BadRequest("malformed JSON", &huma.ErrorDetail{Location: "body", Message: err.Error()})
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			return nil, newProblem(http.StatusUnprocessableEntity, "invalid", "request.unknown_field", name, lang,
				fmt.Sprintf("unknown member %q: the body is {\"facts\": [...]}", name))
		}
		return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body", Message: err.Error()})
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, huma.Error400BadRequest("malformed JSON", &huma.ErrorDetail{Location: "body", Message: "data after the JSON object"})
	}
	if body.Facts == nil {
		return nil, huma.Error422UnprocessableEntity("validation failed",
			&huma.ErrorDetail{Location: "body", Message: "expected required property facts to be present"})
	}
	if n := len(body.Facts); n > MaxFacts {
		return nil, newProblem(http.StatusRequestEntityTooLarge, "invalid", "facts.too_many", "facts", lang,
			fmt.Sprintf("%d facts in one request; the limit is %d: split the batch", n, MaxFacts))
	}
	b := &decodedBatch{facts: make([]commerce.Fact, 0, len(body.Facts)), refused: make([]*apperr.Error, len(body.Facts)),
		ids: make([]string, len(body.Facts))}
	for i, rf := range body.Facts {
		f, err := commerce.DecodeFact(rf)
		if err != nil {
			ae, _ := apperr.As(err)
			b.refused[i] = ae
			var head struct {
				ID any `json:"id"`
			}
			if json.Unmarshal(rf, &head) == nil {
				if s, ok := head.ID.(string); ok && ident.Valid(s) {
					b.ids[i] = s
				}
			}
			continue
		}
		b.facts = append(b.facts, f)
	}
	return b, nil
}

// results merges the engine's results for the decoded facts with the
// refusals of those that did not decode, in the request's order.
func (b *decodedBatch) results(res []engine.FactResult) []engine.FactResult {
	out := make([]engine.FactResult, len(b.refused))
	j := 0
	for i, ae := range b.refused {
		if ae != nil {
			out[i] = engine.FactResult{ID: b.ids[i], Status: engine.FactRefused, Error: ae}
			continue
		}
		out[i] = res[j]
		j++
	}
	return out
}

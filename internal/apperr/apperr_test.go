package apperr

import (
	"errors"
	"fmt"
	"testing"
)

// A refusal is an application error other than EINTERNAL; Internal turns a
// refusal that arrives after writes began into a system fault, keeping its text.
func TestRefusalVersusSystemFault(t *testing.T) {
	refusal := Invalid("reply.contacted_at", "R-COL-3", "contact before creation")
	cases := []struct {
		err  error
		app  bool
		code Code
	}{
		{nil, false, ""},
		{refusal, true, EINVALID},
		{fmt.Errorf("wrapped: %w", refusal), true, EINVALID},
		{errors.New("disk full"), false, EINTERNAL},
		{New(EINTERNAL, "policy", "", "", "no policy"), false, EINTERNAL},
		{Internal(refusal), false, EINTERNAL},
		{Internal(errors.New("disk full")), false, EINTERNAL},
	}
	for i, c := range cases {
		if got := IsApp(c.err); got != c.app {
			t.Errorf("case %d: IsApp(%v) = %v, want %v", i, c.err, got, c.app)
		}
		if got := CodeOf(c.err); got != c.code {
			t.Errorf("case %d: CodeOf(%v) = %q, want %q", i, c.err, got, c.code)
		}
	}
	if Internal(nil) != nil {
		t.Error("Internal(nil) is not nil")
	}
	if got := Internal(refusal).Error(); got != "internal "+refusal.Error() {
		t.Errorf("Internal keeps the text: %q", got)
	}
	if refusal.Error() != "invalid [R-COL-3] reply.contacted_at: contact before creation" {
		t.Errorf("Error() = %q", refusal.Error())
	}
}

// NotFoundAs names the request's field in a store's "not found" and leaves
// every other error, and nil, as it is.
func TestNotFoundAs(t *testing.T) {
	store := fmt.Errorf("sqlite: read task: %w", NotFound("id", "no task row"))
	got := NotFoundAs(store, "task_id", "no task %q", "tsk_9")
	var ae *Error
	if !errors.As(got, &ae) || ae.Code != ENOTFOUND || ae.Field != "task_id" || ae.Error() == store.Error() {
		t.Fatalf("NotFoundAs(store not found) = %v (%+v)", got, ae)
	}
	conflict := Conflict("task.stale", "", "stale")
	if got := NotFoundAs(conflict, "task_id", "x"); got != conflict {
		t.Errorf("NotFoundAs(conflict) = %v, want it unchanged", got)
	}
	fault := errors.New("disk full")
	if got := NotFoundAs(fault, "task_id", "x"); got != fault {
		t.Errorf("NotFoundAs(fault) = %v, want it unchanged", got)
	}
	if got := NotFoundAs(nil, "task_id", "x"); got != nil {
		t.Errorf("NotFoundAs(nil) = %v", got)
	}
}

package webhook_test

import (
	"net/http"
	"testing"
	"time"

	"aftersale/internal/webhook"
)

// The Standard Webhooks specification's published example
// (github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md):
// Sign reproduces its signature exactly, so a receiver using any
// conforming library verifies our deliveries, and Verify accepts it.
func TestSignStandardWebhooksVector(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	ts := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	got, err := webhook.Sign(secret, id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Sign = %s, want the specification's %s", got, want)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", want)
	if err := webhook.Verify(secret, h, body, ts, 5*time.Minute); err != nil {
		t.Fatalf("Verify of the specification's example: %v", err)
	}
}

package config

import (
	"errors"
	"strings"
	"testing"
)

func TestResilienceSection(t *testing.T) {
	c, err := Parse("t.yaml", []byte("connectors:\n  braze:\n    instance_url: rest.iad-01.braze.com\nresilience:\n  limits:\n    replicas: 3\n    brevo:\n      plan: pro\n  retry:\n    max_attempts: 7\n    initial: 1s\n  breaker:\n    open_timeout: 20s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Resilience.Limits.Replicas != 3 || c.Resilience.Limits.Brevo.Plan != "pro" || c.Resilience.Retry.MaxAttempts != 7 || c.Resilience.Breaker.OpenTimeout.Seconds() != 20 {
		t.Fatalf("%+v", c.Resilience)
	}
	_, err = Parse("t.yaml", []byte("connectors:\n  braze:\n    instance_url: rest.iad-01.braze.com\nresilience:\n  limits:\n    replica: 3\n    brevo:\n      plan: platinum\n"))
	var ve ValidationErrors
	if !errors.As(err, &ve) || len(ve) != 2 || !strings.Contains(err.Error(), "platinum") || !strings.Contains(err.Error(), `did you mean "replicas"`) {
		t.Fatalf("want an unknown key and an unknown plan reported, got %v", err)
	}
}

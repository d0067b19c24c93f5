package config

import (
	"strings"
	"testing"
)

// TestEndpointRule is the one URL rule that config validation, `connectors
// install` and `connectors test` share (issue 9, item 11).
func TestEndpointRule(t *testing.T) {
	for _, tc := range []struct {
		in, braze, brevo string
		err              string // part of both errors; "" for none
		brazeErr         string // part of the Braze error only
	}{
		{in: "rest.iad-01.braze.com", braze: "https://rest.iad-01.braze.com", brevo: "https://rest.iad-01.braze.com"},
		{in: " https://REST.FRA-02.BRAZE.EU/ ", braze: "https://rest.fra-02.braze.eu", brevo: "https://rest.fra-02.braze.eu"},
		{in: "http://LOCALHOST:9001", braze: "http://localhost:9001", brevo: "http://localhost:9001"},
		{in: "HTTP://127.0.0.1:9001/", braze: "http://127.0.0.1:9001", brevo: "http://127.0.0.1:9001"},
		{in: "http://[::1]:9001", braze: "http://[::1]:9001", brevo: "http://[::1]:9001"},
		{in: "https://api.brevo.com/v3/", brazeErr: "give only the host", brevo: "https://api.brevo.com/v3"},
		{in: "rest.iad-01.braze.com/api", brazeErr: "give only the host", brevo: "https://rest.iad-01.braze.com/api"},
		{in: "http://braze.localhost:9001", err: "plain http would send the API key in clear"},
		{in: "http://rest.iad-01.braze.com", err: "plain http would send the API key in clear"},
		{in: "http://127.0.0.1.nip.io", err: "plain http"},
		{in: "ftp://x", err: "the scheme must be https"},
		{in: "https://u:p@rest.iad-01.braze.com", err: "no credentials, query or fragment"},
		{in: "https://rest.iad-01.braze.com?x=1", err: "no credentials, query or fragment"},
		{in: "https://", err: "not a host name or URL"},
		{in: "", braze: "", brevo: ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			braze, berr := BrazeInstanceURL(tc.in)
			brevo, verr := BrevoAPIURL(tc.in)
			switch {
			case tc.err != "":
				for _, err := range []error{berr, verr} {
					if err == nil || !strings.Contains(err.Error(), tc.err) {
						t.Errorf("error %v, want one containing %q", err, tc.err)
					}
				}
				return
			case tc.brazeErr != "":
				if berr == nil || !strings.Contains(berr.Error(), tc.brazeErr) {
					t.Errorf("Braze error %v, want one containing %q", berr, tc.brazeErr)
				}
			case berr != nil || braze != tc.braze:
				t.Errorf("BrazeInstanceURL = %q, %v; want %q", braze, berr, tc.braze)
			}
			if verr != nil || brevo != tc.brevo {
				t.Errorf("BrevoAPIURL = %q, %v; want %q", brevo, verr, tc.brevo)
			}
		})
	}
}

// TestConfigAcceptsWhatInstallWrites: the instance URL normal form passes
// validation again (install writes it into the config).
func TestConfigAcceptsWhatInstallWrites(t *testing.T) {
	for _, in := range []string{"http://LOCALHOST:9001", "HTTP://127.0.0.1:9001/", "REST.IAD-02.BRAZE.COM"} {
		u, err := BrazeInstanceURL(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		cfg, err := parse("t.yaml", []byte("connectors:\n  braze:\n    instance_url: "+u+"\n"), env(nil))
		if err != nil || cfg.Connectors.Braze.InstanceURL != u {
			t.Errorf("config with instance_url %s (from %s): %v", u, in, err)
		}
	}
	// A path is refused by validation as by install and test.
	if _, err := parse("t.yaml", []byte("connectors:\n  braze:\n    instance_url: https://rest.iad-01.braze.com/v1\n"), env(nil)); err == nil {
		t.Error("validation accepts an instance_url with a path, which install and test refuse")
	}
}

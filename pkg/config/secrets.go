package config

import (
	"os"
	"path/filepath"
)

// Environment variables read by this package.
const (
	EnvHome        = "TAJO_HOME"
	EnvBrazeAPIKey = "BRAZE_API_KEY"
	EnvBrevoAPIKey = "BREVO_API_KEY"
)

// Credentials are the vendor API keys. They are deliberately not part of
// Config: String and GoString redact them, so printing a value by mistake
// does not leak a key into a log.
type Credentials struct {
	BrazeAPIKey string
	BrevoAPIKey string
}

// Secrets reads the API keys from the environment.
func Secrets() Credentials {
	return Credentials{
		BrazeAPIKey: os.Getenv(EnvBrazeAPIKey),
		BrevoAPIKey: os.Getenv(EnvBrevoAPIKey),
	}
}

func (c Credentials) String() string {
	return "{BrazeAPIKey:" + redact(c.BrazeAPIKey) + " BrevoAPIKey:" + redact(c.BrevoAPIKey) + "}"
}

// GoString keeps %#v from printing the keys.
func (c Credentials) GoString() string { return "config.Credentials" + c.String() }

func redact(s string) string {
	if s == "" {
		return "(unset)"
	}
	return "(set)"
}

// Home is tajo's state directory: $TAJO_HOME, or ~/.tajo.
func Home() string {
	if h := os.Getenv(EnvHome); h != "" {
		return h
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".tajo")
	}
	// No home directory (a bare container): keep state beside the process
	// rather than fail.
	return ".tajo"
}

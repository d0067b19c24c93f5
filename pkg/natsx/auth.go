package natsx

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
)

// Environment variables Connect reads, named as the nats CLI names them.
// Credentials in the URL (nats://user:password@host, nats://token@host) win
// over NATS_CREDS, NATS_NKEY and NATS_USER; the TLS files apply either way.
const (
	EnvCreds    = "NATS_CREDS"    // a .creds file (user JWT and nkey seed), as nsc writes it
	EnvNKey     = "NATS_NKEY"     // an nkey seed file
	EnvUser     = "NATS_USER"     // user name; alone it is sent as a token
	EnvPassword = "NATS_PASSWORD" // password of NATS_USER
	EnvCA       = "NATS_CA"       // PEM file of the CA that signed the server's certificate
	EnvCert     = "NATS_CERT"     // client certificate (PEM) for mutual TLS; needs NATS_KEY
	EnvKey      = "NATS_KEY"      // private key (PEM) of NATS_CERT
)

// AuthFileName is the file in an embedded server's store directory that
// holds the credentials generated at its start (mode 0600), for the
// operator's other commands: see WithStoreAuth.
const AuthFileName = "nats-auth.json"

// embeddedUser is the user name of an embedded server's one user.
const embeddedUser = "tajo"

// Credentials are a user name and password.
type Credentials struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// String keeps the password out of anything that prints Credentials.
func (c Credentials) String() string {
	return fmt.Sprintf("natsx.Credentials{User:%q Password:[redacted]}", c.User)
}

// GoString keeps the password out of %#v.
func (c Credentials) GoString() string { return c.String() }

// NewCredentials draws a password of 256 random bits for the user "tajo":
// what an embedded server uses, and what a driver that runs nats-server
// itself can give it.
func NewCredentials() (Credentials, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Credentials{}, fmt.Errorf("generating nats credentials: %w", err)
	}
	return Credentials{User: embeddedUser, Password: base64.RawURLEncoding.EncodeToString(b)}, nil
}

// authFile is what AuthFileName holds.
type authFile struct {
	URL string `json:"url"` // the server's client URL, without credentials
	Credentials
}

// writeAuthFile writes the credentials of the server at clientURL to path,
// readable by its owner only. The file is replaced atomically, so a reader
// never sees half of it.
func writeAuthFile(path, clientURL string, c Credentials) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("writing nats credentials: creating %s: %w", dir, err)
	}
	b, err := json.Marshal(authFile{URL: clientURL, Credentials: c})
	if err != nil {
		return fmt.Errorf("writing nats credentials: %w", err)
	}
	f, err := os.CreateTemp(dir, ".nats-auth-*") // created 0600
	if err != nil {
		return fmt.Errorf("writing nats credentials in %s: %w", dir, err)
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("writing nats credentials %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing nats credentials %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing nats credentials %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing nats credentials %s: %w", path, err)
	}
	return nil
}

// readAuthFile reads path; ok is false when there is none.
func readAuthFile(path string) (a authFile, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return authFile{}, false, nil
	}
	if err != nil {
		return authFile{}, false, fmt.Errorf("reading nats credentials %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &a); err != nil || a.User == "" || a.Password == "" {
		return authFile{}, false, fmt.Errorf("reading nats credentials %s: not a credentials file (delete it; the server writes a new one at start)", path)
	}
	return a, true, nil
}

// removeAuthFile removes path if it still holds c (a server started on the
// same store since may have replaced it).
func removeAuthFile(path string, c Credentials) {
	if a, ok, err := readAuthFile(path); err == nil && ok && a.User == c.User &&
		subtle.ConstantTimeCompare([]byte(a.Password), []byte(c.Password)) == 1 {
		_ = os.Remove(path)
	}
}

// embeddedAuth holds the credentials of the embedded servers this process
// runs, by host:port, so that Connect authenticates to them without the
// caller carrying the password around. Only this process's servers are
// here, and only their own address gets their credentials.
var embeddedAuth = struct {
	sync.Mutex
	m map[string]Credentials
}{m: map[string]Credentials{}}

func registerEmbedded(hostport string, c Credentials) {
	embeddedAuth.Lock()
	defer embeddedAuth.Unlock()
	embeddedAuth.m[hostport] = c
}

func unregisterEmbedded(hostport string) {
	embeddedAuth.Lock()
	defer embeddedAuth.Unlock()
	delete(embeddedAuth.m, hostport)
}

func lookupEmbedded(hostport string) (Credentials, bool) {
	embeddedAuth.Lock()
	defer embeddedAuth.Unlock()
	c, ok := embeddedAuth.m[hostport]
	return c, ok
}

// serverURLs parses a comma-separated list of NATS URLs the way nats.go
// does (a bare host:port is nats://host:port).
func serverURLs(urls string) []*url.URL {
	var out []*url.URL
	for _, p := range strings.Split(urls, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "://") {
			p = "nats://" + p
		}
		u, err := url.Parse(p)
		if err != nil {
			continue
		}
		if u.Port() == "" {
			u.Host = net.JoinHostPort(u.Hostname(), "4222")
		}
		out = append(out, u)
	}
	return out
}

// hasUserInfo reports whether any URL of the list carries credentials.
func hasUserInfo(urls []*url.URL) bool {
	for _, u := range urls {
		if u.User != nil {
			return true
		}
	}
	return false
}

// authOptions are the options that authenticate a connection to urls:
// the credentials of an embedded server of this process listening there
// (they are the right ones for it, whatever the environment says for a
// deployment), else those of the environment; and the TLS files from the
// environment. Credentials in the URL win over both.
func authOptions(rawURLs string) ([]nats.Option, error) {
	var opts []nats.Option
	ca, cert, key := os.Getenv(EnvCA), os.Getenv(EnvCert), os.Getenv(EnvKey)
	if ca != "" {
		opts = append(opts, nats.RootCAs(ca))
	}
	switch {
	case cert != "" && key != "":
		opts = append(opts, nats.ClientCert(cert, key))
	case cert != "" || key != "":
		return nil, fmt.Errorf("%s and %s go together: set both for mutual TLS, or neither", EnvCert, EnvKey)
	}

	urls := serverURLs(rawURLs)
	if hasUserInfo(urls) {
		return opts, nil
	}
	for _, u := range urls {
		if c, ok := lookupEmbedded(u.Host); ok {
			return append(opts, nats.UserInfo(c.User, c.Password)), nil
		}
	}
	creds, nkey, user, pass := os.Getenv(EnvCreds), os.Getenv(EnvNKey), os.Getenv(EnvUser), os.Getenv(EnvPassword)
	switch {
	case creds != "":
		if _, err := os.Stat(creds); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvCreds, err)
		}
		return append(opts, nats.UserCredentials(creds)), nil
	case nkey != "":
		o, err := nats.NkeyOptionFromSeed(nkey)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvNKey, err)
		}
		return append(opts, o), nil
	case user != "" && pass != "":
		return append(opts, nats.UserInfo(user, pass)), nil
	case user != "":
		return append(opts, nats.Token(user)), nil
	case pass != "":
		return nil, fmt.Errorf("%s is set without %s", EnvPassword, EnvUser)
	}
	return opts, nil
}

// WithStoreAuth authenticates with the credentials a local embedded server
// wrote in storeDir (AuthFileName) when the connection goes to that very
// server: a loopback address and the port the file names. Those replace
// credentials from the environment (which are a deployment's); credentials
// in the URL are kept. Without such a file it changes nothing. It is how
// the operator's commands reach the server `tajo run` started: the file is
// readable by its owner only, so other local users cannot.
func WithStoreAuth(storeDir string) nats.Option {
	return func(o *nats.Options) error {
		if storeDir == "" {
			return nil
		}
		a, ok, err := readAuthFile(filepath.Join(storeDir, AuthFileName))
		if err != nil || !ok {
			return err
		}
		fileURLs := serverURLs(a.URL)
		if len(fileURLs) != 1 || !loopbackHost(fileURLs[0].Hostname()) {
			return nil
		}
		for _, s := range serverURLs(strings.Join(o.Servers, ",")) {
			if s.User != nil {
				return nil
			}
			if loopbackHost(s.Hostname()) && s.Port() == fileURLs[0].Port() {
				o.Token, o.TokenHandler, o.UserJWT, o.Nkey, o.SignatureCB = "", nil, nil, "", nil
				o.User, o.Password = a.User, a.Password
				return nil
			}
		}
		return nil
	}
}

// loopbackHost reports a loopback IP literal or exactly "localhost".
func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

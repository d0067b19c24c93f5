package gateway

import (
	"os"
	"strings"

	"github.com/tajo-sync/tajo/pkg/secrets"
)

// EnvCurrentsToken holds the Currents bearer token; it wins over the one
// stored with the connector's credentials.
const EnvCurrentsToken = "TAJO_CURRENTS_TOKEN"

// CurrentsToken is the Currents bearer token: TAJO_CURRENTS_TOKEN, else the
// one stored (encrypted) with the Braze connector's credentials under home;
// "" when neither is set.
func CurrentsToken(home string) (string, error) {
	return token(home, EnvCurrentsToken, func(c secrets.Credentials) string { return c.CurrentsToken })
}

// token is a secret the gateway checks: the environment variable env's
// value, else the one of the Braze connector's credentials stored under
// home that pick names; "" when neither is set.
func token(home, env string, pick func(secrets.Credentials) string) (string, error) {
	if t := strings.TrimSpace(os.Getenv(env)); t != "" {
		return t, nil
	}
	st, err := secrets.Open(home)
	if err != nil {
		return "", err
	}
	c, ok, err := st.Get("braze")
	if err != nil || !ok {
		return "", err
	}
	return pick(c), nil
}

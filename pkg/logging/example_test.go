package logging_test

import (
	"log/slog"
	"os"

	"github.com/tajo-sync/tajo/pkg/logging"
)

func ExampleNewHandler() {
	// Any slog.Handler can be wrapped; the time is dropped to keep the
	// output stable.
	dropTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	next := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: dropTime})
	log := slog.New(logging.NewHandler(next, logging.NewRedactor("my-braze-rest-key")))
	log.Info("contact refused", "email", "jane@example.com", "sms", "+33612345678",
		"auth", "Bearer my-braze-rest-key", "echo", "key=my-braze-rest-key")
	// Output:
	// level=INFO msg="contact refused" email=***@example.com sms=*** auth="Bearer ***" echo="key=***"
}

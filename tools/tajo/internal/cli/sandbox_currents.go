package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/tajo-sync/tajo/tools/sandbox/currents"
	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// currentsFlags are `tajo sandbox`'s Currents emitter flags.
type currentsFlags struct {
	url, token string
	rate       float64
	events     int
}

func (c *currentsFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&c.url, "currents-url", "", "send Braze Currents batches for the generated users to this URL (e.g. http://127.0.0.1:8080/v1/braze/currents)")
	fl.StringVar(&c.token, "currents-token", "", "bearer token of the Currents batches (the gateway's Currents token)")
	fl.Float64Var(&c.rate, "currents-rate", 100, "Currents events per second (0: as fast as answered)")
	fl.IntVar(&c.events, "currents-events", 0, "stop after this many distinct events (0: until Ctrl-C)")
}

// emitCurrents sends Currents batches, with Braze's duplicates, unknown
// types and retries, until ctx ends or the events are sent, then says what
// it sent and keeps serving until Ctrl-C.
func emitCurrents(ctx context.Context, out io.Writer, g *gen.Generator, c currentsFlags) error {
	if c.token == "" {
		return errors.New("--currents-token is required with --currents-url")
	}
	users := currents.UsersOf(g)
	fmt.Fprintf(out, "Sending Currents batches to %s at %g events/s for %d users (5%% of batches re-sent, 1%% unknown types).\n",
		c.url, c.rate, len(users))
	st, err := currents.Run(ctx, currents.Config{URL: c.url, Token: c.token, Users: users, Rate: c.rate, Events: c.events})
	fmt.Fprintf(out, "Currents: %d events in %d batches answered 2xx, %d batches re-sent, %d retries, %d events dropped (not retried), answers %v.\n",
		st.Events, st.Batches, st.Resent, st.Retries, st.Dropped, st.Statuses)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("sending Currents batches: %w", err)
	}
	<-ctx.Done()
	return nil
}

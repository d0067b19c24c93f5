package app

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/status"
)

// The status is pkg/status's: the gateway (in this process or its own
// binary) and `tajo connectors status` read it with the same code. These
// names keep the CLI's and the tests' spelling.
type (
	Status          = status.Status
	Connection      = status.Connection
	VendorCheck     = status.VendorCheck
	RunStatus       = status.RunStatus
	ConsumerLag     = status.ConsumerLag
	DeadLetterCount = status.DeadLetterCount
	BreakerState    = status.BreakerState
	SegmentStatus   = status.SegmentStatus
	VendorReads     = status.VendorReads
)

// StatusRuns is how many of the last runs Status.Runs holds.
const StatusRuns = status.Runs

// StatusResources are the resources whose last run the status shows;
// LagConsumers the consumers whose backlog it shows.
var (
	StatusResources = status.Resources
	LagConsumers    = status.LagConsumers
)

// ReadStatus is status.Read.
func ReadStatus(ctx context.Context, js jetstream.JetStream, conn Connection) (*Status, error) {
	return status.Read(ctx, js, conn)
}

// CheckVendors is status.CheckVendors.
func CheckVendors(ctx context.Context, r VendorReads) Connection { return status.CheckVendors(ctx, r) }

// Reads is status.Reads.
func Reads(bz *braze.Client, bv *brevo.Client) VendorReads { return status.Reads(bz, bv) }

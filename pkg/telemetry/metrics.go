package telemetry

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/proto"
)

// Metrics is one process's Prometheus registry: what its workers report as
// they go (Batch, Settled, VendorCall), and what is read from the bus and
// the vendor guards when scraped (consumer lag, DLQ depth, breakers,
// rate-limit waits). It implements pipeline.Meter.
type Metrics struct {
	reg *prometheus.Registry

	in, out, failed *prometheus.CounterVec
	deadLettered    *prometheus.CounterVec
	batches         *prometheus.CounterVec
	batchSize       *prometheus.HistogramVec
	calls           *prometheus.CounterVec
	callSeconds     *prometheus.HistogramVec
	requests        *prometheus.CounterVec
	requestSeconds  *prometheus.HistogramVec
}

// NewMetrics returns the registry of service (a constant label on every
// series), with Go runtime and process collectors.
func NewMetrics(service string) *Metrics {
	reg := prometheus.NewRegistry()
	f := prometheus.WrapRegistererWith(prometheus.Labels{"service": service}, reg)
	m := &Metrics{
		reg: reg,
		in: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tajo_messages_in_total",
			Help: "Messages a stage took off its consumer and handed to its handler."}, []string{"stage"}),
		out: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tajo_messages_out_total",
			Help: "Messages a stage handled and acknowledged."}, []string{"stage"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tajo_messages_failed_total",
			Help: "Deliveries that failed and were nakked for a later retry."}, []string{"stage"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tajo_messages_dead_lettered_total",
			Help: "Messages a stage's worker sent to the DLQ, by reason."}, []string{"stage", "reason"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tajo_batches_total",
			Help: "Batches dispatched, by what flushed them (count, bytes, wait, caught_up, drain)."}, []string{"stage", "cause"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tajo_batch_size",
			Help:    "Messages per batch dispatched.",
			Buckets: []float64{1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000}}, []string{"stage"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tajo_vendor_calls_total",
			Help: "Vendor API calls by route template and status (0: no answer)."}, []string{"vendor", "method", "route", "status"}),
		callSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tajo_vendor_call_seconds",
			Help: "Duration of vendor API calls.", Buckets: prometheus.DefBuckets}, []string{"vendor", "route"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tajo_gateway_requests_total",
			Help: "Requests the gateway answered, by route pattern and status."}, []string{"route", "status"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tajo_gateway_request_seconds",
			Help: "Time the gateway took to answer, by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"}),
	}
	f.MustRegister(m.in, m.out, m.failed, m.deadLettered, m.batches, m.batchSize, m.calls, m.callSeconds,
		m.requests, m.requestSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the registry /metrics serves.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Batch implements pipeline.Meter.
func (m *Metrics) Batch(stage string, size int, cause string) {
	m.in.WithLabelValues(stage).Add(float64(size))
	m.batches.WithLabelValues(stage, cause).Inc()
	m.batchSize.WithLabelValues(stage).Observe(float64(size))
}

// Settled implements pipeline.Meter.
func (m *Metrics) Settled(stage, outcome, reason string) {
	switch outcome {
	case "acked":
		m.out.WithLabelValues(stage).Inc()
	case "retried":
		m.failed.WithLabelValues(stage).Inc()
	case "dead_lettered":
		m.deadLettered.WithLabelValues(stage, reason).Inc()
	}
}

// VendorCall counts one vendor API call; route must be a template, never
// a path holding an identifier. Wire it to the clients' Observer.
func (m *Metrics) VendorCall(vendor, method, route string, status int, d time.Duration) {
	m.calls.WithLabelValues(vendor, method, route, strconv.Itoa(status)).Inc()
	m.callSeconds.WithLabelValues(vendor, route).Observe(d.Seconds())
}

// Request counts one request the gateway answered; route is the pattern
// served, never a path holding an identifier (gateway.RequestMeter).
func (m *Metrics) Request(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.requestSeconds.WithLabelValues(route).Observe(d.Seconds())
}

// Worker is the pipeline.Meter of a worker that shares its stage (its DLQ
// subjects, its ledger) with another but not its figures: the events
// workers report as "<stage>.events", apart from the users workers.
type Worker struct {
	m    *Metrics
	name string
}

// Worker reports a worker's batches and settlements under name instead of
// its stage.
func (m *Metrics) Worker(name string) Worker { return Worker{m: m, name: name} }

// Batch implements pipeline.Meter.
func (w Worker) Batch(_ string, size int, cause string) { w.m.Batch(w.name, size, cause) }

// Settled implements pipeline.Meter.
func (w Worker) Settled(_ string, outcome, reason string) { w.m.Settled(w.name, outcome, reason) }

// WatchGuards reports the guards' breaker states and rate-limit waits at
// every scrape.
func (m *Metrics) WatchGuards(guards ...*resilience.Guard) {
	m.reg.MustRegister(&guardCollector{guards: guards})
}

// Consumer names a durable consumer whose lag is reported.
type Consumer struct{ Stream, Durable string }

// WatchBus reports, at every scrape, the pending and ack-pending counts of
// consumers and the DLQ's depth by stage and reason, read from js.
func (m *Metrics) WatchBus(js jetstream.JetStream, consumers ...Consumer) {
	m.reg.MustRegister(&busCollector{js: js, consumers: consumers})
}

var (
	breakerDesc = prometheus.NewDesc("tajo_breaker_state",
		"Circuit breaker state per vendor bucket: 1 for the current state (closed, half-open, open).",
		[]string{"vendor", "bucket", "state"}, nil)
	waitsDesc = prometheus.NewDesc("tajo_rate_limit_waits_total",
		"Vendor calls that waited for the rate limiter.", []string{"vendor", "bucket"}, nil)
	waitSecondsDesc = prometheus.NewDesc("tajo_rate_limit_wait_seconds_total",
		"Time vendor calls spent waiting for the rate limiter.", []string{"vendor", "bucket"}, nil)
	throttledDesc = prometheus.NewDesc("tajo_vendor_throttled_total",
		"429 answers seen.", []string{"vendor"}, nil)
	pendingDesc = prometheus.NewDesc("tajo_consumer_pending",
		"Messages on a consumer's stream not yet delivered to it.", []string{"stream", "consumer"}, nil)
	ackPendingDesc = prometheus.NewDesc("tajo_consumer_ack_pending",
		"Messages delivered to a consumer and not yet acknowledged.", []string{"stream", "consumer"}, nil)
	dlqDesc = prometheus.NewDesc("tajo_dlq_depth",
		"Dead letters held in the DLQ stream, by stage and reason.", []string{"stage", "reason"}, nil)
	busUpDesc = prometheus.NewDesc("tajo_bus_scrape_ok",
		"1 when the last scrape could read the bus's figures.", nil, nil)
)

var breakerStates = []string{"closed", "half-open", "open"}

type guardCollector struct{ guards []*resilience.Guard }

func (c *guardCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakerDesc
	ch <- waitsDesc
	ch <- waitSecondsDesc
	ch <- throttledDesc
}

func (c *guardCollector) Collect(ch chan<- prometheus.Metric) {
	for _, g := range c.guards {
		if g == nil {
			continue
		}
		for bucket, state := range g.Breakers.States() {
			for _, s := range breakerStates {
				v := 0.0
				if s == state {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(breakerDesc, prometheus.GaugeValue, v, g.Vendor, bucket, s)
			}
		}
		for bucket, w := range g.Limiter.Waits() {
			ch <- prometheus.MustNewConstMetric(waitsDesc, prometheus.CounterValue, float64(w.Count), g.Vendor, bucket)
			ch <- prometheus.MustNewConstMetric(waitSecondsDesc, prometheus.CounterValue, w.Total.Seconds(), g.Vendor, bucket)
		}
		ch <- prometheus.MustNewConstMetric(throttledDesc, prometheus.CounterValue, float64(g.Limiter.Throttled()), g.Vendor)
	}
}

// scrapeTimeout bounds the bus reads of one scrape.
const scrapeTimeout = 3 * time.Second

type busCollector struct {
	js        jetstream.JetStream
	consumers []Consumer
}

func (c *busCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- ackPendingDesc
	ch <- dlqDesc
	ch <- busUpDesc
}

func (c *busCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	ok := 1.0
	for _, cons := range c.consumers {
		cn, err := c.js.Consumer(ctx, cons.Stream, cons.Durable)
		if err != nil {
			ok = 0
			continue
		}
		info, err := cn.Info(ctx)
		if err != nil {
			ok = 0
			continue
		}
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(info.NumPending), cons.Stream, cons.Durable)
		ch <- prometheus.MustNewConstMetric(ackPendingDesc, prometheus.GaugeValue, float64(info.NumAckPending), cons.Stream, cons.Durable)
	}
	if depth, err := DLQDepth(ctx, c.js); err != nil {
		ok = 0
	} else {
		for k, n := range depth {
			ch <- prometheus.MustNewConstMetric(dlqDesc, prometheus.GaugeValue, float64(n), k[0], k[1])
		}
	}
	ch <- prometheus.MustNewConstMetric(busUpDesc, prometheus.GaugeValue, ok)
}

// DLQDepth counts the DLQ stream's messages by [stage, reason], from its
// subjects dlq.<stage>.<reason>.
func DLQDepth(ctx context.Context, js jetstream.JetStream) (map[[2]string]uint64, error) {
	s, err := js.Stream(ctx, proto.StreamDLQ)
	if err != nil {
		return nil, err
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter("dlq.>"))
	if err != nil {
		return nil, err
	}
	out := map[[2]string]uint64{}
	for subj, n := range info.State.Subjects {
		parts := strings.SplitN(subj, ".", 3)
		if len(parts) != 3 {
			continue
		}
		out[[2]string{parts[1], parts[2]}] += n
	}
	return out, nil
}

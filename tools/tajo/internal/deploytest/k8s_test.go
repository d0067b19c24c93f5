package deploytest

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/tajo-sync/tajo/proto"
)

// No Kubernetes or KEDA schema registry is reachable from here: the
// manifests are decoded strictly (an unknown or misspelt field is an
// error) into the Kubernetes API's own Go types (k8s.io/api), and the
// ScaledObjects into scaledObject below, which mirrors the fields of KEDA's
// keda.sh/v1alpha1 ScaledObject and of its nats-jetstream trigger.

type scaledObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion,omitempty"`
			Kind       string `json:"kind,omitempty"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		PollingInterval *int32 `json:"pollingInterval,omitempty"`
		CooldownPeriod  *int32 `json:"cooldownPeriod,omitempty"`
		MinReplicaCount *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount *int32 `json:"maxReplicaCount,omitempty"`
		Triggers        []struct {
			Type     string            `json:"type"`
			Name     string            `json:"name,omitempty"`
			Metadata map[string]string `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

// natsJetStreamKeys are the metadata keys of KEDA's nats-jetstream scaler.
var natsJetStreamKeys = []string{"natsServerMonitoringEndpoint", "account", "stream", "consumer",
	"lagThreshold", "activationLagThreshold", "useHttps"}

func decodeStrict(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, into); err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
}

func TestKubernetesManifests(t *testing.T) {
	root := repoRoot(t)
	dir := filepath.Join(root, "deploy", "k8s")
	src, _ := envSources(t, root)
	deployments := map[string]*appsv1.Deployment{}
	for _, name := range append(slices.Clone(workers), "gateway") {
		var d appsv1.Deployment
		decodeStrict(t, filepath.Join(dir, "deployment-"+name+".yaml"), &d)
		deployments[name] = &d
		if d.APIVersion != "apps/v1" || d.Kind != "Deployment" || d.Name != "tajo-"+name {
			t.Errorf("%s: %s %s %q", name, d.APIVersion, d.Kind, d.Name)
		}
		sel := d.Spec.Selector.MatchLabels
		for k, v := range sel {
			if d.Spec.Template.Labels[k] != v {
				t.Errorf("%s: selector %s=%s does not match the pod template", name, k, v)
			}
		}
		if len(d.Spec.Template.Spec.Containers) != 1 {
			t.Fatalf("%s: want one container", name)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if c.Image != "tajo/"+name+":dev" {
			t.Errorf("%s: image %q", name, c.Image)
		}
		sc := d.Spec.Template.Spec.SecurityContext
		if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: must run as non-root", name)
		}
		ports := map[string]int32{}
		for _, p := range c.Ports {
			ports[p.Name] = p.ContainerPort
		}
		for _, probe := range []struct {
			p    *corev1.Probe
			path string
		}{{c.ReadinessProbe, "/readyz"}, {c.LivenessProbe, "/healthz"}} {
			if probe.p == nil || probe.p.HTTPGet == nil || probe.p.HTTPGet.Path != probe.path ||
				ports[probe.p.HTTPGet.Port.String()] == 0 {
				t.Errorf("%s: want an HTTP probe on %s at a named container port", name, probe.path)
			}
		}
		env := map[string]corev1.EnvVar{}
		for _, e := range c.Env {
			env[e.Name] = e
			if e.Name != "POD_NAME" && !strings.HasPrefix(e.Name, "OTEL_") && !strings.Contains(src, strconv.Quote(e.Name)) {
				t.Errorf("%s: environment %s is read by no binary", name, e.Name)
			}
		}
		if l := env["TAJO_METRICS_LISTEN"].Value; !strings.HasSuffix(l, ":"+strconv.Itoa(int(ports["metrics"]))) {
			t.Errorf("%s: metrics listen %q is not the metrics port %d", name, l, ports["metrics"])
		}
		for _, secret := range []string{"NATS_PASSWORD", "TAJO_METRICS_TOKEN", "BRAZE_API_KEY", "BREVO_API_KEY"} {
			if e, ok := env[secret]; ok && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
				t.Errorf("%s: %s must come from a Secret", name, secret)
			}
		}
		mounts := map[string]bool{}
		for _, m := range c.VolumeMounts {
			mounts[m.Name] = true
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if !mounts[v.Name] {
				t.Errorf("%s: volume %s is not mounted", name, v.Name)
			}
			delete(mounts, v.Name)
		}
		for m := range mounts {
			t.Errorf("%s: mount %s names no volume", name, m)
		}
	}

	var svc corev1.Service
	decodeStrict(t, filepath.Join(dir, "service-gateway.yaml"), &svc)
	gw := deployments["gateway"]
	for k, v := range svc.Spec.Selector {
		if gw.Spec.Template.Labels[k] != v {
			t.Errorf("gateway Service selector %s=%s selects no gateway pod", k, v)
		}
	}
	for _, p := range svc.Spec.Ports {
		found := false
		for _, cp := range gw.Spec.Template.Spec.Containers[0].Ports {
			found = found || cp.Name == p.TargetPort.String()
		}
		if !found {
			t.Errorf("gateway Service port %s targets %s, not a gateway container port", p.Name, p.TargetPort.String())
		}
	}

	// The workers' own stream and durable names: a rename there must move
	// the ScaledObjects too.
	consumers := map[string][2]string{"transformer": {proto.StreamRaw, proto.DurableTransformerUsers},
		"loader": {proto.StreamOps, proto.DurableLoaderContacts}}
	for name, want := range consumers {
		var so scaledObject
		decodeStrict(t, filepath.Join(dir, "scaledobject-"+name+".yaml"), &so)
		if so.APIVersion != "keda.sh/v1alpha1" || so.Kind != "ScaledObject" {
			t.Errorf("%s: %s %s, want keda.sh/v1alpha1 ScaledObject", name, so.APIVersion, so.Kind)
		}
		if so.Spec.ScaleTargetRef.Name != deployments[name].Name {
			t.Errorf("%s: scales %q, not its Deployment", name, so.Spec.ScaleTargetRef.Name)
		}
		if so.Spec.MinReplicaCount == nil || *so.Spec.MinReplicaCount < 1 {
			t.Errorf("%s: minReplicaCount must be at least 1 (a worker must be up to drain the lag)", name)
		}
		if len(so.Spec.Triggers) != 1 || so.Spec.Triggers[0].Type != "nats-jetstream" {
			t.Fatalf("%s: want one nats-jetstream trigger", name)
		}
		md := so.Spec.Triggers[0].Metadata
		for k := range md {
			if !slices.Contains(natsJetStreamKeys, k) {
				t.Errorf("%s: %q is not a nats-jetstream scaler key", name, k)
			}
		}
		if md["stream"] != want[0] || md["consumer"] != want[1] {
			t.Errorf("%s: scales on %s/%s, want its consumer %s/%s", name, md["stream"], md["consumer"], want[0], want[1])
		}
		if _, err := strconv.Atoi(md["lagThreshold"]); err != nil || md["natsServerMonitoringEndpoint"] == "" {
			t.Errorf("%s: lagThreshold %q and natsServerMonitoringEndpoint %q are required", name, md["lagThreshold"], md["natsServerMonitoringEndpoint"])
		}
	}
}

// SPDX-License-Identifier: GPL-2.0
//
// weft-cni-runtime: drives CNI plugins the way container runtimes do, for
// the weft-cni tests (tests/e2e/cni.sh). It is a thin command line over the
// two client libraries runtimes use:
//
//   - libcni (github.com/containernetworking/cni/libcni), used by CRI-O,
//     podman's CNI backend and most others;
//   - go-cni (github.com/containerd/go-cni), containerd's wrapper of libcni.
//
// Both come from Debian packages (golang-github-appc-cni-dev,
// golang-github-containerd-go-cni-dev) and are built offline in GOPATH mode
// by tests/cni/build-runtime.sh.
//
// Usage:
//
//	weft-cni-runtime libcni add|check|del OPTIONS
//	weft-cni-runtime gocni setup|check|remove OPTIONS
//
// Options (both):
//
//	--conflist FILE      the network configuration list (required)
//	--cni-path DIR[:DIR] where the plugins are (required)
//	--netns PATH         the pod's network namespace (required)
//	--id ID              the container ID (required)
//	--ifname IF          the pod interface (default eth0; go-cni: the
//	                     prefix, go-cni appends the network's index)
//	--arg K=V            a CNI_ARGS pair (repeatable; go-cni adds
//	                     IgnoreUnknown=1 as containerd does)
//	--port-map HOST:CONTAINER[/PROTO][@HOSTIP]   portMappings (repeatable)
//	--bandwidth INGRESS,EGRESS[,BURST]  bandwidth in bit/s (burst in bits,
//	                     default: a tenth of a second at the rate)
//	--cache-dir DIR      libcni only: its result cache (default /var/lib/cni;
//	                     go-cni always uses /var/lib/cni)
//
// ADD/setup prints the result as one line of JSON on stdout (go-cni: the raw
// result of the network). A failure prints the plugin's error as CNI error
// JSON on stdout when there is one, a message on stderr, and exits 1. Usage
// errors exit 2.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	gocni "github.com/containerd/go-cni"
	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
)

type portMap struct {
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

type bandwidth struct {
	IngressRate  uint64 `json:"ingressRate"`
	IngressBurst uint64 `json:"ingressBurst"`
	EgressRate   uint64 `json:"egressRate"`
	EgressBurst  uint64 `json:"egressBurst"`
}

type options struct {
	conflist string
	cniPath  string
	netns    string
	id       string
	ifname   string
	cacheDir string
	args     [][2]string
	ports    []portMap
	bw       *bandwidth
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func usage(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "weft-cni-runtime: "+format+"\n", a...)
	fmt.Fprintln(os.Stderr, "usage: weft-cni-runtime libcni add|check|del OPTIONS\n"+
		"       weft-cni-runtime gocni setup|check|remove OPTIONS\n"+
		"options: --conflist FILE --cni-path DIRS --netns PATH --id ID [--ifname IF]\n"+
		"         [--arg K=V]... [--port-map HOST:CONTAINER[/PROTO][@HOSTIP]]...\n"+
		"         [--bandwidth INGRESS,EGRESS[,BURST]] [--cache-dir DIR]")
	os.Exit(2)
}

func parsePort(s string) (portMap, error) {
	p := portMap{Protocol: "tcp"}
	if i := strings.IndexByte(s, '@'); i >= 0 {
		p.HostIP = s[i+1:]
		s = s[:i]
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		p.Protocol = s[i+1:]
		s = s[:i]
	}
	hc := strings.Split(s, ":")
	if len(hc) != 2 {
		return p, fmt.Errorf("want HOST:CONTAINER[/PROTO][@HOSTIP], got %q", s)
	}
	var err error
	if p.HostPort, err = strconv.Atoi(hc[0]); err != nil {
		return p, err
	}
	if p.ContainerPort, err = strconv.Atoi(hc[1]); err != nil {
		return p, err
	}
	return p, nil
}

func parseBandwidth(s string) (*bandwidth, error) {
	f := strings.Split(s, ",")
	if len(f) < 2 || len(f) > 3 {
		return nil, fmt.Errorf("want INGRESS,EGRESS[,BURST], got %q", s)
	}
	var v [3]uint64
	for i, x := range f {
		n, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return nil, err
		}
		v[i] = n
	}
	bw := &bandwidth{IngressRate: v[0], EgressRate: v[1], IngressBurst: v[2], EgressBurst: v[2]}
	if len(f) == 2 {
		// the bandwidth plugin insists on a burst with a rate
		bw.IngressBurst, bw.EgressBurst = v[0]/10, v[1]/10
	}
	return bw, nil
}

func parseOptions(args []string) *options {
	fs := flag.NewFlagSet("weft-cni-runtime", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := &options{}
	var argList, portList multi
	var bw string
	fs.StringVar(&o.conflist, "conflist", "", "")
	fs.StringVar(&o.cniPath, "cni-path", "", "")
	fs.StringVar(&o.netns, "netns", "", "")
	fs.StringVar(&o.id, "id", "", "")
	fs.StringVar(&o.ifname, "ifname", "eth0", "")
	fs.StringVar(&o.cacheDir, "cache-dir", "", "")
	fs.StringVar(&bw, "bandwidth", "", "")
	fs.Var(&argList, "arg", "")
	fs.Var(&portList, "port-map", "")
	if err := fs.Parse(args); err != nil {
		usage("%v", err)
	}
	if fs.NArg() > 0 {
		usage("unexpected argument %q", fs.Arg(0))
	}
	for _, req := range [][2]string{{"--conflist", o.conflist},
		{"--cni-path", o.cniPath}, {"--netns", o.netns}, {"--id", o.id}} {
		if req[1] == "" {
			usage("%s is required", req[0])
		}
	}
	for _, a := range argList {
		kv := strings.SplitN(a, "=", 2)
		if len(kv) != 2 || kv[0] == "" {
			usage("--arg: want K=V, got %q", a)
		}
		o.args = append(o.args, [2]string{kv[0], kv[1]})
	}
	for _, p := range portList {
		pm, err := parsePort(p)
		if err != nil {
			usage("--port-map: %v", err)
		}
		o.ports = append(o.ports, pm)
	}
	if bw != "" {
		b, err := parseBandwidth(bw)
		if err != nil {
			usage("--bandwidth: %v", err)
		}
		o.bw = b
	}
	return o
}

// fail reports err: the plugin's CNI error JSON on stdout when there is one.
func fail(what string, err error) {
	var cerr *types.Error
	if errors.As(err, &cerr) {
		if b, e := json.Marshal(cerr); e == nil {
			fmt.Println(string(b))
		}
	}
	fmt.Fprintf(os.Stderr, "weft-cni-runtime: %s: %v\n", what, err)
	os.Exit(1)
}

func printJSON(v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		fail("encoding the result", err)
	}
	fmt.Println(string(b))
}

func runLibcni(verb string, o *options) {
	list, err := libcni.ConfListFromFile(o.conflist)
	if err != nil {
		fail("loading "+o.conflist, err)
	}
	cfg := libcni.NewCNIConfigWithCacheDir(strings.Split(o.cniPath, ":"), o.cacheDir, nil)
	rt := &libcni.RuntimeConf{
		ContainerID:    o.id,
		NetNS:          o.netns,
		IfName:         o.ifname,
		Args:           o.args,
		CapabilityArgs: map[string]interface{}{},
	}
	if len(o.ports) > 0 {
		rt.CapabilityArgs["portMappings"] = o.ports
	}
	if o.bw != nil {
		rt.CapabilityArgs["bandwidth"] = o.bw
	}
	ctx := context.Background()
	switch verb {
	case "add":
		res, err := cfg.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail("ADD", err)
		}
		printJSON(res)
	case "check":
		if err := cfg.CheckNetworkList(ctx, list, rt); err != nil {
			fail("CHECK", err)
		}
	case "del":
		if err := cfg.DelNetworkList(ctx, list, rt); err != nil {
			fail("DEL", err)
		}
	default:
		usage("libcni: unknown verb %q", verb)
	}
}

func runGocni(verb string, o *options) {
	if o.cacheDir != "" {
		usage("--cache-dir: go-cni has no such setting")
	}
	c, err := gocni.New(gocni.WithPluginDir(strings.Split(o.cniPath, ":")),
		gocni.WithInterfacePrefix(strings.TrimRight(o.ifname, "0123456789")),
		gocni.WithConfListFile(o.conflist))
	if err != nil {
		fail("loading "+o.conflist, err)
	}
	labels := map[string]string{"IgnoreUnknown": "1"}
	for _, kv := range o.args {
		labels[kv[0]] = kv[1]
	}
	opts := []gocni.NamespaceOpts{gocni.WithLabels(labels)}
	if len(o.ports) > 0 {
		var pm []gocni.PortMapping
		for _, p := range o.ports {
			pm = append(pm, gocni.PortMapping{HostPort: int32(p.HostPort),
				ContainerPort: int32(p.ContainerPort), Protocol: p.Protocol, HostIP: p.HostIP})
		}
		opts = append(opts, gocni.WithCapabilityPortMap(pm))
	}
	if o.bw != nil {
		opts = append(opts, gocni.WithCapabilityBandWidth(gocni.BandWidth{
			IngressRate: o.bw.IngressRate, IngressBurst: o.bw.IngressBurst,
			EgressRate: o.bw.EgressRate, EgressBurst: o.bw.EgressBurst}))
	}
	ctx := context.Background()
	switch verb {
	case "setup":
		res, err := c.Setup(ctx, o.id, o.netns, opts...)
		if err != nil {
			fail("Setup", err)
		}
		raw := res.Raw()
		if len(raw) != 1 {
			fail("Setup", fmt.Errorf("%d results, want 1", len(raw)))
		}
		printJSON(raw[0])
	case "check":
		if err := c.Check(ctx, o.id, o.netns, opts...); err != nil {
			fail("Check", err)
		}
	case "remove":
		if err := c.Remove(ctx, o.id, o.netns, opts...); err != nil {
			fail("Remove", err)
		}
	default:
		usage("gocni: unknown verb %q", verb)
	}
}

func main() {
	if len(os.Args) < 3 {
		usage("missing library and verb")
	}
	lib, verb := os.Args[1], os.Args[2]
	verbs := map[string]string{"libcni": " add check del ", "gocni": " setup check remove "}
	if _, ok := verbs[lib]; !ok {
		usage("unknown library %q (libcni, gocni)", lib)
	}
	if !strings.Contains(verbs[lib], " "+verb+" ") {
		usage("%s: unknown verb %q (%s)", lib, verb, strings.TrimSpace(verbs[lib]))
	}
	o := parseOptions(os.Args[3:])
	switch lib {
	case "libcni":
		runLibcni(verb, o)
	case "gocni":
		runGocni(verb, o)
	}
}

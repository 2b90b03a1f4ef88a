#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/cni/build-runtime.sh OUTDIR: build OUTDIR/weft-cni-runtime, the
# container-runtime driver of the weft-cni tests (tests/cni/runtime), from
# Debian's Go packages, offline:
#   golang-go, golang-github-appc-cni-dev (libcni),
#   golang-github-containerd-go-cni-dev (go-cni)
# (scripts/install-deps installs them). GOPATH mode: the libraries come from
# /usr/share/gocode; nothing is downloaded. Up to date: nothing is done.
set -eu

[ $# = 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
bin=$out/weft-cni-runtime
src=$here/runtime
gocode=/usr/share/gocode

command -v go >/dev/null || { echo "$0: go missing (apt-get install golang-go)" >&2; exit 1; }
for pkg in github.com/containernetworking/cni/libcni github.com/containerd/go-cni; do
	if [ ! -d "$gocode/src/$pkg" ]; then
		echo "$0: $gocode/src/$pkg missing (scripts/install-deps:" \
			"golang-github-appc-cni-dev, golang-github-containerd-go-cni-dev)" >&2
		exit 1
	fi
done

# up to date: newer than its sources and than the library packages
if [ -x "$bin" ] && [ -z "$(find "$src" "$gocode/src/github.com/containernetworking/cni" \
	"$gocode/src/github.com/containerd/go-cni" "$(command -v go)" \
	-newer "$bin" -print -quit 2>/dev/null)" ]; then
	exit 0
fi

mkdir -p "$out/gocache" "$out/gopath"
cd "$src"
env GO111MODULE=off GOFLAGS= GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local \
	GOPATH="$out/gopath:$gocode" GOCACHE="$out/gocache" CGO_ENABLED=0 \
	go build -trimpath -o "$bin.tmp" .
mv -f "$bin.tmp" "$bin"
echo "built $bin"

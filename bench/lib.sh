# shellcheck shell=bash
#
# What the host sides of the benchmarks share (sourced, not run, from the
# repository's top directory): the kernel the VM boots and the build of what
# it runs. Messages start with the name of the script that sourced this.
#
#   bench_kver             KVER = the newest installed Debian 6.1 kernel with
#                          headers; exits 2 when there is none or its image
#                          (/boot/vmlinuz-KVER) is missing
#   bench_build TARGET...  weft.ko for KVER, then only the named targets of
#                          build/manager (make manager would also build the
#                          unit tests); output on stderr

bench_kver() {
	local me=${0##*/}
	# shellcheck disable=SC2012 # the names are kernel versions
	KVER=$(ls -d /lib/modules/6.1.*-amd64/build 2>/dev/null | sort -V | tail -n1 | cut -d/ -f4)
	[ -n "$KVER" ] || { echo "$me: no 6.1 kernel headers (run scripts/install-deps)" >&2; exit 2; }
	[ -e "/boot/vmlinuz-$KVER" ] || { echo "$me: /boot/vmlinuz-$KVER is not installed" >&2; exit 2; }
}

bench_build() {
	make --no-print-directory module KVER="$KVER" >&2
	cmake -S manager -B build/manager -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_VERSION="$(cat VERSION)" >/dev/null
	cmake --build build/manager --target "$@" -j2 >&2
}

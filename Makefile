# weft: top-level build, test, demo and install targets.
#
#   make                      module (newest installed kernel headers) + manager
#   make module KVER=<rel>    weft.ko for one kernel release
#   make modules              weft.ko for every kernel weft is tested on
#   make manager              libweft, the weft CLI and the unit tests
#   make check                everything the CI runs (installs its packages)
#   make check-debug          kernel suites on the KASAN/lockdep debug kernel
#   make demo                 a VM showing what weft does today
#   make stress               weft-cni's fault test at full size (one VM)
#   make bench                the benchmarks (VMs), tables and JSON
#   make install              weft, weftd, weft-cni, man pages, unit, configs
#   make dkms-install         module sources under /usr/src/weft-$(VERSION)
#   make clean

VERSION := $(shell cat VERSION)
BUILD := $(CURDIR)/build
PREFIX ?= /usr/local
# Where container runtimes look for CNI plugins and network configurations.
CNI_BIN_DIR ?= /opt/cni/bin
CNI_CONF_DIR ?= /etc/cni/net.d
DESTDIR ?=

# Debian's kernels: the newest installed 6.1 and 6.12 header trees.
newest_kver = $(shell ls -d /lib/modules/$(1)/build 2>/dev/null | sort -V | tail -n1 | cut -d/ -f4)
KVER_61 := $(call newest_kver,6.1.*-amd64)
KVER_612 := $(call newest_kver,6.12.*-amd64)
KVERS := $(strip $(KVER_61) $(KVER_612))
KVER ?= $(call newest_kver,*)

KMOD_SRCS := $(wildcard kmod/*.c kmod/*.h) kmod/Kbuild uapi/linux/weft.h VERSION
KMOD_FLAGS ?= KCFLAGS=-Werror

all: module manager

module:
	@test -n "$(KVER)" || { echo "make module: no kernel headers under /lib/modules/*/build (run scripts/install-deps)" >&2; exit 2; }
	$(MAKE) $(BUILD)/kmod/$(KVER)/weft.ko

modules:
	@for k in $(KVERS); do $(MAKE) --no-print-directory $(BUILD)/kmod/$$k/weft.ko || exit 1; done

# Each kernel gets its own copy of the sources (Kbuild writes its objects
# next to them), laid out as DKMS lays them out.
$(BUILD)/kmod/%/weft.ko: $(KMOD_SRCS)
	rm -rf $(BUILD)/kmod/$*
	mkdir -p $(BUILD)/kmod/$*/uapi/linux
	cp kmod/*.c kmod/*.h kmod/Kbuild VERSION $(BUILD)/kmod/$*/
	cp uapi/linux/weft.h $(BUILD)/kmod/$*/uapi/linux/
	$(MAKE) -C /lib/modules/$*/build M=$(BUILD)/kmod/$* $(KMOD_FLAGS) modules

manager:
	cmake -S manager -B $(BUILD)/manager -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_VERSION=$(VERSION) >/dev/null
	cmake --build $(BUILD)/manager -j2

manager-asan:
	cmake -S manager -B $(BUILD)/manager-asan -DCMAKE_BUILD_TYPE=Debug -DWEFT_SANITIZE=ON -DWEFT_VERSION=$(VERSION) >/dev/null
	cmake --build $(BUILD)/manager-asan -j2

selftests:
	$(MAKE) -C tests/selftests O=$(BUILD)/selftests

# The container-runtime driver of the weft-cni tests: Debian's libcni and
# go-cni, built offline with Debian's Go (tests/cni).
cni-runtime:
	tests/cni/build-runtime.sh $(BUILD)/cni-runtime

deps:
	scripts/install-deps

check:
	tests/check

check-debug:
	tests/check --debug-kernel

demo:
	scripts/demo

# Instruction-count benchmark of weft against the kernel's devices (one VM),
# weftd at scale: 5,000 simulated nodes through etcd (another VM), then
# weft-cni's ADD/DEL cost against bridge + host-local (an icount VM).
bench:
	bench/bench.sh
	bench/weftd-scale.sh
	bench/cni-bench.sh

# weft-cni's fault test at full size: 100 parallel ADD/DEL loops of 1,000
# operations each, weftd killed and restarted at random moments.
stress:
	tests/cni-stress

install: manager
	install -D -m 0755 $(BUILD)/manager/weft $(DESTDIR)$(PREFIX)/sbin/weft
	install -D -m 0644 Documentation/man/weft.8 $(DESTDIR)$(PREFIX)/share/man/man8/weft.8
	install -D -m 0755 $(BUILD)/manager/weftd $(DESTDIR)$(PREFIX)/sbin/weftd
	install -D -m 0644 Documentation/man/weftd.8 $(DESTDIR)$(PREFIX)/share/man/man8/weftd.8
	install -D -m 0644 packaging/weftd.service $(DESTDIR)/lib/systemd/system/weftd.service
	test -e $(DESTDIR)/etc/weft/weftd.conf || \
		install -D -m 0644 packaging/weftd.conf $(DESTDIR)/etc/weft/weftd.conf
	install -D -m 0755 $(BUILD)/manager/weft-cni $(DESTDIR)$(CNI_BIN_DIR)/weft-cni
	install -D -m 0644 Documentation/man/weft-cni.8 $(DESTDIR)$(PREFIX)/share/man/man8/weft-cni.8
	test -e $(DESTDIR)$(CNI_CONF_DIR)/10-weft.conflist || \
		install -D -m 0644 packaging/10-weft.conflist $(DESTDIR)$(CNI_CONF_DIR)/10-weft.conflist

# Sources for DKMS: /usr/src/weft-VERSION, then "dkms install weft/VERSION".
DKMS_SRC := $(DESTDIR)/usr/src/weft-$(VERSION)
dkms-install:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)/uapi/linux
	cp kmod/*.c kmod/*.h kmod/Kbuild VERSION $(DKMS_SRC)/
	cp uapi/linux/weft.h $(DKMS_SRC)/uapi/linux/
	sed 's/@VERSION@/$(VERSION)/' dkms/dkms.conf > $(DKMS_SRC)/dkms.conf
	@echo "weft $(VERSION) sources in $(DKMS_SRC); now: dkms install weft/$(VERSION)"

dkms-uninstall:
	-dkms remove weft/$(VERSION) --all
	rm -rf $(DKMS_SRC)

clean:
	rm -rf $(BUILD)

.PHONY: all module modules manager manager-asan selftests cni-runtime deps check check-debug \
	demo bench stress \
	install dkms-install dkms-uninstall clean

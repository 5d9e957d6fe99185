# Osiris toolchain. `make demo` runs the demo, `make test` installs what it needs and runs the tests.
# Every recipe runs in bash with -euo pipefail: a failing step fails the target.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
SWIFT ?= swift
TOOLS = oml-lint oml-compile osiris-exec osiris-discover osiris-chat
RELEASE_BIN = .build/release

.PHONY: all build setup test check tsan install uninstall clean man-check bench bench-quick faults demo demo-servers

all: build

setup:
	@scripts/setup

# Every tool in release mode, the Swift runtime linked statically so they run on a machine
# without a Swift toolchain (LinkageTests checks it with ldd).
build: setup
	scripts/build-release

# The tests run the debug build; LinkageTests also checks the release tools of `make build`. They run
# against throwaway PostgreSQL and MariaDB servers that scripts/with-servers installs, starts on free
# loopback ports and removes afterwards, whatever the tests do.
test: setup build man-check
	$(SWIFT) build
	OSIRIS_RELEASE_BIN=$(CURDIR)/$(RELEASE_BIN) scripts/with-servers $(SWIFT) test

# What CI would want on top of the tests: a fresh build of this package's code with warnings as errors.
check: setup
	$(SWIFT) build --scratch-path .build-check -Xswiftc -warnings-as-errors
	$(MAKE) test

# The test suite under ThreadSanitizer: data races in the runner, the tees and the drivers are bugs
# that plain tests only catch by luck. Slower (about 3x); its own build folder.
tsan: setup
	$(SWIFT) build --scratch-path .build-tsan --sanitize=thread
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" scripts/with-servers $(SWIFT) test --scratch-path .build-tsan --sanitize=thread

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	for tool in $(TOOLS); do install -m 0755 $(RELEASE_BIN)/$$tool $(DESTDIR)$(BINDIR)/$$tool; done
	for section in 1 5 7; do \
	    for page in man/*.$$section; do \
	        [ "$$page" = man/osiris-fuzz.1 ] || install -m 0644 "$$page" $(DESTDIR)$(MANDIR)/man$$section/; \
	    done; \
	done

uninstall:
	for tool in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$tool; done
	for page in man/*.[157]; do rm -f "$(DESTDIR)$(MANDIR)/man$${page##*.}/$${page##*/}"; done

# Every long flag a tool's --help lists must appear in its man page.
man-check: setup
	$(SWIFT) build >/dev/null
	scripts/man-check $(TOOLS)

# The README's first command, the whole loop on the demo database: discover, chat (the builtin planner
# unless a model is configured), lint, compile and run.
demo: setup build
	scripts/demo

# The second demo: the shop moved PostgreSQL -> MariaDB (upsert on id) -> CSV between throwaway servers
# that scripts/with-servers starts and removes.
demo-servers: setup build
	scripts/demo-servers

# Each case against its reference in the same run; the database cases share one pair of throwaway servers.
bench: build
	bench/startup
	bench/lint
	bench/compile
	bench/exec
	bench/sandbox/run
	scripts/with-servers bash -c 'bench/postgres/run && bench/mysql/run && bench/discover/run'

# Under a minute: osiris-exec's 1M-row cases of bench/exec (group, full, filter, copy) against the
# sqlite3 shell and cp, 2 rounds after a warm-up; fails when a target is missed, like `make bench`.
bench-quick: build
	bench/exec --quick

# Reliability (issue 13), outside `make test`: fuzzing, kill loops, server faults, disk full, soak against the
# release tools and throwaway servers; figures in bench/RELIABILITY.md. Full scale takes hours; try it with
# e.g. `make faults ROWS=100000 KILLS=5 FUZZ_INPUTS=100000 SOAK_RUNS=100 SOAK_PARALLEL=20` (bench/faults/run).
faults: setup build
	bench/faults/run

clean:
	rm -rf .build .build-check .build-tsan examples/build examples/demo/build examples/demo/out examples/demo/runs examples/demo/.osiris examples/demo/shop.db

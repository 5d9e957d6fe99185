# Osiris toolchain. `make test` installs what it needs; `make build` builds release binaries.
PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
SWIFT ?= swift
TOOLS = oml-lint oml-compile osiris-exec
RELEASE_BIN = .build/release

.PHONY: all build setup test install uninstall clean man-check bench demo

all: build

setup:
	@scripts/setup

build: setup
	$(SWIFT) build -c release $(addprefix --product ,$(TOOLS))

test: setup man-check
	$(SWIFT) build
	$(SWIFT) test

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	for tool in $(TOOLS); do install -m 0755 $(RELEASE_BIN)/$$tool $(DESTDIR)$(BINDIR)/$$tool; done
	for page in man/*.1; do install -m 0644 $$page $(DESTDIR)$(MANDIR)/man1/; done
	for page in man/*.5; do [ -e "$$page" ] && install -m 0644 $$page $(DESTDIR)$(MANDIR)/man5/ || true; done
	for page in man/*.7; do [ -e "$$page" ] && install -m 0644 $$page $(DESTDIR)$(MANDIR)/man7/ || true; done

uninstall:
	for tool in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$tool; done
	for page in man/*.[157]; do rm -f $(DESTDIR)$(MANDIR)/man$${page##*.}/$${page##*/}; done

# Every long flag a tool's --help lists must appear in its man page.
man-check: setup
	@$(SWIFT) build $(addprefix --product ,$(TOOLS)) >/dev/null
	@scripts/man-check $(TOOLS)

# The README's first command: build the demo database, lint, compile and run the demo pipeline.
demo: setup
	scripts/demo

bench: build
	bench/lint
	bench/compile
	bench/exec

clean:
	rm -rf .build examples/build examples/demo/build examples/demo/out examples/demo/runs examples/demo/shop.db

# leadflow — PGXS build.  `make test` and `make demo` do all set-up on a
# fresh Debian bookworm machine (as root): see README.md.

EXTENSION = leadflow
EXTVERSION = $(shell grep default_version $(EXTENSION).control | sed -e "s/default_version[[:space:]]*=[[:space:]]*'\([^']*\)'/\1/")

MODULE_big = leadflow
# by layer, bottom up (README "Development"; test/layers.sh checks includes)
OBJS = \
	src/text.o src/email.o src/names.o src/phone.o src/numbers.o src/predicate.o src/predicate_field.o src/predicate_eval.o src/business_hours.o src/decay.o \
	src/leadflow.o src/spi.o src/request.o src/lead.o src/notify.o \
	src/rulecache.o src/rulecache_routing.o src/journey.o \
	src/validate.o src/dedup.o src/enrich.o src/score.o src/predict.o src/route.o \
	src/workflow.o src/nurture.o src/account.o \
	src/pipeline.o \
	src/reassign.o src/maintenance.o

# The install script of default_version is built from the topic parts in
# sql/install/ (in file name order) and the shipped free-mail list in data/.
# Released versions are frozen: sql/leadflow--0.1.0.sql is committed and
# never edited, every later schema change ships in an upgrade script
# sql/leadflow--A--B.sql as well as in the parts (README "Development").
INSTALL_PARTS = $(sort $(wildcard sql/install/*.sql))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = sql/$(EXTENSION)--0.1.0.sql $(wildcard sql/$(EXTENSION)--*--*.sql)

# pg_regress inputs in sql/, outputs in expected/ (contrib convention)
REGRESS = \
	00_install \
	10_normalize \
	15_predicate \
	20_dedup \
	30_score \
	40_route \
	50_journey \
	60_pipeline \
	62_data_quality \
	65_lifecycle \
	70_reports \
	75_maintenance \
	80_errors \
	85_hostile \
	90_business_hours \
	91_lifecycle_automation \
	92_account_scoring \
	93_predictive_scoring \
	99_upgrade
REGRESS_OPTS = --load-extension=$(EXTENSION) --encoding=UTF8

# isolation specs live in test/specs, their outputs in test/expected
ISOLATION = \
	journey_append \
	dedup_same_email \
	rule_change \
	round_robin \
	notify \
	prediction_counts
ISOLATION_OPTS = --inputdir=test --load-extension=$(EXTENSION) --encoding=UTF8

PG_CPPFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
SHLIB_LINK = -lpsl -lidn2 -lphonenumber -lstdc++

# bitcode for JIT inlining is not worth a clang++ dependency here
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
endif

# every object depends on the shared headers (PGXS tracks no dependencies)
$(OBJS): $(wildcard src/*.h)

# ---------------------------------------------------------------------------
# Own targets

# The server major the build targets: pg_config's, else the newest server
# installed, else the one Debian's `postgresql` package stands for.  Package
# names follow it, so `make deps` works on bookworm (15), trixie (17) and
# forky (18) alike; `make test-matrix` passes it into its chroots.
ifndef PG_MAJOR
PG_MAJOR := $(or \
	$(shell $(PG_CONFIG) --version 2>/dev/null | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p'), \
	$(lastword $(sort $(notdir $(wildcard /usr/lib/postgresql/[0-9]*)))), \
	$(shell apt-cache show postgresql 2>/dev/null | sed -n 's/^Depends: postgresql-\([0-9]*\).*/\1/p' | head -n 1))
endif

# Debian packages the build, the tests and the demo need (contrib, with
# pg_trgm, unaccent and amcheck, is part of postgresql-NN).
DEB_PACKAGES = \
	make gcc g++ \
	postgresql-$(PG_MAJOR) postgresql-client-$(PG_MAJOR) \
	postgresql-server-dev-$(PG_MAJOR) postgresql-$(PG_MAJOR)-pgtap pgtap \
	libpsl-dev libidn2-dev libphonenumber-dev \
	sqlsmith libipc-run-perl

.PHONY: deps deps-list test test-matrix demo

# Install only what is missing; `apt-get update` runs once, and only then.
deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing < /dev/null; \
	else \
		echo "all build and test packages present"; \
	fi

# the package list alone (test/matrix.sh keys its cached chroots on it)
deps-list:
	@echo $(DEB_PACKAGES)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS) data/free_email_domains.txt Makefile
	{ cat $(INSTALL_PARTS); \
	  echo; echo '-- free-mail providers, from data/free_email_domains.txt'; \
	  echo 'INSERT INTO @extschema@.free_email_domains (domain, shipped)'; \
	  echo 'SELECT pg_catalog.regexp_split_to_table(pg_catalog.btrim($$list$$'; \
	  cat data/free_email_domains.txt; \
	  echo '$$list$$, pg_catalog.chr(10)), pg_catalog.chr(10)), true;'; } > $@

# Each step is a new make so that PGXS is read after `deps` installed it.
# The tests load the module from a private install of this tree (see
# private_run below), so that two checkouts testing at once on one machine,
# or a `make install` meanwhile, never swap the module under a run.
test: deps
	$(MAKE) all
	$(call private_run,$(TEST_CLUSTER),test/run.sh)

# PostgreSQL 15 (this host), 17 and 18 (Debian chroots): test/matrix.sh
test-matrix:
	bash test/matrix.sh

demo: deps
	$(MAKE) all
	$(MAKE) install
	pg_virtualenv -t -i '--encoding=UTF8 --locale=C.UTF-8' sh data/demo.sh

# private_run CLUSTER SCRIPT: installs the module into a directory of its own
# and runs SCRIPT in a throwaway cluster that loads it from there.  Below 18
# that is Debian's extension_destdir; 18 has extension_control_path instead
# (its elements are share directories: "/extension" is appended); the module
# itself is found through dynamic_library_path.
ifeq ($(shell test '$(PG_MAJOR)' -ge 18 2>/dev/null && echo new),new)
private_module_opts = -o "extension_control_path=$$d$(datadir):\$$system"
else
private_module_opts = -o "extension_destdir=$$d"
endif
private_run = d=$$(mktemp -d /tmp/leadflow-install.XXXXXX) && chmod 755 $$d && \
	$(MAKE) install DESTDIR=$$d >/dev/null && \
	{ $(1) $(private_module_opts) -o "dynamic_library_path=$$d$(pkglibdir):\$$libdir" \
	  sh $(2); rc=$$?; rm -rf $$d; exit $$rc; }
TEST_CLUSTER = pg_virtualenv -t -i '--encoding=UTF8 --locale=C.UTF-8' -o 'max_connections=40'

# Performance figures of spec section 11 (bench/README.md).  The full run
# takes many minutes and is not part of `make test`; bench-smoke is the quick
# run (small sizes, about 20 s, no targets asserted).  Both run on a private
# install (above), so that another `make install` during a long run cannot
# swap the module under it.
BENCH_CLUSTER = pg_virtualenv -t -i '--encoding=UTF8 --locale=C.UTF-8' \
	-o 'shared_buffers=1GB' -o 'max_wal_size=8GB' -o 'checkpoint_timeout=30min'

.PHONY: bench bench-smoke

bench: deps
	$(MAKE) all
	$(MAKE) install
	$(call private_run,$(BENCH_CLUSTER),bench/run.sh full)

bench-smoke: deps
	$(MAKE) all
	$(MAKE) install
	$(call private_run,$(BENCH_CLUSTER),bench/run.sh quick)

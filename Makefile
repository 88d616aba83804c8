# introw_roles -- PGXS build
EXTENSION  = introw_roles
MODULE_big = introw_roles
OBJS       = src/introw.o src/principal.o src/token.o src/parallel.o src/privileged.o src/visibility_epoch.o \
             src/visibility_cache.o src/contact_tabs.o src/visibility.o src/policy_support.o src/implied_quals.o \
             src/unread_initplans.o src/principal_constants.o src/scan_support.o src/ordered_scan.o \
             src/item_merge.o src/default_role.o src/restore.o \
             src/http_client.o src/crm_worker.o src/crm_sync.o
DATA       = sql/introw_roles--1.0.sql sql/introw_roles--1.0--1.1.sql sql/introw_roles--1.1--1.2.sql \
             sql/introw_roles--1.2--1.3.sql sql/introw_roles--1.3--1.4.sql \
             sql/introw_roles--1.4--1.5.sql sql/introw_roles--1.5--1.6.sql
SHLIB_LINK = -lcurl
PG_CFLAGS  = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror=implicit-function-declaration

REGRESS      = setup principal tokens visibility default_role crm crm_sync plans memory restore upgrade reinstall
REGRESS_OPTS = --inputdir=. --outputdir=results_regress
TAP_TESTS    = 1
PROVE_TESTS  = test/tap/*.pl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PostgreSQL's headers are not -Wextra clean; treat them as system headers
# so that the warnings shown are this project's own.
override CPPFLAGS := -isystem $(includedir_server) $(CPPFLAGS)

# test/run asks for the regression list
print-regress:
	@echo $(REGRESS)
.PHONY: print-regress

# every C file includes the shared header; the scans theirs
$(OBJS): src/introw.h
src/introw.o src/scan_support.o src/ordered_scan.o src/item_merge.o: src/scans.h

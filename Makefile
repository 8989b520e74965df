# stockext: PGXS build.
#   make                 build the extension
#   make install         install into the PostgreSQL that pg_config names
#   make test            install dependencies, build, run every suite on a throwaway cluster
#   make test SANITIZE=1 the same with the extension built under ASan and UBSan
#   make demo            a persistent local cluster with stockext running (see README)
#   make demo-stop       stop it
#   make demo-citus      stockext distributed over a local Citus cluster (see README)
#   make demo-citus-stop stop it

EXTENSION = stockext
# The version is written once, in stockext.control.
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)
MODULE_big = stockext
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
# The install script of this version is built from install/parts/ (one part
# per concern, concatenated in name order); released versions' scripts and
# the upgrade scripts between them are shipped as they are.
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(wildcard install/$(EXTENSION)--*.sql)
PGFILEDESC = "stockext - market data inside PostgreSQL"

# pg_regress: one file per feature in sql/, expected output in expected/.
REGRESS ?= $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=stockext

# PostgreSQL's headers are included as system headers, so that -Wextra
# speaks of this code only.  Warnings are errors unless WERROR is empty
# (make WERROR=, for a compiler that warns where gcc does not).
WERROR ?= 1
PG_CPPFLAGS = -Isrc -isystem $(includedir_server) -DSTOCKEXT_VERSION='"$(EXTVERSION)"'
PG_CFLAGS = -Wall -Wextra $(if $(WERROR),-Werror)
SHLIB_LINK = -lcurl -ljson-c -lm

# SANITIZE=1: AddressSanitizer and UndefinedBehaviorSanitizer in the module
# (the uninstrumented server loads both runtimes through LD_PRELOAD, see
# se_sanitizer_env in test/lib.sh).
ifeq ($(SANITIZE),1)
PG_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
SHLIB_LINK += -fsanitize=address,undefined
endif

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(DATA_built): $(sort $(wildcard install/parts/*.sql))
	cat $^ >$@

# PGXS tracks no header: every object is rebuilt when one of ours changes
# (an inline function moved to a header leaves stale objects otherwise).
$(OBJS): $(wildcard src/*.h)

# The User-Agent carries the version.
src/http.o: $(EXTENSION).control

.PHONY: test demo demo-stop demo-citus demo-citus-stop
test:
	SANITIZE=$(SANITIZE) bash test/run.sh

demo:
	bash demo/demo.sh start

demo-stop:
	bash demo/demo.sh stop

demo-citus:
	bash demo/citus.sh start

demo-citus-stop:
	bash demo/citus.sh stop

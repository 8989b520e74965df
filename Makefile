# stockext: PGXS build.
#   make                 build the extension
#   make install         install into the PostgreSQL that pg_config names
#   make test            install dependencies, build, run every suite on a throwaway cluster
#   make test SANITIZE=1 the same with the extension built under ASan and UBSan
#   make demo            a persistent local cluster with stockext running (see README)
#   make demo-stop       stop it

EXTENSION = stockext
MODULE_big = stockext
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA = $(wildcard src/stockext--*.sql)
PGFILEDESC = "stockext - market data inside PostgreSQL"

# pg_regress: one file per feature in sql/, expected output in expected/.
REGRESS ?= $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=stockext

PG_CPPFLAGS = -Isrc
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-sign-compare -Wno-cast-function-type $(if $(WERROR),-Werror)
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

.PHONY: test demo demo-stop
test:
	SANITIZE=$(SANITIZE) bash test/run.sh

demo:
	bash demo/demo.sh start

demo-stop:
	bash demo/demo.sh stop

# SPDX-License-Identifier: GPL-2.0
# Included last by every test directory's Makefile, after it has set
# TEST_GEN_PROGS (and, for tests that run guest code, SUITE_KVM := 1).
#
# It builds against the kernel tree in build/ (not the host's headers):
#   KSRC  kernel source: tools/testing/selftests/{lib.mk,kselftest*,kvm}
#   KOBJ  kernel object dir: usr/include from "make headers_install"
# and reuses, without copying: the kernel's lib.mk (targets all, run_tests,
# install, emit_tests, clean), its kselftest runner, and the KVM selftests
# library, built by the kernel's own kvm Makefile (see libkvm.mk).

SUITE_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
REPO_TOP := $(abspath $(SUITE_DIR)/..)
KSRC ?= $(REPO_TOP)/build/linux-patched
KOBJ ?= $(REPO_TOP)/build/obj-patched
SELFTESTS_BUILD ?= $(REPO_TOP)/build/selftests
KSFT := $(KSRC)/tools/testing/selftests
OUTPUT ?= $(SELFTESTS_BUILD)/$(notdir $(CURDIR))

ifeq ($(wildcard $(KSFT)/lib.mk),)
$(error no kernel tree at $(KSRC): run 'make kernel-headers' in $(REPO_TOP) first)
endif
ifeq ($(wildcard $(KOBJ)/usr/include/linux/kvm.h),)
$(error no installed kernel headers in $(KOBJ)/usr/include: run 'make kernel-headers' in $(REPO_TOP) first)
endif
KHDR_INCLUDES := -isystem $(KOBJ)/usr/include

OVERRIDE_TARGETS := 1
include $(KSFT)/lib.mk
$(shell mkdir -p $(OUTPUT))

# lib.mk's runner reads <BASE_DIR>/<collection>/settings: point BASE_DIR at
# this suite, whose kselftest/ is a link to the kernel tree's runner.
define RUN_TESTS
	BASE_DIR="$(SUITE_DIR)";			\
	. $(SUITE_DIR)/kselftest/runner.sh;		\
	if [ "X$(summary)" != "X" ]; then		\
		per_test_logging=1;			\
	fi;						\
	run_many $(1)
endef
run_tests: $(SUITE_DIR)/kselftest
$(SUITE_DIR)/kselftest: $(KSFT)/kselftest/runner.sh
	$(Q)ln -sfn $(KSFT)/kselftest $@

# The flags of tools/testing/selftests/kvm/Makefile, with absolute include
# paths, so that our code and the KVM library agree on every header.
KVM_DIR := $(KSFT)/kvm
CFLAGS += -Wall -Wstrict-prototypes -Wuninitialized -O2 -g -std=gnu99 \
	-MD -MP -DCONFIG_64BIT -U_FORTIFY_SOURCE \
	-fno-builtin-memcmp -fno-builtin-memcpy \
	-fno-builtin-memset -fno-builtin-strnlen \
	-fno-stack-protector -fno-PIE -fno-strict-aliasing -march=x86-64-v2 \
	-I$(SUITE_DIR)/lib/include -I$(KSFT) \
	-I$(KVM_DIR)/include -I$(KVM_DIR)/include/x86_64 \
	-I$(KSRC)/tools/include -I$(KSRC)/tools/arch/x86/include \
	$(KHDR_INCLUDES) $(EXTRA_CFLAGS)
LDFLAGS += -pthread -no-pie
LDLIBS += -ldl -lm

# The KVM selftests library, as an archive (see libkvm.mk).
LIBKVM_DIR := $(SELFTESTS_BUILD)/libkvm
LIBKVM_A := $(LIBKVM_DIR)/libkvm.a
LIBKVM_STRING := $(LIBKVM_DIR)/lib/string_override.o
KVM_MAKE = $(MAKE) -s --no-print-directory -C $(KVM_DIR) -f Makefile \
	-f $(SUITE_DIR)/lib/libkvm.mk OUTPUT=$(LIBKVM_DIR) \
	KHDR_INCLUDES="$(KHDR_INCLUDES)" EXTRA_CFLAGS="$(EXTRA_CFLAGS)"
$(LIBKVM_A): FORCE
	$(Q)mkdir -p $(LIBKVM_DIR) && $(KVM_MAKE) libkvm
$(LIBKVM_STRING): $(LIBKVM_A)

# This suite's own helpers (lib/*.c), as an archive.
SUITE_LIB_DIR := $(SELFTESTS_BUILD)/lib
SUITE_LIB := $(SUITE_LIB_DIR)/libsuite.a
SUITE_LIB_OBJS := $(patsubst $(SUITE_DIR)/lib/%.c,$(SUITE_LIB_DIR)/%.o,$(wildcard $(SUITE_DIR)/lib/*.c))
$(SUITE_LIB_DIR)/%.o: $(SUITE_DIR)/lib/%.c
	$(call msg,CC,,$@)
	$(Q)mkdir -p $(SUITE_LIB_DIR) && $(CC) $(CFLAGS) -c $< -o $@
$(SUITE_LIB): $(SUITE_LIB_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Guest code calls the library's string functions, never glibc's.
LINK_OBJS := $(if $(SUITE_KVM),$(LIBKVM_STRING)) $(SUITE_LIB) $(LIBKVM_A)

$(OUTPUT)/%: %.c $(LINK_OBJS)
	$(call msg,CC,,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LINK_OBJS) $(LDLIBS) -o $@

-include $(wildcard $(OUTPUT)/*.d $(SUITE_LIB_DIR)/*.d)

EXTRA_CLEAN += $(patsubst %,%.d,$(TEST_GEN_PROGS))
FORCE:
.PHONY: FORCE

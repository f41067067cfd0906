# SPDX-License-Identifier: GPL-2.0
# Added with -f after tools/testing/selftests/kvm/Makefile of the kernel tree,
# so the KVM selftests library is built by the kernel's own rules and flags:
#
#   make -C $KSRC/tools/testing/selftests/kvm -f Makefile -f <this file> \
#        OUTPUT=<dir> libkvm
#
# It adds one archive, $(OUTPUT)/libkvm.a.  Tests link string_override.o
# explicitly (guest code must not call glibc's string functions) and take the
# rest from the archive, so a test that uses no KVM does not pull in
# kvm_util.o and its constructor, which requires /sys/module/kvm.
# Made anew each time: lib/memstress.o and lib/x86_64/memstress.o share a
# member name, and "ar r" would replace one with the other.
$(OUTPUT)/libkvm.a: $(filter-out $(LIBKVM_STRING_OBJ),$(LIBKVM_OBJS))
	rm -f $@ && $(AR) rcs $@ $^

libkvm: $(OUTPUT)/libkvm.a $(LIBKVM_STRING_OBJ)

# The kernel's own KVM tests that our suite runs (dirty_log_test, ...).
kvm-tests: $(filter $(addprefix %/,$(KVM_TESTS)),$(TEST_GEN_PROGS))

.PHONY: libkvm kvm-tests

/*
 * Test equipment: the one macro Xen's tools/misc/xen-access.c takes from Xen's in-tree
 * tools/include/xen-tools/libs.h, which libxen-dev does not install.
 */
#ifndef VMIPOLICY_XEN_TOOLS_LIBS_H
#define VMIPOLICY_XEN_TOOLS_LIBS_H
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof(*(a)))
#endif
#endif

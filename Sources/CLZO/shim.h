// liblzo2's LZO1X (Debian liblzo2-dev), for distcc protocol 2 bodies. lzo_init() is a function-like
// macro (it passes the caller's type sizes for the library to check), so it gets an inline twin.
#ifndef SSHCC_CLZO_SHIM_H
#define SSHCC_CLZO_SHIM_H
#include <lzo/lzo1x.h>

static inline int sshcc_lzo_init(void) { return lzo_init(); }
static inline unsigned long sshcc_lzo1x_1_work_size(void) { return LZO1X_1_MEM_COMPRESS; }
#endif

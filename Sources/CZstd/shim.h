// libzstd's stable API (Debian libzstd-dev), for distcc protocol 4 bodies.
#ifndef SSHCC_CZSTD_SHIM_H
#define SSHCC_CZSTD_SHIM_H
#include <zstd.h>
#endif

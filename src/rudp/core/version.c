/* The library's version string, set by the build from the project version. */
#include "rudp/rudp.h"

#ifndef RUDP_LIB_VERSION
#error "the build defines RUDP_LIB_VERSION"
#endif

const char *rudp_version(void)
{
    return RUDP_LIB_VERSION;
}

/* RUDP_API marks the library's public functions: the shared library is built with
 * hidden visibility, so only these are exported (and nothing internal leaks out). */
#ifndef RUDP_EXPORT_H
#define RUDP_EXPORT_H

#if defined(__GNUC__) && __GNUC__ >= 4
#define RUDP_API __attribute__((visibility("default")))
#else
#define RUDP_API
#endif

#endif

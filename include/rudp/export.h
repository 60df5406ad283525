/* RUDP_API marks the library's public functions: the shared library is built with
 * -fvisibility=hidden, so only these are exported and nothing internal leaks out (the
 * install test checks that every exported symbol is an RUDP_API declaration). Programs
 * using librudp never need this header directly; every public header includes it. With
 * compilers other than GCC and Clang it expands to nothing. */
#ifndef RUDP_EXPORT_H
#define RUDP_EXPORT_H

#if defined(__GNUC__) && __GNUC__ >= 4
#define RUDP_API __attribute__((visibility("default")))
#else
#define RUDP_API
#endif

#endif

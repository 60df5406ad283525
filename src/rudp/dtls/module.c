/* module.c: the one symbol rudp-dtls.so exports, the table of its DTLS functions that
 * librudp's loader (load.c) calls through. Built into the module only. */
#include "module.h"

RUDP_API const rudp_dtls_module_t rudp_dtls_module_v1 = {
    .abi = RUDP_DTLS_MODULE_ABI,
    .version = RUDP_LIB_VERSION,
    .new_ = rudp_dtls_new,
    .free_ = rudp_dtls_free,
    .connect = rudp_dtls_connect,
    .input = rudp_dtls_input,
    .send = rudp_dtls_send,
    .close = rudp_dtls_close,
    .release = rudp_dtls_release,
    .established = rudp_dtls_established,
    .next_timeout = rudp_dtls_next_timeout,
    .timers = rudp_dtls_timers,
    .stats = rudp_dtls_stats,
    .error = rudp_dtls_error,
    .timed_out = rudp_dtls_timed_out,
    .make_selfsigned = rudp_dtls_make_selfsigned,
    .fingerprint_file = rudp_dtls_fingerprint_file,
};

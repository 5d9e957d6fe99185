#ifndef CCrypto_SHIM_H
#define CCrypto_SHIM_H
/* SHA-256 from the system's libcrypto (OpenSSL 3), looked up with dlopen at the first digest instead of
 * linked: a linked libcrypto costs every process about 1 ms of relocations at start-up (bench/startup),
 * and oml-lint never hashes. osiris-exec, osiris-discover and osiris-chat have it loaded already (libpq,
 * libmariadb and libcurl link it), so there the look-up finds the copy in memory. Only the header is used
 * at build time (libssl-dev), so no tool records libcrypto as a needed library. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <dlfcn.h>
#include <stddef.h>
#include <openssl/opensslv.h>
#include <openssl/sha.h>

#define OSIRIS_CRYPTO_STRING_(x) #x
#define OSIRIS_CRYPTO_STRING(x) OSIRIS_CRYPTO_STRING_(x)

typedef int (*osiris_sha256_initialize_function)(SHA256_CTX *);
typedef int (*osiris_sha256_update_function)(SHA256_CTX *, const void *, size_t);
typedef int (*osiris_sha256_finish_function)(unsigned char *, SHA256_CTX *);

/* libcrypto's SHA-256 entry points. They are deprecated in OpenSSL 3 in favour of EVP, but stay
 * exported and skip EVP's provider set-up (which reads openssl.cnf). */
typedef struct {
    osiris_sha256_initialize_function initialize;
    osiris_sha256_update_function update;
    osiris_sha256_finish_function finish;
} osiris_sha256_functions;

/* The soname of the libcrypto these headers describe, such as libcrypto.so.3. */
static inline const char *osiris_libcrypto_soname(void) {
    return "libcrypto.so." OSIRIS_CRYPTO_STRING(OPENSSL_SHLIB_VERSION);
}

/* Fills `functions` from the system's libcrypto; returns 0 (and leaves dlerror set) when it cannot. */
static inline int osiris_sha256_load(osiris_sha256_functions *functions) {
    void *library = dlopen(osiris_libcrypto_soname(), RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) return 0;
    functions->initialize = (osiris_sha256_initialize_function)dlsym(library, "SHA256_Init");
    functions->update = (osiris_sha256_update_function)dlsym(library, "SHA256_Update");
    functions->finish = (osiris_sha256_finish_function)dlsym(library, "SHA256_Final");
    return functions->initialize != NULL && functions->update != NULL && functions->finish != NULL;
}
#endif

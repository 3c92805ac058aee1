/* SHA-256 (FIPS 180-4), to check weights.bin against manifest.json at load. */
#ifndef LC_SHA256_H
#define LC_SHA256_H
#include <stddef.h>
#include <stdint.h>
/* hex: 64 lowercase hex digits and a NUL */
void lc_sha256_hex(const uint8_t *data, size_t n, char hex[65]);
#endif

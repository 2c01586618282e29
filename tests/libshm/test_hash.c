/* SPDX-License-Identifier: MIT */
/*
 * tests/libshm/test_hash.c - libshm/hash.c: SipHash-1-3 against published
 * outputs. Key zero: CPython's bytes hash with PYTHONHASHSEED=0 (which is
 * SipHash-1-3 with a zero key); key 00 01 .. 0f: the SipHash-1-3 test
 * vectors shipped with Rust's standard library. Inputs are bytes 0, 1, ...
 * of the given length.
 */
#include <string.h>

#include "shm.h"
#include "t_util.h"

static uint8_t g_msg[1024 + 8];

static uint64_t hash_seq(const uint64_t key[2], size_t len)
{
    return shmet__siphash(key, g_msg, len);
}

static void test_siphash_zero_key(void)
{
    static const struct {
        size_t len;
        uint64_t want;
    } v[] = {
        {1, 0x68a914128e01e473ull},  {2, 0x010bac45c41e3669ull},  {3, 0x4d4c9a4a8ef6e0adull},
        {7, 0x2f098ab0c751325aull},  {8, 0xead411e67ebe2eeaull},  {9, 0x75927f9d95124362ull},
        {15, 0xf30eb725bb91c9eaull}, {16, 0x8972188433a5c5b7ull}, {17, 0x4883c49a2c009c1dull},
        {31, 0x169739443111d49bull}, {32, 0x31ef8061c910629bull}, {33, 0x7fb71d24dfa4c9f6ull},
        {64, 0x75e05fd5bbc870c6ull},
    };
    const uint64_t key[2] = {0, 0};

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        CU_ASSERT_EQUAL(hash_seq(key, v[i].len), v[i].want);
}

static void test_siphash_keyed(void)
{
    static const struct {
        size_t len;
        uint64_t want;
    } v[] = {
        {0, 0xabac0158050fc4dcull},  {1, 0xc9f49bf37d57ca93ull},  {7, 0xd3927d989bb11140ull},
        {8, 0x369095118d299a8eull},  {15, 0xd320d86d2a519956ull}, {16, 0xcc4fdd1a7d908b66ull},
        {63, 0x9d199062b7bbb3a8ull},
    };
    const uint64_t key[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        CU_ASSERT_EQUAL(hash_seq(key, v[i].len), v[i].want);
}

/* Longer, label-like input; the same bytes at an odd address. */
static void test_siphash_strings_and_alignment(void)
{
    static const char label[] = "http_requests_total\0GET\0"
                                "200";
    uint8_t big[1000], shifted[1001];
    const uint64_t key[2] = {0, 0};

    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    CU_ASSERT_EQUAL(shmet__siphash(key, label, sizeof(label) - 1), 0xd53374c676e3fbdbull);
    CU_ASSERT_EQUAL(shmet__siphash(key, big, sizeof(big)), 0x21c2c0d60dd0acb6ull);
    memcpy(shifted + 1, big, sizeof(big));
    CU_ASSERT_EQUAL(shmet__siphash(key, shifted + 1, sizeof(big)), 0x21c2c0d60dd0acb6ull);
}

/* Another key gives another hash (what makes the tables unfloodable). */
static void test_siphash_key_matters(void)
{
    const uint64_t k1[2] = {1, 2}, k2[2] = {1, 3}, k3[2] = {2, 2};
    size_t same = 0;

    for (size_t len = 0; len <= 64; len++) {
        uint64_t a = hash_seq(k1, len);
        same += a == hash_seq(k2, len) || a == hash_seq(k3, len);
        CU_ASSERT_EQUAL(a, hash_seq(k1, len)); /* deterministic */
    }
    CU_ASSERT_EQUAL(same, 0);
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_siphash_zero_key", test_siphash_zero_key},
        {"test_siphash_keyed", test_siphash_keyed},
        {"test_siphash_strings_and_alignment", test_siphash_strings_and_alignment},
        {"test_siphash_key_matters", test_siphash_key_matters},
    };

    for (size_t i = 0; i < sizeof(g_msg); i++)
        g_msg[i] = (uint8_t)i;
    return T_RUN("hash", tests);
}

/* SPDX-License-Identifier: MIT */
/*
 * tests/aggregator/http/test_negotiate.c - aggregator/http/negotiate.c: the Accept
 * headers real scrapers send, q-value orderings, q=0, wildcards and their
 * specificity, version and charset parameters, malformed elements, and
 * Accept-Encoding.
 */
#include <errno.h>
#include <string.h>

#include "http/negotiate.h"
#include "t_util.h"

/* The format chosen for one Accept field line. */
static enum expo_format fmt1(const char *accept)
{
    struct http_str v = {accept, strlen(accept)};

    return negotiate_format(&v, 1);
}

static bool gz1(const char *ae)
{
    struct http_str v = {ae, strlen(ae)};

    return negotiate_gzip(&v, 1);
}

#define OM EXPO_OPENMETRICS
#define TEXT EXPO_TEXT

static void test_negotiate_format_prometheus_headers(void)
{
    /* Prometheus 2.x, as sent on every scrape. */
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;version=1.0.0,application/"
                         "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
                         "*/*;q=0.1"),
                    OM);
    /* Prometheus 3.x, with escaping parameters. */
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
                         "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;"
                         "version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;"
                         "q=0.3,*/*;q=0.2"),
                    OM);
    /* Prometheus with scrape_protocols: [PrometheusText0.0.4] first. */
    CU_ASSERT_EQUAL(fmt1("text/plain;version=0.0.4;q=0.5,application/openmetrics-text;"
                         "version=1.0.0;q=0.4,*/*;q=0.1"),
                    TEXT);
}

static void test_negotiate_format_absent_and_plain(void)
{
    CU_ASSERT_EQUAL(negotiate_format(NULL, 0), TEXT);
    CU_ASSERT_EQUAL(fmt1(""), TEXT);
    CU_ASSERT_EQUAL(fmt1("*/*"), TEXT); /* curl: a tie goes to text */
    CU_ASSERT_EQUAL(fmt1("text/plain"), TEXT);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text"), OM);
    CU_ASSERT_EQUAL(fmt1("application/json"), TEXT); /* nothing acceptable: text, not 406 */
}

static void test_negotiate_format_q_ordering(void)
{
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;q=0.5,text/plain;q=0.6"), TEXT);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;q=0.6,text/plain;q=0.5"), OM);
    CU_ASSERT_EQUAL(fmt1("text/plain;q=0.6,application/openmetrics-text;q=0.601"), OM);
    /* Equal weight and equal specificity: text. */
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;q=0.5,text/plain;q=0.5"), TEXT);
    /* Equal weight, OpenMetrics named and text only by wildcard: OpenMetrics. */
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;version=1.0.0,*/*"), OM);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text, text/*"), OM);
}

static void test_negotiate_format_q_zero(void)
{
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;q=0,*/*"), TEXT);
    CU_ASSERT_EQUAL(fmt1("text/plain;q=0,*/*;q=0.1"), OM);
    CU_ASSERT_EQUAL(fmt1("text/plain;q=0.000,application/*;q=0.001"), OM);
    CU_ASSERT_EQUAL(fmt1("text/plain;q=0,application/openmetrics-text;q=0"), TEXT);
}

static void test_negotiate_format_wildcards(void)
{
    CU_ASSERT_EQUAL(fmt1("application/*"), OM);
    CU_ASSERT_EQUAL(fmt1("text/*"), TEXT);
    CU_ASSERT_EQUAL(fmt1("text/*;q=0.9, application/*;q=0.8"), TEXT);
    CU_ASSERT_EQUAL(fmt1("text/*;q=0.8, application/*;q=0.9"), OM);
    /* The most specific range decides, even with a lower q. */
    CU_ASSERT_EQUAL(fmt1("text/*;q=1, text/plain;q=0.1, application/openmetrics-text;q=0.5"), OM);
    CU_ASSERT_EQUAL(fmt1("*/*;q=0.1, application/*;q=0"), TEXT);
}

static void test_negotiate_format_parameters(void)
{
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;version=0.0.1"), OM);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;version=\"1.0.0\""), OM);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;version=2.0.0"), TEXT);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;version=2.0.0,text/plain;q=0.1"), TEXT);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;charset=UTF-8"), OM);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;charset=iso-8859-1"), TEXT);
    CU_ASSERT_EQUAL(fmt1("Application/OpenMetrics-Text; Version=1.0.0"), OM);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text ; q=0.9 , text/plain ; q=0.1"), OM);
    /* text/plain with an unknown version matches nothing; OM wins by wildcard. */
    CU_ASSERT_EQUAL(fmt1("text/plain;version=9.9.9,application/*;q=0.1"), OM);
    /* Parameters after q are extensions: ignored. */
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;q=0.9;version=9.9.9,text/plain;q=0.1"), OM);
}

static void test_negotiate_format_malformed(void)
{
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;q=2"), TEXT);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;q=0.1234"), TEXT);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;q="), TEXT);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;q=\"1\""), TEXT);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;version"), TEXT);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text;version=\"1.0.0"), TEXT);
    CU_ASSERT_EQUAL(fmt1("application"), TEXT);
    CU_ASSERT_EQUAL(fmt1("application/"), TEXT);
    CU_ASSERT_EQUAL(fmt1("*/openmetrics-text"), TEXT);
    CU_ASSERT_EQUAL(fmt1(";;;,,,"), TEXT);
    CU_ASSERT_EQUAL(fmt1("application/openmetrics-text garbage"), TEXT);
    /* One bad element costs only itself. */
    CU_ASSERT_EQUAL(fmt1("garbage, application/openmetrics-text"), OM);
    CU_ASSERT_EQUAL(fmt1("a/b;x=\"q,\\\"\", application/openmetrics-text"), OM);
    CU_ASSERT_EQUAL(fmt1("text/plain;q=9, application/openmetrics-text;q=0.1"), OM);
}

static void test_negotiate_format_several_lines(void)
{
    struct http_str v[2] = {{"text/plain;q=0.1", 16}, {"application/openmetrics-text", 28}};

    CU_ASSERT_EQUAL(negotiate_format(v, 2), OM);
    CU_ASSERT_EQUAL(negotiate_format(v, 1), TEXT);
}

static void test_negotiate_qvalue_values(void)
{
    CU_ASSERT_EQUAL(negotiate_qvalue("1", 1), 1000);
    CU_ASSERT_EQUAL(negotiate_qvalue("1.", 2), 1000);
    CU_ASSERT_EQUAL(negotiate_qvalue("1.000", 5), 1000);
    CU_ASSERT_EQUAL(negotiate_qvalue("0", 1), 0);
    CU_ASSERT_EQUAL(negotiate_qvalue("0.", 2), 0);
    CU_ASSERT_EQUAL(negotiate_qvalue("0.5", 3), 500);
    CU_ASSERT_EQUAL(negotiate_qvalue("0.125", 5), 125);
    CU_ASSERT_EQUAL(negotiate_qvalue("0.05", 4), 50);
    CU_ASSERT_EQUAL(negotiate_qvalue("1.001", 5), -EINVAL);
    CU_ASSERT_EQUAL(negotiate_qvalue("0.1234", 6), -EINVAL);
    CU_ASSERT_EQUAL(negotiate_qvalue("", 0), -EINVAL);
    CU_ASSERT_EQUAL(negotiate_qvalue("2", 1), -EINVAL);
    CU_ASSERT_EQUAL(negotiate_qvalue(".5", 2), -EINVAL);
    CU_ASSERT_EQUAL(negotiate_qvalue("0.5x", 4), -EINVAL);
    CU_ASSERT_EQUAL(negotiate_qvalue("05", 2), -EINVAL);
}

static void test_negotiate_gzip_choices(void)
{
    CU_ASSERT_FALSE(negotiate_gzip(NULL, 0));
    CU_ASSERT_FALSE(gz1(""));
    CU_ASSERT_TRUE(gz1("gzip"));
    CU_ASSERT_TRUE(gz1("GZIP"));
    CU_ASSERT_TRUE(gz1("x-gzip"));
    CU_ASSERT_TRUE(gz1("gzip, deflate, br"));
    CU_ASSERT_TRUE(gz1("br;q=1.0, gzip;q=0.8, *;q=0.1"));
    CU_ASSERT_TRUE(gz1("*"));
    CU_ASSERT_TRUE(gz1("gzip;q=0.5")); /* identity only implied: least preferred */
    CU_ASSERT_TRUE(gz1("gzip, identity;q=0.5"));
    CU_ASSERT_TRUE(gz1("gzip;q=0.5, identity;q=0.5")); /* a tie: gzip */
    CU_ASSERT_TRUE(gz1("identity;q=0, *"));
    CU_ASSERT_FALSE(gz1("gzip;q=0"));
    CU_ASSERT_FALSE(gz1("*;q=0"));
    CU_ASSERT_FALSE(gz1("identity"));
    CU_ASSERT_FALSE(gz1("gzip;q=0.5, identity"));
    CU_ASSERT_FALSE(gz1("gzip;q=0.5, *"));
    CU_ASSERT_FALSE(gz1("br, deflate"));
    CU_ASSERT_FALSE(gz1("*;q=0.5, gzip;q=0"));
    CU_ASSERT_FALSE(gz1("gzip;q=bad"));
    CU_ASSERT_FALSE(gz1("gzip;level=9"));
    CU_ASSERT_TRUE(gz1("gzip;q=bad, x-gzip"));
    CU_ASSERT_TRUE(gz1("gzip ; q=0.9"));
}

static void test_negotiate_gzip_several_lines(void)
{
    struct http_str v[2] = {{"identity;q=0.1", 14}, {"gzip", 4}};

    CU_ASSERT_TRUE(negotiate_gzip(v, 2));
    CU_ASSERT_FALSE(negotiate_gzip(v, 1));
}

int main(void)
{
    static const struct t_case tests[] = {
        {"test_negotiate_format_prometheus_headers", test_negotiate_format_prometheus_headers},
        {"test_negotiate_format_absent_and_plain", test_negotiate_format_absent_and_plain},
        {"test_negotiate_format_q_ordering", test_negotiate_format_q_ordering},
        {"test_negotiate_format_q_zero", test_negotiate_format_q_zero},
        {"test_negotiate_format_wildcards", test_negotiate_format_wildcards},
        {"test_negotiate_format_parameters", test_negotiate_format_parameters},
        {"test_negotiate_format_malformed", test_negotiate_format_malformed},
        {"test_negotiate_format_several_lines", test_negotiate_format_several_lines},
        {"test_negotiate_qvalue_values", test_negotiate_qvalue_values},
        {"test_negotiate_gzip_choices", test_negotiate_gzip_choices},
        {"test_negotiate_gzip_several_lines", test_negotiate_gzip_several_lines},
    };
    return T_RUN("negotiate", tests);
}

/* float32 GEMM through oneDNN's matmul primitive: see fastnn_onednn.h. */
#define _GNU_SOURCE
#include "fastnn_onednn.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the part of oneDNN 3.x's C API used here (oneapi/dnnl/dnnl.h) ---- */
typedef int dnnl_status_t;                 /* dnnl_success = 0 */
typedef int64_t dnnl_dim_t;
typedef dnnl_dim_t dnnl_dims_t[12];        /* DNNL_MAX_NDIMS */
typedef struct dnnl_engine *dnnl_engine_t;
typedef struct dnnl_stream *dnnl_stream_t;
typedef struct dnnl_memory_desc *dnnl_memory_desc_t;
typedef struct dnnl_memory *dnnl_memory_t;
typedef struct dnnl_primitive_desc *dnnl_primitive_desc_t;
typedef struct dnnl_primitive *dnnl_primitive_t;
typedef struct dnnl_primitive_attr *dnnl_primitive_attr_t;
typedef struct dnnl_post_ops *dnnl_post_ops_t;
typedef struct { int arg; dnnl_memory_t memory; } dnnl_exec_arg_t;
typedef struct { int major, minor, patch; const char *hash; unsigned cpu_runtime, gpu_runtime; }
    dnnl_version_t;
enum { DNNL_CPU = 1, DNNL_STREAM_IN_ORDER = 1, DNNL_F32 = 3, DNNL_UNDEF_TYPE = 0,
       DNNL_QUERY_IMPL_INFO_STR = 8 };
enum { ARG_SRC = 1, ARG_DST = 17, ARG_WEIGHTS = 33, ARG_ATTR_SCALES = 4096 };

static struct {
    const dnnl_version_t *(*version)(void);
    dnnl_status_t (*engine_create)(dnnl_engine_t *, int, size_t);
    dnnl_status_t (*stream_create)(dnnl_stream_t *, dnnl_engine_t, unsigned);
    dnnl_status_t (*stream_wait)(dnnl_stream_t);
    dnnl_status_t (*stream_destroy)(dnnl_stream_t);
    dnnl_status_t (*memory_desc_create_with_strides)(dnnl_memory_desc_t *, int, const dnnl_dims_t,
                                                     int, const dnnl_dims_t);
    dnnl_status_t (*memory_desc_destroy)(dnnl_memory_desc_t);
    dnnl_status_t (*memory_create)(dnnl_memory_t *, dnnl_memory_desc_t, dnnl_engine_t, void *);
    dnnl_status_t (*memory_set_data_handle)(dnnl_memory_t, void *);
    dnnl_status_t (*memory_destroy)(dnnl_memory_t);
    dnnl_status_t (*primitive_attr_create)(dnnl_primitive_attr_t *);
    dnnl_status_t (*primitive_attr_destroy)(dnnl_primitive_attr_t);
    dnnl_status_t (*primitive_attr_set_scales_mask)(dnnl_primitive_attr_t, int, int);
    dnnl_status_t (*primitive_attr_set_post_ops)(dnnl_primitive_attr_t, dnnl_post_ops_t);
    dnnl_status_t (*post_ops_create)(dnnl_post_ops_t *);
    dnnl_status_t (*post_ops_destroy)(dnnl_post_ops_t);
    dnnl_status_t (*post_ops_append_sum)(dnnl_post_ops_t, float, int32_t, int);
    dnnl_status_t (*matmul_primitive_desc_create)(dnnl_primitive_desc_t *, dnnl_engine_t,
                                                  dnnl_memory_desc_t, dnnl_memory_desc_t,
                                                  dnnl_memory_desc_t, dnnl_memory_desc_t,
                                                  dnnl_primitive_attr_t);
    dnnl_status_t (*primitive_desc_query)(dnnl_primitive_desc_t, int, int, void *);
    dnnl_status_t (*primitive_desc_destroy)(dnnl_primitive_desc_t);
    dnnl_status_t (*primitive_create)(dnnl_primitive_t *, dnnl_primitive_desc_t);
    dnnl_status_t (*primitive_execute)(dnnl_primitive_t, dnnl_stream_t, int,
                                       const dnnl_exec_arg_t *);
    dnnl_status_t (*primitive_destroy)(dnnl_primitive_t);
    /* from libgomp, which libdnnl links */
    void (*omp_set_num_threads)(int);
    int (*omp_get_max_threads)(void);
} api;

static dnnl_engine_t engine;
static int available;
static char error[256];

/* ---- one thread's primitives, by shape ---- */
typedef struct {
    int used;
    int trans_a, trans_b, m, n, k, lda, ldb, ldc, scaled;
    float beta;
    dnnl_primitive_t primitive;
    dnnl_memory_t A, B, C, scale_memory;
    float scale;                    /* alpha, read by scale_memory */
    char kernel[48];
} entry;

enum { CACHE_ENTRIES = 32 };

typedef struct {
    int on;                         /* opted in */
    int omp_threads_before;
    dnnl_stream_t stream;
    int next_victim;
    entry entries[CACHE_ENTRIES];
} thread_cache;

static pthread_key_t cache_key;

static void drop_entry(entry *e) {
    if (!e->used)
        return;
    api.primitive_destroy(e->primitive);
    api.memory_destroy(e->A);
    api.memory_destroy(e->B);
    api.memory_destroy(e->C);
    if (e->scale_memory)
        api.memory_destroy(e->scale_memory);
    memset(e, 0, sizeof *e);
}

static void drop_cache(void *pointer) {
    thread_cache *cache = pointer;
    for (int i = 0; i < CACHE_ENTRIES; i++)
        drop_entry(&cache->entries[i]);
    if (cache->stream)
        api.stream_destroy(cache->stream);
    free(cache);
}

static thread_cache *this_thread(int create) {
    thread_cache *cache = pthread_getspecific(cache_key);
    if (cache == NULL && create) {
        cache = calloc(1, sizeof *cache);
        if (cache == NULL)
            return NULL;
        if (api.stream_create(&cache->stream, engine, DNNL_STREAM_IN_ORDER) != 0 ||
            pthread_setspecific(cache_key, cache) != 0) {
            if (cache->stream)
                api.stream_destroy(cache->stream);
            free(cache);
            return NULL;
        }
    }
    return cache;
}

/* A row-major (rows x cols) operand with row stride ld, or, transposed, the
 * transpose of a row-major (cols x rows) one: oneDNN takes any strides. */
static dnnl_memory_desc_t operand(int transposed, int rows, int cols, int ld) {
    dnnl_dims_t dims = {rows, cols}, strides = {ld, 1};
    if (transposed) {
        strides[0] = 1;
        strides[1] = ld;
    }
    dnnl_memory_desc_t desc = NULL;
    if (api.memory_desc_create_with_strides(&desc, 2, dims, DNNL_F32, strides) != 0)
        return NULL;
    return desc;
}

/* Makes e's primitive for its shape; 0 on success. */
static int make_entry(entry *e) {
    dnnl_memory_desc_t a = operand(e->trans_a, e->m, e->k, e->lda);
    dnnl_memory_desc_t b = operand(e->trans_b, e->k, e->n, e->ldb);
    dnnl_memory_desc_t c = operand(0, e->m, e->n, e->ldc);
    dnnl_memory_desc_t s = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t post_ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    int failed = a == NULL || b == NULL || c == NULL || api.primitive_attr_create(&attr) != 0;
    if (!failed && e->scaled) {
        /* alpha as a run-time scale of A: one primitive serves every alpha */
        dnnl_dims_t one = {1}, unit = {1};
        failed = api.primitive_attr_set_scales_mask(attr, ARG_SRC, 0) != 0 ||
                 api.memory_desc_create_with_strides(&s, 1, one, DNNL_F32, unit) != 0;
    }
    if (!failed && e->beta != 0.0f)
        failed = api.post_ops_create(&post_ops) != 0 ||
                 api.post_ops_append_sum(post_ops, e->beta, 0, DNNL_UNDEF_TYPE) != 0 ||
                 api.primitive_attr_set_post_ops(attr, post_ops) != 0;
    if (!failed)
        failed = api.matmul_primitive_desc_create(&pd, engine, a, b, NULL, c, attr) != 0;
    if (!failed) {
        const char *kernel = NULL;
        if (api.primitive_desc_query(pd, DNNL_QUERY_IMPL_INFO_STR, 0, &kernel) == 0 && kernel)
            snprintf(e->kernel, sizeof e->kernel, "%s", kernel);
        failed = api.primitive_create(&e->primitive, pd) != 0;
    }
    if (!failed)
        failed = api.memory_create(&e->A, a, engine, NULL) != 0 ||
                 api.memory_create(&e->B, b, engine, NULL) != 0 ||
                 api.memory_create(&e->C, c, engine, NULL) != 0 ||
                 (s != NULL && api.memory_create(&e->scale_memory, s, engine, &e->scale) != 0);
    if (pd)
        api.primitive_desc_destroy(pd);
    if (post_ops)
        api.post_ops_destroy(post_ops);
    if (attr)
        api.primitive_attr_destroy(attr);
    dnnl_memory_desc_t descs[] = {a, b, c, s};
    for (int i = 0; i < 4; i++)
        if (descs[i])
            api.memory_desc_destroy(descs[i]);
    if (failed) {
        if (e->primitive) api.primitive_destroy(e->primitive);
        if (e->A) api.memory_destroy(e->A);
        if (e->B) api.memory_destroy(e->B);
        if (e->C) api.memory_destroy(e->C);
        if (e->scale_memory) api.memory_destroy(e->scale_memory);
        memset(e, 0, sizeof *e);
        return 1;
    }
    e->used = 1;
    return 0;
}

static entry *find_entry(thread_cache *cache, int trans_a, int trans_b, int m, int n, int k,
                         int lda, int ldb, int ldc, int scaled, float beta) {
    for (int i = 0; i < CACHE_ENTRIES; i++) {
        entry *e = &cache->entries[i];
        if (e->used && e->m == m && e->n == n && e->k == k && e->trans_a == trans_a &&
            e->trans_b == trans_b && e->lda == lda && e->ldb == ldb && e->ldc == ldc &&
            e->scaled == scaled && e->beta == beta)
            return e;
    }
    entry *e = &cache->entries[cache->next_victim];
    cache->next_victim = (cache->next_victim + 1) % CACHE_ENTRIES;
    drop_entry(e);
    *e = (entry){.trans_a = trans_a, .trans_b = trans_b, .m = m, .n = n, .k = k, .lda = lda,
                 .ldb = ldb, .ldc = ldc, .scaled = scaled, .beta = beta};
    return make_entry(e) == 0 ? e : NULL;
}

int fnn_onednn_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                     const float *A, int lda, const float *B, int ldb, float beta,
                     float *C, int ldc) {
    if (!available)
        return 1;
    thread_cache *cache = this_thread(0);
    /* beta other than 0 and 1 would bake a new kernel for every value */
    if (cache == NULL || !cache->on || (beta != 0.0f && beta != 1.0f))
        return 1;
    entry *e = find_entry(cache, trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha != 1.0f, beta);
    if (e == NULL)
        return 1;
    e->scale = alpha;
    api.memory_set_data_handle(e->A, (void *)A);
    api.memory_set_data_handle(e->B, (void *)B);
    api.memory_set_data_handle(e->C, C);
    dnnl_exec_arg_t args[4] = {{ARG_SRC, e->A}, {ARG_WEIGHTS, e->B}, {ARG_DST, e->C},
                               {ARG_ATTR_SCALES | ARG_SRC, e->scale_memory}};
    if (api.primitive_execute(e->primitive, cache->stream, e->scaled ? 4 : 3, args) != 0)
        return 1;     /* nothing written: execution checks before it runs */
    api.stream_wait(cache->stream);
    return 0;
}

const char *fnn_onednn_kernel(int trans_a, int trans_b, int m, int n, int k) {
    thread_cache *cache = available ? this_thread(1) : NULL;
    if (cache == NULL)
        return "";
    int lda = trans_a ? m : k, ldb = trans_b ? k : n;
    entry *e = find_entry(cache, trans_a, trans_b, m, n, k, lda, ldb, n, 0, 0.0f);
    return e ? e->kernel : "";
}

int fnn_onednn_use_on_this_thread(int on) {
    thread_cache *cache = available ? this_thread(on) : NULL;
    if (cache == NULL)
        return 0;
    int before = cache->on;
    if (on && !before) {
        /* the team is the parallelism: oneDNN runs on the calling thread */
        cache->omp_threads_before = api.omp_get_max_threads();
        api.omp_set_num_threads(1);
    } else if (!on && before) {
        api.omp_set_num_threads(cache->omp_threads_before);
    }
    cache->on = on;
    return before;
}

/* A product small enough to check by hand, at load: a library that answers
 * wrong is not used. */
static int self_check(void) {
    enum { M = 7, K = 33, N = 5 };
    float A[M * K], B[K * N], C[M * N];
    for (int i = 0; i < M * K; i++) A[i] = (float)((i * 7) % 11) - 5.0f;
    for (int i = 0; i < K * N; i++) B[i] = (float)((i * 5) % 13) - 6.0f;
    for (int i = 0; i < M * N; i++) C[i] = 1.0f;
    int was = fnn_onednn_use_on_this_thread(1);
    int failed = fnn_onednn_sgemm(0, 0, M, N, K, 0.5f, A, K, B, N, 1.0f, C, N);
    fnn_onednn_use_on_this_thread(was);
    for (int i = 0; i < M && !failed; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;   /* small integers: exact in any order */
            for (int p = 0; p < K; p++) sum += A[i * K + p] * B[p * N + j];
            if (C[i * N + j] != 0.5f * sum + 1.0f) failed = 1;
        }
    return failed;
}

int fnn_onednn_load(const char *path) {
    if (available)
        return 0;
    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(error, sizeof error, "%s", dlerror());
        return 1;
    }
    struct { void **slot; const char *name; } symbols[] = {
#define SYMBOL(field, name) {(void **)&api.field, name}
        SYMBOL(version, "dnnl_version"), SYMBOL(engine_create, "dnnl_engine_create"),
        SYMBOL(stream_create, "dnnl_stream_create"), SYMBOL(stream_wait, "dnnl_stream_wait"),
        SYMBOL(stream_destroy, "dnnl_stream_destroy"),
        SYMBOL(memory_desc_create_with_strides, "dnnl_memory_desc_create_with_strides"),
        SYMBOL(memory_desc_destroy, "dnnl_memory_desc_destroy"),
        SYMBOL(memory_create, "dnnl_memory_create"),
        SYMBOL(memory_set_data_handle, "dnnl_memory_set_data_handle"),
        SYMBOL(memory_destroy, "dnnl_memory_destroy"),
        SYMBOL(primitive_attr_create, "dnnl_primitive_attr_create"),
        SYMBOL(primitive_attr_destroy, "dnnl_primitive_attr_destroy"),
        SYMBOL(primitive_attr_set_scales_mask, "dnnl_primitive_attr_set_scales_mask"),
        SYMBOL(primitive_attr_set_post_ops, "dnnl_primitive_attr_set_post_ops"),
        SYMBOL(post_ops_create, "dnnl_post_ops_create"),
        SYMBOL(post_ops_destroy, "dnnl_post_ops_destroy"),
        SYMBOL(post_ops_append_sum, "dnnl_post_ops_append_sum"),
        SYMBOL(matmul_primitive_desc_create, "dnnl_matmul_primitive_desc_create"),
        SYMBOL(primitive_desc_query, "dnnl_primitive_desc_query"),
        SYMBOL(primitive_desc_destroy, "dnnl_primitive_desc_destroy"),
        SYMBOL(primitive_create, "dnnl_primitive_create"),
        SYMBOL(primitive_execute, "dnnl_primitive_execute"),
        SYMBOL(primitive_destroy, "dnnl_primitive_destroy"),
        SYMBOL(omp_set_num_threads, "omp_set_num_threads"),
        SYMBOL(omp_get_max_threads, "omp_get_max_threads"),
#undef SYMBOL
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        *symbols[i].slot = dlsym(library, symbols[i].name);
        if (*symbols[i].slot == NULL) {
            snprintf(error, sizeof error, "%s: no symbol %s", path, symbols[i].name);
            return 1;
        }
    }
    const dnnl_version_t *version = api.version();
    if (version == NULL || version->major != 3) {
        snprintf(error, sizeof error, "%s: oneDNN %d, not 3.x", path, version ? version->major : -1);
        return 1;
    }
    if (api.engine_create(&engine, DNNL_CPU, 0) != 0 ||
        pthread_key_create(&cache_key, drop_cache) != 0) {
        snprintf(error, sizeof error, "%s: no CPU engine", path);
        return 1;
    }
    available = 1;
    if (self_check() != 0) {
        available = 0;
        snprintf(error, sizeof error, "%s: a product's self-check failed", path);
        return 1;
    }
    return 0;   /* the library stays open for the process's life */
}

const char *fnn_onednn_error(void) { return error; }
int fnn_onednn_available(void) { return available; }
void fnn_onednn_disable(void) { available = 0; }

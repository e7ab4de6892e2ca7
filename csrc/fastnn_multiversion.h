/* The hot kernels are compiled for several instruction sets and picked at
 * load time (GCC function multi-versioning), so a portable build still runs
 * AVX2/AVX-512 code where the CPU has it. */
#ifndef FASTNN_MULTIVERSION_H
#define FASTNN_MULTIVERSION_H
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && !defined(FASTNN_NO_MULTIVERSION)
#define FNN_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FNN_MULTIVERSION
#endif
#endif /* FASTNN_MULTIVERSION_H */

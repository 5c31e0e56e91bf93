/*
 * The benchmark's native baseline: the same IA-32e 4-level walk + 4 KiB copy that
 * bench/vmi.bench.ts times in vmipolicy, over the same raw snapshot, compiled at bench time
 * with `cc -O2`. The file is mmap'ed (zero system calls per page: the practical limit for a
 * native reader; LibVMI's file mode also maps the file). No translation cache: every page is
 * walked from CR3, which is what "caches cold" means for vmipolicy after flush().
 *
 * usage: pagewalk FILE DTB VA PAGES PASSES   (DTB and VA in hex)
 * prints: the median µs per page over PASSES passes, then a checksum of the copied bytes.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define ADDR_MASK 0x000ffffffffff000ull

static const uint8_t *mem;
static uint64_t mem_size;

/* One entry, or 0 (not present) when the table lies outside the file. */
static uint64_t entry(uint64_t table, unsigned index) {
    uint64_t at = (table & ADDR_MASK) + (uint64_t)index * 8;
    if (at + 8 > mem_size) return 0;
    uint64_t e;
    memcpy(&e, mem + at, 8);
    return e;
}

/* Physical address of va, or UINT64_MAX when it does not translate. */
static uint64_t translate(uint64_t dtb, uint64_t va) {
    uint64_t e = entry(dtb, (va >> 39) & 0x1ff);
    if (!(e & 1)) return UINT64_MAX;
    e = entry(e, (va >> 30) & 0x1ff);
    if (!(e & 1)) return UINT64_MAX;
    if (e & 0x80) return (e & 0x000fffffc0000000ull) | (va & 0x3fffffff);
    e = entry(e, (va >> 21) & 0x1ff);
    if (!(e & 1)) return UINT64_MAX;
    if (e & 0x80) return (e & 0x000fffffffe00000ull) | (va & 0x1fffff);
    e = entry(e, (va >> 12) & 0x1ff);
    if (!(e & 1)) return UINT64_MAX;
    return (e & ADDR_MASK) | (va & 0xfff);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s FILE DTB VA PAGES PASSES\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) { perror(argv[1]); return 2; }
    mem_size = (uint64_t)st.st_size;
    mem = mmap(NULL, mem_size, PROT_READ, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED) { perror("mmap"); return 2; }
    uint64_t dtb = strtoull(argv[2], NULL, 16), va = strtoull(argv[3], NULL, 16);
    unsigned pages = (unsigned)atoi(argv[4]), passes = (unsigned)atoi(argv[5]);
    static uint8_t buffer[PAGE];
    double *times = malloc(sizeof(double) * passes);
    uint64_t checksum = 0;
    for (unsigned pass = 0; pass < passes + 5; pass++) { /* 5 untimed passes warm the page cache */
        double start = now_us();
        for (unsigned i = 0; i < pages; i++) {
            uint64_t pa = translate(dtb, va + (uint64_t)i * PAGE);
            if (pa == UINT64_MAX || pa + PAGE > mem_size) { fprintf(stderr, "page %u does not translate\n", i); return 1; }
            memcpy(buffer, mem + pa, PAGE);
            checksum += buffer[i % PAGE]; /* keeps the copy observable, so it cannot be elided */
        }
        double elapsed = now_us() - start;
        if (pass >= 5) times[pass - 5] = elapsed / pages;
    }
    qsort(times, passes, sizeof(double), cmp);
    double median = passes % 2 ? times[passes / 2] : (times[passes / 2 - 1] + times[passes / 2]) / 2;
    printf("%.4f\n%llu\n", median, (unsigned long long)checksum);
    return 0;
}

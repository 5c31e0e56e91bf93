/*
 * Test equipment: a stand-in for the Xen libraries a real VMI client calls, forwarding every
 * call to vmipolicy's simulated host (test/support/real-clients/bridge.ts) over a Unix
 * socket. The real client runs unmodified; what it gets back is what the simulated host
 * decided: our AVC allows or refuses each hypercall, our xenstore answers, the synthetic
 * guest's memory fills the foreign maps, and the vm_event ring carries the guest's events.
 *
 * What it stands in for, and why each piece is shaped as it is:
 * - libxenctrl.so (LibVMI dlopens it and looks up ~70 functions with dlsym, see
 *   libvmi/driver/xen/libxc_wrapper.c create_libxc_wrapper; xen-access links it). Every
 *   function LibVMI's sanity check requires exists; the ones the simulated host does not
 *   model answer -1/ENOSYS and are reported to the bridge, so a test sees them.
 * - libxenstore.so (LibVMI's libxs_wrapper.c): xs_directory and xs_read go to the simulated
 *   xenstored, as the introspector's own connection would.
 * - /sys/hypervisor/{type,version/major,version/minor}, which LibVMI's xen_get_version reads
 *   before loading anything: fopen is interposed (LD_PRELOAD) to answer "xen" and the host's
 *   release.
 * - munmap of a foreign map: in a real dom0 the privcmd driver removes the frames from an
 *   auto-translated caller's physmap when the mapping goes (XENMEM_remove_from_physmap), and
 *   writes to a read-write map land in the guest directly. Here munmap is interposed: a
 *   read-write map's pages are written back, then the bridge is told the frames are unmapped.
 * - The vm_event ring page: Xen is the ring's front end (it produces requests and consumes
 *   responses, xen/common/vm_event.c); the client is the back end. This library plays Xen's
 *   part on the page the client got from xc_monitor_enable, and the event channel's fd is a
 *   second connection on which the bridge writes one byte per notification.
 *
 * The protocol is line-based: "<call> <args…>\n" out, "<rc> <errno> [values…]\n" back, with a
 * binary payload after either line where the call says so (page contents).
 */
#define _GNU_SOURCE
#define XC_WANT_COMPAT_MAP_FOREIGN_API 1
#define XC_WANT_COMPAT_EVTCHN_API 1
#define XC_WANT_COMPAT_DEVICEMODEL_API 1
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenstore.h>
#include <xenevtchn.h>
#include <xen/vm_event.h>
#include <xen/hvm/save.h>

#define PAGE 4096

/* ------------------------------------------------------------------ the connection */

struct conn {
    int fd;
    char buf[65536];
    size_t start, end;
};

static struct conn link_ = { .fd = -1 };

static void die(const char *why)
{
    fprintf(stderr, "vmipolicy stand-in: %s\n", why);
    _exit(97);
}

static int dial(void)
{
    const char *path = getenv("VMIPOLICY_SIM_SOCKET");
    if (!path) die("VMIPOLICY_SIM_SOCKET is not set");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (fd < 0 || strlen(path) >= sizeof(sa.sun_path)) die("cannot open a socket");
    strcpy(sa.sun_path, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) die("cannot reach the simulated host");
    return fd;
}

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) die("the simulated host went away (write)");
        c += w;
        n -= (size_t)w;
    }
}

static void fill(struct conn *c)
{
    if (c->start == c->end) c->start = c->end = 0;
    if (c->end == sizeof(c->buf)) {
        memmove(c->buf, c->buf + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    for (;;) {
        ssize_t r = read(c->fd, c->buf + c->end, sizeof(c->buf) - c->end);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) die("the simulated host went away (read)");
        c->end += (size_t)r;
        return;
    }
}

/* One response line, NUL-terminated, into out (at most cap bytes). */
static void read_line(struct conn *c, char *out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        while (c->start < c->end) {
            char ch = c->buf[c->start++];
            if (ch == '\n') {
                out[n] = 0;
                return;
            }
            if (n + 1 < cap) out[n++] = ch;
        }
        fill(c);
    }
}

static void read_exact(struct conn *c, void *p, size_t n)
{
    char *o = p;
    while (n > 0) {
        if (c->start == c->end) fill(c);
        size_t k = c->end - c->start < n ? c->end - c->start : n;
        memcpy(o, c->buf + c->start, k);
        c->start += k;
        o += k;
        n -= k;
    }
}

static char reply[65536];
/* The values after "<rc> <errno>" in the last reply. */
static char *values;

/* Sends one request line (and an optional payload), reads the reply line; errno from it. */
static long rpcv(const void *payload, size_t plen, const char *fmt, va_list ap)
{
    if (link_.fd < 0) link_.fd = dial();
    char line[8192];
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    if (n < 0 || n >= (int)sizeof(line) - 1) die("request too long");
    line[n++] = '\n';
    write_all(link_.fd, line, (size_t)n);
    if (plen) write_all(link_.fd, payload, plen);
    read_line(&link_, reply, sizeof(reply));
    if (getenv("VMIPOLICY_SIM_TRACE")) fprintf(stderr, "stand-in: %.*s -> %s\n", n - 1, line, reply);
    char *end;
    long rc = strtol(reply, &end, 10);
    long err = strtol(end, &end, 10);
    values = end;
    while (*values == ' ') values++;
    if (rc < 0) errno = (int)err;
    return rc;
}

static long rpc(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    long rc = rpcv(NULL, 0, fmt, ap);
    va_end(ap);
    return rc;
}

static long rpc_with(const void *payload, size_t plen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    long rc = rpcv(payload, plen, fmt, ap);
    va_end(ap);
    return rc;
}

static uint64_t next_value(void)
{
    char *end;
    uint64_t v = strtoull(values, &end, 0);
    values = end;
    while (*values == ' ') values++;
    return v;
}

/* A call the simulated host does not model: reported, then -1/ENOSYS. */
static int unmodelled(const char *fn)
{
    rpc("unmodelled %s", fn);
    errno = ENOSYS;
    return -1;
}

/* ------------------------------------------------------------------ /sys/hypervisor */

static FILE *sys_hypervisor(const char *path)
{
    static char text[64];
    if (strcmp(path, "/sys/hypervisor/type") == 0) {
        strcpy(text, "xen\n");
    } else if (strcmp(path, "/sys/hypervisor/version/major") == 0 || strcmp(path, "/sys/hypervisor/version/minor") == 0) {
        if (rpc("version") < 0) return NULL;
        unsigned major = (unsigned)next_value(), minor = (unsigned)next_value();
        snprintf(text, sizeof(text), "%u\n", strstr(path, "major") ? major : minor);
    } else {
        errno = ENOENT;
        return NULL;
    }
    return fmemopen(text, strlen(text), "r");
}

FILE *fopen(const char *path, const char *mode)
{
    static FILE *(*real)(const char *, const char *);
    if (path && getenv("VMIPOLICY_SIM_SOCKET") && strncmp(path, "/sys/hypervisor/", 16) == 0) return sys_hypervisor(path);
    if (!real) real = (FILE * (*)(const char *, const char *))dlsym(RTLD_NEXT, "fopen");
    return real(path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
    return fopen(path, mode);
}

/* ------------------------------------------------------------------ foreign maps */

struct mapping {
    void *addr;
    size_t pages;
    uint32_t dom;
    int writable;
    xen_pfn_t *gfns;
    struct mapping *next;
};

static struct mapping *mappings;

/*
 * Maps `n` gfns of `dom`: the bridge makes the foreign-map checks and, when every frame may be
 * mapped, sends the pages in order; otherwise the whole map fails, as xc_map_foreign_range does.
 */
static void *map_frames(uint32_t dom, int prot, const xen_pfn_t *gfns, size_t n)
{
    if (n == 0 || n > 1024) {
        errno = EINVAL;
        return NULL;
    }
    char list[1024 * 20], *p = list;
    for (size_t i = 0; i < n; i++) p += sprintf(p, " %" PRIu64, (uint64_t)gfns[i]);
    int writable = (prot & PROT_WRITE) != 0;
    long rc = rpc("map %u %s %zu%s", dom, writable ? "rw" : "r", n, list);
    if (rc < 0) return NULL;
    static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
    if (!real_mmap) real_mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
    void *addr = real_mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (addr == MAP_FAILED) die("out of memory for a mapping");
    read_exact(&link_, addr, n * PAGE);
    struct mapping *m = calloc(1, sizeof(*m));
    m->addr = addr;
    m->pages = n;
    m->dom = dom;
    m->writable = writable;
    m->gfns = malloc(n * sizeof(xen_pfn_t));
    memcpy(m->gfns, gfns, n * sizeof(xen_pfn_t));
    m->next = mappings;
    mappings = m;
    return addr;
}

static vm_event_sring_t *ring_page;
static int front_attached;
static uint32_t ring_domid;

int munmap(void *addr, size_t len)
{
    static int (*real)(void *, size_t);
    if (!real) real = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
    /* The ring page leaves the caller's physmap like any foreign frame (xen_events_destroy unmaps it). */
    if (addr && addr == (void *)ring_page) {
        rpc("unmap %u 1", ring_domid);
        ring_page = NULL;
        front_attached = 0;
    }
    for (struct mapping **pm = &mappings; *pm; pm = &(*pm)->next) {
        struct mapping *m = *pm;
        if (m->addr != addr) continue;
        *pm = m->next;
        if (m->writable)
            for (size_t i = 0; i < m->pages; i++) rpc_with((char *)addr + i * PAGE, PAGE, "writeback %u %" PRIu64, m->dom, (uint64_t)m->gfns[i]);
        rpc("unmap %u %zu", m->dom, m->pages);
        free(m->gfns);
        free(m);
        break;
    }
    (void)len;
    return real(addr, len);
}

void *xc_map_foreign_range(xc_interface *xch, uint32_t dom, int size, int prot, unsigned long mfn)
{
    (void)xch;
    size_t n = ((size_t)size + PAGE - 1) / PAGE;
    xen_pfn_t gfns[1024];
    if (n == 0 || n > 1024) {
        errno = EINVAL;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) gfns[i] = mfn + i;
    return map_frames(dom, prot, gfns, n);
}

void *xc_map_foreign_pages(xc_interface *xch, uint32_t dom, int prot, const xen_pfn_t *arr, int num)
{
    (void)xch;
    return num <= 0 ? NULL : map_frames(dom, prot, arr, (size_t)num);
}

void *xc_map_foreign_batch(xc_interface *xch, uint32_t dom, int prot, xen_pfn_t *arr, int num)
{
    (void)xch;
    return num <= 0 ? NULL : map_frames(dom, prot, arr, (size_t)num);
}

/* ------------------------------------------------------------------ libxenctrl: handles, discovery */

struct xc_interface_core { int unused; };

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger, unsigned open_flags)
{
    (void)logger, (void)dombuild_logger, (void)open_flags;
    if (rpc("open") < 0) return NULL;
    return calloc(1, sizeof(struct xc_interface_core));
}

int xc_interface_close(xc_interface *xch)
{
    free(xch);
    return 0;
}

int xc_version(xc_interface *xch, int cmd, void *arg)
{
    (void)xch, (void)arg;
    if (cmd != XENVER_version) return unmodelled("xc_version");
    if (rpc("version") < 0) return -1;
    unsigned major = (unsigned)next_value(), minor = (unsigned)next_value();
    return (int)((major << 16) | minor);
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain, unsigned int max_domains, xc_domaininfo_t *info)
{
    (void)xch;
    long n = rpc("getinfolist %u %u", first_domain, max_domains);
    if (n < 0) return -1;
    for (long i = 0; i < n && i < (long)max_domains; i++) {
        memset(&info[i], 0, sizeof(info[i]));
        info[i].domain = (domid_t)next_value();
        info[i].flags = (uint32_t)next_value();
        info[i].tot_pages = next_value();
        info[i].max_pages = next_value();
        info[i].max_vcpu_id = (uint32_t)next_value();
        info[i].nr_online_vcpus = info[i].max_vcpu_id + 1;
        info[i].ssidref = (uint32_t)next_value();
    }
    return (int)n;
}

int xc_domain_maximum_gpfn(xc_interface *xch, uint32_t domid, xen_pfn_t *gpfns)
{
    (void)xch;
    if (rpc("maximum_gpfn %u", domid) < 0) return -1;
    *gpfns = (xen_pfn_t)next_value();
    return 0;
}

int xc_domain_setmaxmem(xc_interface *xch, uint32_t domid, uint64_t max_memkb)
{
    (void)xch;
    return (int)rpc("setmaxmem %u %" PRIu64, domid, max_memkb);
}

int xc_domctl(xc_interface *xch, struct xen_domctl *domctl)
{
    (void)xch;
    if (domctl->cmd == XEN_DOMCTL_get_address_size) {
        if (rpc("address_size %u", domctl->domain) < 0) return -1;
        domctl->u.address_size.size = (uint32_t)next_value();
        return 0;
    }
    return unmodelled("xc_domctl");
}

int xc_domain_pause(xc_interface *xch, uint32_t domid)
{
    (void)xch;
    return (int)rpc("pause %u", domid);
}

int xc_domain_unpause(xc_interface *xch, uint32_t domid)
{
    (void)xch;
    return (int)rpc("unpause %u", domid);
}

int xc_domain_get_tsc_info(xc_interface *xch, uint32_t domid, uint32_t *tsc_mode, uint64_t *elapsed_nsec, uint32_t *gtsc_khz, uint32_t *incarnation)
{
    (void)xch;
    if (rpc("tsc_info %u", domid) < 0) return -1;
    *tsc_mode = 0;
    *elapsed_nsec = 0;
    *gtsc_khz = (uint32_t)next_value();
    *incarnation = 0;
    return 0;
}

int xc_domain_cacheflush(xc_interface *xch, uint32_t domid, xen_pfn_t start_pfn, xen_pfn_t nr_pfns)
{
    (void)xch, (void)domid, (void)start_pfn, (void)nr_pfns;
    return 0; /* a no-op on x86 (xc_domain_cacheflush returns 0 there) */
}

int xc_domain_populate_physmap_exact(xc_interface *xch, uint32_t domid, unsigned long nr_extents, unsigned int extent_order, unsigned int mem_flags, xen_pfn_t *extent_start)
{
    (void)xch, (void)extent_order, (void)mem_flags, (void)extent_start;
    return (int)rpc("populate_physmap %u %lu", domid, nr_extents);
}

int xc_domain_decrease_reservation_exact(xc_interface *xch, uint32_t domid, unsigned long nr_extents, unsigned int extent_order, xen_pfn_t *extent_start)
{
    (void)xch, (void)extent_order, (void)extent_start;
    return (int)rpc("decrease_reservation %u %lu", domid, nr_extents);
}

/* ------------------------------------------------------------------ vCPU state */

/* The registers the bridge sends for one vCPU: cr0 cr3 cr4 efer rip rsp rflags. */
struct regs { uint64_t cr0, cr3, cr4, efer, rip, rsp, rflags; };

static int vcpu_regs(const char *call, uint32_t domid, uint32_t vcpu, struct regs *r)
{
    if (rpc("%s %u %u", call, domid, vcpu) < 0) return -1;
    r->cr0 = next_value();
    r->cr3 = next_value();
    r->cr4 = next_value();
    r->efer = next_value();
    r->rip = next_value();
    r->rsp = next_value();
    r->rflags = next_value();
    return 0;
}

static void hw_cpu_of(const struct regs *r, struct hvm_hw_cpu *cpu)
{
    memset(cpu, 0, sizeof(*cpu));
    cpu->cr0 = r->cr0;
    cpu->cr3 = r->cr3;
    cpu->cr4 = r->cr4;
    cpu->msr_efer = r->efer;
    cpu->rip = r->rip;
    cpu->rsp = r->rsp;
    cpu->rflags = r->rflags;
    cpu->cs_arbytes = 0xa09b; /* a 64-bit code segment (L=1) */
}

int xc_domain_hvm_getcontext_partial(xc_interface *xch, uint32_t domid, uint16_t typecode, uint16_t instance, void *ctxt_buf, uint32_t size)
{
    (void)xch;
    if (typecode != HVM_SAVE_CODE(CPU)) return unmodelled("xc_domain_hvm_getcontext_partial(non-CPU record)");
    struct regs r;
    if (vcpu_regs("hvm_getcontext_partial", domid, instance, &r) < 0) return -1;
    if (size < sizeof(struct hvm_hw_cpu)) {
        errno = ENOSPC;
        return -1;
    }
    hw_cpu_of(&r, ctxt_buf);
    return 0;
}

/* A save stream: header, one CPU record, end — what XEN_DOMCTL_gethvmcontext returns. */
static size_t save_stream(void *buf, const struct regs *r)
{
    size_t need = 3 * sizeof(struct hvm_save_descriptor) + sizeof(struct hvm_save_header) + sizeof(struct hvm_hw_cpu);
    if (!buf) return need;
    char *p = buf;
    struct hvm_save_descriptor d = { .typecode = HVM_SAVE_CODE(HEADER), .instance = 0, .length = sizeof(struct hvm_save_header) };
    memcpy(p, &d, sizeof(d)), p += sizeof(d);
    struct hvm_save_header h = { .magic = HVM_FILE_MAGIC, .version = HVM_FILE_VERSION };
    memcpy(p, &h, sizeof(h)), p += sizeof(h);
    d = (struct hvm_save_descriptor){ .typecode = HVM_SAVE_CODE(CPU), .instance = 0, .length = sizeof(struct hvm_hw_cpu) };
    memcpy(p, &d, sizeof(d)), p += sizeof(d);
    struct hvm_hw_cpu cpu;
    hw_cpu_of(r, &cpu);
    memcpy(p, &cpu, sizeof(cpu)), p += sizeof(cpu);
    d = (struct hvm_save_descriptor){ .typecode = HVM_SAVE_CODE(END), .instance = 0, .length = 0 };
    memcpy(p, &d, sizeof(d));
    return need;
}

int xc_domain_hvm_getcontext(xc_interface *xch, uint32_t domid, uint8_t *ctxt_buf, uint32_t size)
{
    (void)xch;
    struct regs r;
    if (!ctxt_buf) return (int)save_stream(NULL, NULL); /* the size query makes no check in the model */
    if (vcpu_regs("hvm_getcontext", domid, 0, &r) < 0) return -1;
    if (size < save_stream(NULL, NULL)) {
        errno = ENOSPC;
        return -1;
    }
    return (int)save_stream(ctxt_buf, &r);
}

int xc_domain_hvm_setcontext(xc_interface *xch, uint32_t domid, uint8_t *hvm_ctxt, uint32_t size)
{
    (void)xch, (void)hvm_ctxt, (void)size;
    return (int)rpc("hvm_setcontext %u", domid);
}

int xc_vcpu_getcontext(xc_interface *xch, uint32_t domid, uint32_t vcpu, vcpu_guest_context_any_t *ctxt)
{
    (void)xch;
    struct regs r;
    if (vcpu_regs("vcpu_getcontext", domid, vcpu, &r) < 0) return -1;
    memset(ctxt, 0, sizeof(*ctxt));
    ctxt->x64.ctrlreg[0] = r.cr0;
    ctxt->x64.ctrlreg[3] = r.cr3; /* xen_pfn_to_cr3 on x86-64 is pfn << 12 */
    ctxt->x64.ctrlreg[4] = r.cr4;
    ctxt->x64.user_regs.rip = r.rip;
    ctxt->x64.user_regs.rsp = r.rsp;
    ctxt->x64.user_regs.rflags = r.rflags;
    return 0;
}

int xc_vcpu_setcontext(xc_interface *xch, uint32_t domid, uint32_t vcpu, vcpu_guest_context_any_t *ctxt)
{
    (void)xch, (void)ctxt;
    return (int)rpc("vcpu_setcontext %u %u", domid, vcpu);
}

int xc_hvm_inject_trap(xc_interface *xch, uint32_t domid, int vcpu, uint8_t vector, uint8_t type, uint32_t error_code, uint8_t insn_len, uint64_t cr2)
{
    (void)xch, (void)vector, (void)type, (void)error_code, (void)insn_len, (void)cr2;
    return (int)rpc("inject_trap %u %d", domid, vcpu);
}

int xc_domain_debug_control(xc_interface *xch, uint32_t domid, uint32_t sop, uint32_t vcpu)
{
    (void)xch;
    return (int)rpc("debug_control %u %u %u", domid, sop, vcpu);
}

/* ------------------------------------------------------------------ HVM params, altp2m */

int xc_hvm_param_get(xc_interface *handle, uint32_t dom, uint32_t param, uint64_t *value)
{
    (void)handle;
    if (rpc("hvm_param_get %u %u", dom, param) < 0) return -1;
    *value = next_value();
    return 0;
}

int xc_hvm_param_set(xc_interface *handle, uint32_t dom, uint32_t param, uint64_t value)
{
    (void)handle;
    return (int)rpc("hvm_param_set %u %u %" PRIu64, dom, param, value);
}

int xc_get_hvm_param(xc_interface *handle, uint32_t dom, int param, unsigned long *value)
{
    uint64_t v = 0;
    int rc = xc_hvm_param_get(handle, dom, (uint32_t)param, &v);
    *value = (unsigned long)v;
    return rc;
}

int xc_set_hvm_param(xc_interface *handle, uint32_t dom, int param, unsigned long value)
{
    return xc_hvm_param_set(handle, dom, (uint32_t)param, value);
}

int xc_altp2m_get_domain_state(xc_interface *handle, uint32_t dom, bool *state)
{
    (void)handle;
    if (rpc("altp2m get_domain_state %u", dom) < 0) return -1;
    *state = next_value() != 0;
    return 0;
}

int xc_altp2m_set_domain_state(xc_interface *handle, uint32_t dom, bool state)
{
    (void)handle;
    return (int)rpc("altp2m set_domain_state %u %d", dom, state);
}

int xc_altp2m_set_vcpu_enable_notify(xc_interface *handle, uint32_t domid, uint32_t vcpuid, xen_pfn_t gfn)
{
    (void)handle, (void)vcpuid, (void)gfn;
    return (int)rpc("altp2m vcpu_enable_notify %u", domid);
}

int xc_altp2m_create_view(xc_interface *handle, uint32_t domid, xenmem_access_t default_access, uint16_t *view_id)
{
    (void)handle, (void)default_access;
    if (rpc("altp2m create_p2m %u", domid) < 0) return -1;
    *view_id = (uint16_t)next_value();
    return 0;
}

int xc_altp2m_destroy_view(xc_interface *handle, uint32_t domid, uint16_t view_id)
{
    (void)handle, (void)view_id;
    return (int)rpc("altp2m destroy_p2m %u", domid);
}

int xc_altp2m_switch_to_view(xc_interface *handle, uint32_t domid, uint16_t view_id)
{
    (void)handle, (void)view_id;
    return (int)rpc("altp2m switch_p2m %u", domid);
}

int xc_altp2m_set_mem_access(xc_interface *handle, uint32_t domid, uint16_t view_id, xen_pfn_t gfn, xenmem_access_t access)
{
    (void)handle, (void)view_id, (void)gfn, (void)access;
    return (int)rpc("altp2m set_mem_access %u", domid);
}

int xc_altp2m_set_mem_access_multi(xc_interface *handle, uint32_t domid, uint16_t view_id, uint8_t *access, uint64_t *gfns, uint32_t nr)
{
    (void)handle, (void)view_id, (void)access, (void)gfns, (void)nr;
    return (int)rpc("altp2m set_mem_access %u", domid);
}

int xc_altp2m_change_gfn(xc_interface *handle, uint32_t domid, uint16_t view_id, xen_pfn_t old_gfn, xen_pfn_t new_gfn)
{
    (void)handle, (void)view_id, (void)old_gfn, (void)new_gfn;
    return (int)rpc("altp2m change_gfn %u", domid);
}

/* ------------------------------------------------------------------ vm_event: ring and monitor ops */

static vm_event_front_ring_t front;

void *xc_monitor_enable(xc_interface *xch, uint32_t domain_id, uint32_t *port)
{
    (void)xch;
    if (rpc("monitor_enable %u", domain_id) < 0) return NULL;
    *port = (uint32_t)next_value();
    void *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) die("out of memory for the ring");
    /* Xen initialises the shared ring when it enables it (vm_event_enable). */
    ring_page = page;
    SHARED_RING_INIT(ring_page);
    front_attached = 0;
    ring_domid = domain_id;
    return page;
}

int xc_monitor_disable(xc_interface *xch, uint32_t domain_id)
{
    (void)xch;
    return (int)rpc("monitor_disable %u", domain_id);
}

int xc_monitor_resume(xc_interface *xch, uint32_t domain_id)
{
    (void)xch;
    return (int)rpc("monitor_resume %u", domain_id);
}

int xc_monitor_get_capabilities(xc_interface *xch, uint32_t domain_id, uint32_t *capabilities)
{
    (void)xch;
    if (rpc("monitor_get_capabilities %u", domain_id) < 0) return -1;
    *capabilities = (uint32_t)next_value();
    return 0;
}

int xc_monitor_write_ctrlreg(xc_interface *xch, uint32_t domain_id, uint16_t index, bool enable, bool sync, uint64_t bitmask, bool onchangeonly)
{
    (void)xch, (void)sync, (void)bitmask, (void)onchangeonly;
    return (int)rpc("monitor write_ctrlreg %u %d %u", domain_id, enable, index);
}

int xc_monitor_mov_to_msr(xc_interface *xch, uint32_t domain_id, uint32_t msr, bool enable, bool onchangeonly)
{
    (void)xch, (void)msr, (void)onchangeonly;
    return (int)rpc("monitor mov_to_msr %u %d", domain_id, enable);
}

int xc_monitor_singlestep(xc_interface *xch, uint32_t domain_id, bool enable)
{
    (void)xch;
    return (int)rpc("monitor singlestep %u %d", domain_id, enable);
}

int xc_monitor_software_breakpoint(xc_interface *xch, uint32_t domain_id, bool enable)
{
    (void)xch;
    return (int)rpc("monitor software_breakpoint %u %d", domain_id, enable);
}

int xc_monitor_descriptor_access(xc_interface *xch, uint32_t domain_id, bool enable)
{
    (void)xch;
    return (int)rpc("monitor descriptor_access %u %d", domain_id, enable);
}

int xc_monitor_guest_request(xc_interface *xch, uint32_t domain_id, bool enable, bool sync, bool allow_userspace)
{
    (void)xch, (void)sync, (void)allow_userspace;
    return (int)rpc("monitor guest_request %u %d", domain_id, enable);
}

int xc_monitor_debug_exceptions(xc_interface *xch, uint32_t domain_id, bool enable, bool sync)
{
    (void)xch, (void)sync;
    return (int)rpc("monitor debug_exceptions %u %d", domain_id, enable);
}

int xc_monitor_cpuid(xc_interface *xch, uint32_t domain_id, bool enable)
{
    (void)xch;
    return (int)rpc("monitor cpuid %u %d", domain_id, enable);
}

int xc_monitor_privileged_call(xc_interface *xch, uint32_t domain_id, bool enable)
{
    (void)xch;
    return (int)rpc("monitor privileged_call %u %d", domain_id, enable);
}

int xc_monitor_emul_unimplemented(xc_interface *xch, uint32_t domain_id, bool enable)
{
    (void)xch;
    return (int)rpc("monitor emul_unimplemented %u %d", domain_id, enable);
}

int xc_monitor_vmexit(xc_interface *xch, uint32_t domain_id, bool enable, bool sync)
{
    (void)xch, (void)sync;
    return (int)rpc("monitor vmexit %u %d", domain_id, enable);
}

int xc_monitor_io(xc_interface *xch, uint32_t domain_id, bool enable)
{
    (void)xch;
    return (int)rpc("monitor io %u %d", domain_id, enable);
}

int xc_monitor_inguest_pagefault(xc_interface *xch, uint32_t domain_id, bool disable)
{
    (void)xch;
    return (int)rpc("monitor inguest_pagefault %u %d", domain_id, !disable);
}

int xc_monitor_emulate_each_rep(xc_interface *xch, uint32_t domain_id, bool enable)
{
    (void)xch;
    return (int)rpc("monitor emulate_each_rep %u %d", domain_id, enable);
}

int xc_vm_event_get_version(xc_interface *xch)
{
    (void)xch;
    return VM_EVENT_INTERFACE_VERSION;
}

int xc_set_mem_access(xc_interface *xch, uint32_t domain_id, xenmem_access_t access, uint64_t first_pfn, uint32_t nr)
{
    (void)xch;
    return (int)rpc("set_mem_access %u %d %" PRIu64 " %u", domain_id, (int)access, first_pfn, nr);
}

int xc_get_mem_access(xc_interface *xch, uint32_t domain_id, uint64_t pfn, xenmem_access_t *access)
{
    (void)xch;
    if (rpc("get_mem_access %u %" PRIu64, domain_id, pfn) < 0) return -1;
    *access = (xenmem_access_t)next_value();
    return 0;
}

int xc_domain_set_access_required(xc_interface *xch, uint32_t domid, unsigned int required)
{
    (void)xch;
    return (int)rpc("set_access_required %u %u", domid, required);
}

/* The Xen 4.2–4.5 mem_access calls LibVMI still looks up; 4.17 has none of them. */
void *xc_mem_access_enable(xc_interface *xch, uint32_t domain_id, uint32_t *port)
{
    (void)xch, (void)domain_id, (void)port;
    unmodelled("xc_mem_access_enable");
    return NULL;
}

int xc_mem_access_disable(xc_interface *xch, uint32_t domain_id)
{
    (void)xch, (void)domain_id;
    return unmodelled("xc_mem_access_disable");
}

int xc_mem_access_resume(xc_interface *xch, uint32_t domain_id)
{
    (void)xch, (void)domain_id;
    return unmodelled("xc_mem_access_resume");
}

/* ------------------------------------------------------------------ event channels */

struct xc_evtchn { struct conn c; };
typedef struct xc_evtchn xce_t;

xc_evtchn *xc_evtchn_open(xentoollog_logger *logger, unsigned open_flags)
{
    (void)logger, (void)open_flags;
    xce_t *x = calloc(1, sizeof(*x));
    x->c.fd = dial();
    write_all(x->c.fd, "evtchn\n", 7);
    /* Registered with the bridge over the control connection, so it knows where to ring. */
    return (xc_evtchn *)x;
}

int xc_evtchn_close(xc_evtchn *xce)
{
    xce_t *x = (xce_t *)xce;
    close(x->c.fd);
    free(x);
    return 0;
}

int xc_evtchn_fd(xc_evtchn *xce)
{
    return ((xce_t *)xce)->c.fd;
}

evtchn_port_or_error_t xc_evtchn_bind_interdomain(xc_evtchn *xce, uint32_t domid, evtchn_port_t remote_port)
{
    (void)xce;
    return (evtchn_port_or_error_t)rpc("bind_interdomain %u %u", domid, remote_port);
}

int xc_evtchn_unbind(xc_evtchn *xce, evtchn_port_t port)
{
    (void)xce;
    return (int)rpc("unbind %u", port);
}

int xc_evtchn_unmask(xc_evtchn *xce, evtchn_port_t port)
{
    (void)xce, (void)port;
    return 0;
}

/* Puts the requests the bridge holds onto the ring, as vm_event_put_request does. */
static int push_requests(void)
{
    long n = rpc("take_requests %u", ring_domid);
    if (n < 0) return -1;
    if (!ring_page) return 0;
    if (!front_attached) {
        FRONT_RING_INIT(&front, ring_page, PAGE);
        front_attached = 1;
    }
    for (long i = 0; i < n; i++) {
        vm_event_request_t req;
        memset(&req, 0, sizeof(req));
        req.version = VM_EVENT_INTERFACE_VERSION;
        req.reason = (uint32_t)next_value();
        req.vcpu_id = (uint32_t)next_value();
        req.flags = (uint32_t)next_value();
        uint64_t gfn = next_value(), offset = next_value(), access = next_value(), rip = next_value(), oldv = next_value(), newv = next_value(), cr3 = next_value();
        switch (req.reason) {
            case VM_EVENT_REASON_MEM_ACCESS:
                req.u.mem_access.gfn = gfn;
                req.u.mem_access.offset = offset;
                req.u.mem_access.flags = (uint32_t)access;
                break;
            case VM_EVENT_REASON_WRITE_CTRLREG:
                req.u.write_ctrlreg.index = VM_EVENT_X86_CR3;
                req.u.write_ctrlreg.old_value = oldv;
                req.u.write_ctrlreg.new_value = newv;
                break;
            case VM_EVENT_REASON_SOFTWARE_BREAKPOINT:
                req.u.software_breakpoint.gfn = gfn;
                req.u.software_breakpoint.insn_length = 1;
                break;
            case VM_EVENT_REASON_SINGLESTEP:
                req.u.singlestep.gfn = gfn;
                break;
        }
        req.data.regs.x86.rip = rip;
        req.data.regs.x86.cr3 = cr3;
        req.data.regs.x86.cr0 = 0x80050033;
        req.data.regs.x86.cr4 = 0x20;
        req.data.regs.x86.msr_efer = 0xd01;
        req.data.regs.x86.cs.ar = 0xa9b; /* 64-bit code segment, packed */
        memcpy(RING_GET_REQUEST(&front, front.req_prod_pvt), &req, sizeof(req));
        front.req_prod_pvt++;
    }
    RING_PUSH_REQUESTS(&front);
    return 0;
}

evtchn_port_or_error_t xc_evtchn_pending(xc_evtchn *xce)
{
    xce_t *x = (xce_t *)xce;
    char one;
    read_exact(&x->c, &one, 1);
    long port = rpc("pending_port");
    if (port < 0) return -1;
    if (push_requests() < 0) return -1;
    return (evtchn_port_or_error_t)port;
}

/* Takes the client's responses off the ring (vm_event_resume's reading side), then notifies. */
int xc_evtchn_notify(xc_evtchn *xce, evtchn_port_t port)
{
    (void)xce;
    if (ring_page && front_attached) {
        RING_IDX prod = ring_page->rsp_prod;
        __sync_synchronize();
        while (front.rsp_cons != prod) {
            vm_event_response_t rsp;
            memcpy(&rsp, RING_GET_RESPONSE(&front, front.rsp_cons), sizeof(rsp));
            front.rsp_cons++;
            rpc("response %u %u %u", rsp.vcpu_id, rsp.reason, rsp.flags);
        }
        ring_page->rsp_event = front.rsp_cons + 1;
    }
    return (int)rpc("notify %u", port);
}

/* ------------------------------------------------------------------ libxenstore */

struct xs_handle { int unused; };

struct xs_handle *xs_open(unsigned long flags)
{
    (void)flags;
    if (rpc("xs_open") < 0) return NULL;
    return calloc(1, sizeof(struct xs_handle));
}

void xs_close(struct xs_handle *xsh)
{
    free(xsh);
}

/* Reads a reply's payload of `len` bytes into a fresh buffer with a NUL after it. */
static char *payload(size_t len)
{
    char *p = malloc(len + 1);
    read_exact(&link_, p, len);
    p[len] = 0;
    return p;
}

char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *num)
{
    (void)h, (void)t;
    if (strchr(path, '\n')) {
        errno = EINVAL;
        return NULL;
    }
    long n = rpc("xs_directory %s", path);
    if (n < 0) return NULL;
    size_t bytes = (size_t)next_value();
    char *text = payload(bytes);
    /* One block, as libxenstore returns it: the pointer array, then the strings. */
    char **out = malloc((size_t)n * sizeof(char *) + bytes + 1);
    char *strings = (char *)(out + n);
    memcpy(strings, text, bytes + 1);
    free(text);
    char *s = strings;
    for (long i = 0; i < n; i++) {
        out[i] = s;
        s += strlen(s) + 1;
    }
    *num = (unsigned)n;
    return out;
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len)
{
    (void)h, (void)t;
    if (strchr(path, '\n')) {
        errno = EINVAL;
        return NULL;
    }
    long n = rpc("xs_read %s", path);
    if (n < 0) return NULL;
    char *value = payload((size_t)n);
    if (len) *len = (unsigned)n;
    return value;
}

int xs_fileno(struct xs_handle *h)
{
    (void)h;
    return -1;
}

bool xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
    (void)h;
    return rpc("xs_is_domain_introduced %u", domid) > 0;
}

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
    (void)h, (void)token;
    rpc("xs_watch %s", path);
    return false;
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
    (void)h, (void)token;
    return rpc("xs_unwatch %s", path) >= 0;
}

char **xs_read_watch(struct xs_handle *h, unsigned int *num)
{
    (void)h, (void)num;
    unmodelled("xs_read_watch");
    return NULL;
}

/* ------------------------------------------------------------------ libxenevtchn (xen-access links it) */

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
    return (xenevtchn_handle *)xc_evtchn_open(logger, flags);
}

int xenevtchn_close(xenevtchn_handle *xce)
{
    return xc_evtchn_close((xc_evtchn *)xce);
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
    return xc_evtchn_fd((xc_evtchn *)xce);
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
    return xc_evtchn_notify((xc_evtchn *)xce, port);
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid, evtchn_port_t remote_port)
{
    return xc_evtchn_bind_interdomain((xc_evtchn *)xce, domid, remote_port);
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
    return xc_evtchn_unbind((xc_evtchn *)xce, port);
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
    return xc_evtchn_pending((xc_evtchn *)xce);
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
    return xc_evtchn_unmask((xc_evtchn *)xce, port);
}

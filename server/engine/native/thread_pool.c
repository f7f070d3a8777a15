// The addon's thread pool: worker threads started on first use and kept for the addon's lifetime.
// Starting threads per call cost ~20-40 us each, and each new thread's first large allocations went
// to the kernel (mmap, page faults: up to ~2 ms of system time per conv call).
//
// Between jobs a worker spins for a short while (GOWIDE_POOL_SPIN_US, default POOL_SPIN_US) before
// it sleeps on a condition variable, and the caller spins likewise while it waits for the workers:
// waking a sleeping thread took longer than the halves of a training step's mid-sized products
// (see sgemm.c's split threshold), which come every few tens of microseconds.
//
// gowide_run_threads runs fn on each of `threads` work items: the calling thread runs item 0, the
// workers and then the caller again claim the items left one at a time, so an item whose worker
// is not scheduled yet (another job on the other core) runs on the caller instead of being waited
// for. Calls from a second thread while the pool is busy, or when no worker can start, run every
// item on the calling thread.
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "gowide_addon.h"

#define POOL_SPIN_US 200

#if defined(__SSE2__)
#include <emmintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

static struct {
  pthread_mutex_t use;  // held by the caller running a job on the pool
  pthread_mutex_t lock; // guards the fields below
  pthread_cond_t start, done;
  int workers;          // workers started
  _Atomic uint64_t generation; // incremented per job (read without the lock while spinning)
  void *(*fn)(void *);
  char *items;
  size_t size;
  int count, next;      // items in the job; the next one not claimed yet
  _Atomic int running;  // items claimed by workers and not finished
  _Atomic double spin_us; // the spin time the caller read for the workers (they never call getenv)
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL, NULL, 0, 0, 0, 0, POOL_SPIN_US};

static __thread bool pool_worker_thread;

bool gowide_on_pool_worker(void) { return pool_worker_thread; }

// With pool.lock held: claims and runs the job's items left (the lock released while one runs).
static void run_unclaimed_items(bool worker) {
  while (pool.next < pool.count) {
    void *(*fn)(void *) = pool.fn;
    char *work = pool.items + pool.size * (size_t)pool.next++;
    if (worker) pool.running++;
    pthread_mutex_unlock(&pool.lock);
    fn(work);
    pthread_mutex_lock(&pool.lock);
    if (worker && --pool.running == 0) pthread_cond_signal(&pool.done);
  }
}

// Microseconds a waiting thread spins before it sleeps: GOWIDE_POOL_SPIN_US (0 never spins), read
// by the calling thread at each job so that a benchmark can switch it between runs; the workers take
// the value it read (getenv on a worker could race with a setenv on the calling thread).
static double spin_microseconds(void) {
  if (!pool_worker_thread) {
    const char *text = getenv("GOWIDE_POOL_SPIN_US");
    atomic_store(&pool.spin_us, text != NULL ? atof(text) : POOL_SPIN_US);
  }
  return atomic_load(&pool.spin_us);
}

static double now_microseconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

// Spins (without the lock) until done(argument), for at most the spin time.
static void spin_until(bool (*done)(const void *), const void *argument) {
  const double budget = spin_microseconds();
  if (budget <= 0) return;
  const double end = now_microseconds() + budget;
  while (!done(argument) && now_microseconds() < end) CPU_RELAX();
}

static bool job_posted_after(const void *seen) {
  return atomic_load_explicit(&pool.generation, memory_order_acquire) != *(const uint64_t *)seen;
}

static bool workers_finished(const void *unused) {
  (void)unused;
  return atomic_load_explicit(&pool.running, memory_order_acquire) == 0;
}

static void *pool_worker(void *argument) {
  (void)argument;
  pool_worker_thread = true;
  uint64_t seen = 0;
  for (;;) {
    spin_until(job_posted_after, &seen);
    pthread_mutex_lock(&pool.lock);
    while (pool.generation == seen) pthread_cond_wait(&pool.start, &pool.lock);
    seen = pool.generation;
    run_unclaimed_items(true);
    pthread_mutex_unlock(&pool.lock);
  }
  return NULL;
}

int gowide_threads(int64_t requested, int64_t items) {
  int64_t threads = requested < GOWIDE_MAX_THREADS ? requested : GOWIDE_MAX_THREADS;
  if (threads > items) threads = items;
  return threads < 1 ? 1 : (int)threads;
}

bool gowide_run_threads(void *(*fn)(void *), void *work, size_t size, int threads, size_t failed_offset) {
  char *items = (char *)work;
  if (threads < 2 || pthread_mutex_trylock(&pool.use) != 0) {
    for (int t = 0; t < threads; t++) fn(items + size * (size_t)t);
  } else {
    pthread_mutex_lock(&pool.lock);
    while (pool.workers < threads - 1) {
      pthread_t handle;
      if (pthread_create(&handle, NULL, pool_worker, NULL) != 0) break;
      pthread_detach(handle);
      pool.workers++;
    }
    pool.fn = fn;
    pool.items = items;
    pool.size = size;
    pool.count = threads;
    pool.next = 1; // item 0 is the caller's
    pool.running = 0;
    pool.generation++;
    pthread_cond_broadcast(&pool.start);
    pthread_mutex_unlock(&pool.lock);
    fn(items);
    pthread_mutex_lock(&pool.lock);
    run_unclaimed_items(false);
    if (pool.running > 0) {
      pthread_mutex_unlock(&pool.lock);
      spin_until(workers_finished, NULL);
      pthread_mutex_lock(&pool.lock);
    }
    while (pool.running > 0) pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.use);
  }
  bool ok = true;
  for (int t = 0; t < threads; t++) ok = ok && !*(const bool *)(items + size * (size_t)t + failed_offset);
  return ok;
}

typedef struct {
  GowideRangeFn fn;
  void *context;
  int64_t begin, end;
  int part;
  bool failed; // never set: gowide_run_threads' protocol
} RangeShare;

static void *run_range_share(void *argument) {
  const RangeShare *s = (const RangeShare *)argument;
  if (s->end > s->begin) s->fn(s->context, s->begin, s->end, s->part);
  return NULL;
}

double gowide_split_min_values(void) {
  const char *text = getenv("GOWIDE_SPLIT_MIN_VALUES");
  const double value = text != NULL ? atof(text) : 0;
  return value > 0 ? value : GOWIDE_SPLIT_MIN_VALUES;
}

int gowide_parallel_ranges(GowideRangeFn fn, void *context, int64_t count, int64_t values_per_item, int64_t align, int threads) {
  if (count <= 0) return 0;
  if (align < 1) align = 1;
  if ((double)count * (double)values_per_item < gowide_split_min_values()) threads = 1;
  threads = gowide_threads(threads, (count + align - 1) / align);
  if (threads == 1) {
    fn(context, 0, count, 0);
    return 1;
  }
  RangeShare shares[GOWIDE_MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    const int64_t begin = count * t / threads / align * align, end = t == threads - 1 ? count : count * (t + 1) / threads / align * align;
    shares[t] = (RangeShare){fn, context, begin, end, t, false};
  }
  gowide_run_threads(run_range_share, shares, sizeof shares[0], threads, offsetof(RangeShare, failed));
  return threads;
}

static __thread float *thread_buffers[2];
static __thread size_t thread_buffer_sizes[2];

float *gowide_thread_buffer(int slot, size_t count) {
  if (thread_buffer_sizes[slot] < count) {
    free(thread_buffers[slot]);
    thread_buffers[slot] = malloc(sizeof(float) * count);
    thread_buffer_sizes[slot] = thread_buffers[slot] == NULL ? 0 : count;
  }
  return thread_buffers[slot];
}

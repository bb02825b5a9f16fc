/* Fused gather-contract-scatter of equiforce's uvu convolution, forward and backward.
 *
 * For every edge e = (i <- j) and path p (input slots a0..a0+d_in of x, output slots
 * k0..k0+d_out of out, weights M[e][q0 + k * d_in + a]: the Clebsch-Gordan contraction
 * with the edge harmonics times the envelope, computed by the caller):
 *
 *   out[i][k0+k][u] += R[e][p][u] * sum_a M[e][q0 + k*d_in + a] * x[j][a0+a][u]
 *
 * Layouts (row-major, contiguous): x (N, Din, U), M (E, Q), R (E_R, P, U), centre and
 * neighbour (E,) int64, out (T, N, K, U): one slice per thread, summed by the caller.
 * Mirrored edge lists (E_R = E / 2): edge h + E/2 is the reverse of edge h, so both use
 * R row h (the radial weights depend only on the length); then threads take ranges of
 * rows and handle both edges of a row, so dL/dR[h] is written by one thread only.
 * The backward pass writes dL/dx (T, N, Din, U, per thread), dL/dM (E, Q) and
 * dL/dR (E, P, U) for a given dL/dout (N, K, U).
 * Threads (pthreads) take contiguous ranges of edges; nothing is allocated in the loops.
 * Compiled with -fopenmp-simd: the pragmas vectorise reductions; no OpenMP runtime.
 */
#include <pthread.h>
#include <stdint.h>

#define ABI_VERSION 3
#define MAX_THREADS 256

int equiforce_edge_kernel_abi(void) { return ABI_VERSION; }

typedef struct {
    int64_t num_edges, num_nodes;
    int32_t U, Din, K, Q, P;
    const int32_t *paths;  /* P x 5: a0, d_in, k0, d_out, q0 */
    const void *x, *M, *R, *grad_out;
    const int64_t *centre, *neighbour;
    void *out, *grad_x, *grad_M, *grad_R;
    int64_t num_rows;      /* rows of R: E, or E / 2 for a mirrored list */
    int64_t start, stop;   /* this thread's rows of R */
    int thread;
} Job;

#define DEFINE_KERNELS(T, SUFFIX)                                                          \
static void *forward_range_##SUFFIX(void *arg) {                                           \
    const Job *job = (const Job *)arg;                                                     \
    const int U = job->U, Din = job->Din, K = job->K, Q = job->Q, P = job->P;              \
    const T *x = job->x, *M = job->M, *R = job->R;                                         \
    T *out = (T *)job->out + (int64_t)job->thread * job->num_nodes * K * U;                \
    const int64_t mirror = job->num_rows == job->num_edges ? 1 : 2;                        \
    for (int64_t row = job->start; row < job->stop; ++row)                                 \
    for (int64_t e = row; e < row + mirror * job->num_rows; e += job->num_rows) {          \
        const T *xj = x + job->neighbour[e] * Din * U;                                     \
        T *oi = out + job->centre[e] * K * U;                                              \
        const T *me = M + e * Q;                                                           \
        for (int p = 0; p < P; ++p) {                                                      \
            const int32_t *q = job->paths + 5 * p;                                         \
            const int32_t a0 = q[0], d_in = q[1], k0 = q[2], d_out = q[3];                 \
            const T *restrict r = R + (row * P + p) * U;                                   \
            for (int k = 0; k < d_out; ++k) {                                              \
                T *restrict o = oi + (k0 + k) * U;                                         \
                for (int a = 0; a < d_in; ++a) {                                           \
                    const T c = me[q[4] + k * d_in + a];                                   \
                    const T *restrict xa = xj + (a0 + a) * U;                              \
                    _Pragma("omp simd")                                                    \
                    for (int u = 0; u < U; ++u) o[u] += c * xa[u] * r[u];                  \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
    }                                                                                      \
    return NULL;                                                                           \
}                                                                                          \
                                                                                           \
static void *backward_range_##SUFFIX(void *arg) {                                          \
    const Job *job = (const Job *)arg;                                                     \
    const int U = job->U, Din = job->Din, K = job->K, Q = job->Q, P = job->P;              \
    const T *x = job->x, *M = job->M, *R = job->R, *G = job->grad_out;                     \
    T *gx = (T *)job->grad_x + (int64_t)job->thread * job->num_nodes * Din * U;            \
    T *gM = job->grad_M, *gR = job->grad_R;                                                \
    const int64_t mirror = job->num_rows == job->num_edges ? 1 : 2;                        \
    for (int64_t i = job->start * P * U; i < job->stop * P * U; ++i) gR[i] = 0;            \
    for (int64_t row = job->start; row < job->stop; ++row)                                 \
    for (int64_t e = row; e < row + mirror * job->num_rows; e += job->num_rows) {          \
        const T *xj = x + job->neighbour[e] * Din * U;                                     \
        T *gxj = gx + job->neighbour[e] * Din * U;                                         \
        const T *gi = G + job->centre[e] * K * U;                                          \
        const T *me = M + e * Q;                                                           \
        T *gme = gM + e * Q;                                                               \
        for (int p = 0; p < P; ++p) {                                                      \
            const int32_t *q = job->paths + 5 * p;                                         \
            const int32_t a0 = q[0], d_in = q[1], k0 = q[2], d_out = q[3];                 \
            const T *restrict r = R + (row * P + p) * U;                                   \
            T *restrict gr = gR + (row * P + p) * U;                                       \
            for (int k = 0; k < d_out; ++k) {                                              \
                const T *restrict g = gi + (k0 + k) * U;                                   \
                for (int a = 0; a < d_in; ++a) {                                           \
                    const T c = me[q[4] + k * d_in + a];                                   \
                    const T *restrict xa = xj + (a0 + a) * U;                              \
                    T *restrict gxa = gxj + (a0 + a) * U;                                  \
                    T s = 0;                                                               \
                    _Pragma("omp simd reduction(+:s)")                                     \
                    for (int u = 0; u < U; ++u) {                                          \
                        const T gu = g[u] * xa[u];                                         \
                        gr[u] += c * gu;                                                   \
                        gxa[u] += c * g[u] * r[u];                                         \
                        s += gu * r[u];                                                    \
                    }                                                                      \
                    gme[q[4] + k * d_in + a] = s;                                          \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
    }                                                                                      \
    return NULL;                                                                           \
}

DEFINE_KERNELS(float, f32)
DEFINE_KERNELS(double, f64)

static void run_threads(const Job *base, int num_threads, void *(*work)(void *)) {
    Job jobs[MAX_THREADS];
    pthread_t threads[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    if (num_threads < 1) num_threads = 1;
    if (num_threads > MAX_THREADS) num_threads = MAX_THREADS;
    for (int t = 0; t < num_threads; ++t) {
        jobs[t] = *base;
        jobs[t].thread = t;
        jobs[t].start = base->num_rows * t / num_threads;
        jobs[t].stop = base->num_rows * (t + 1) / num_threads;
    }
    for (int t = 1; t < num_threads; ++t)
        started[t] = pthread_create(&threads[t], NULL, work, &jobs[t]) == 0;
    work(&jobs[0]);
    for (int t = 1; t < num_threads; ++t) {
        if (started[t]) pthread_join(threads[t], NULL);
        else work(&jobs[t]);   /* the thread could not start: do its range here */
    }
}

int equiforce_edge_forward(int is_double, int64_t num_edges, int64_t num_rows,
                           int64_t num_nodes, int32_t U, int32_t Din, int32_t K, int32_t Q,
                           int32_t P, const int32_t *paths, const void *x, const void *M,
                           const void *R, const int64_t *centre, const int64_t *neighbour,
                           void *out, int num_threads) {
    if (num_rows != num_edges && 2 * num_rows != num_edges) return 1;
    Job base = {num_edges, num_nodes, U, Din, K, Q, P, paths, x, M, R, 0, centre, neighbour,
                out, 0, 0, 0, num_rows, 0, 0, 0};
    run_threads(&base, num_threads, is_double ? forward_range_f64 : forward_range_f32);
    return 0;
}

int equiforce_edge_backward(int is_double, int64_t num_edges, int64_t num_rows,
                            int64_t num_nodes, int32_t U, int32_t Din, int32_t K, int32_t Q,
                            int32_t P, const int32_t *paths, const void *x, const void *M,
                            const void *R, const int64_t *centre, const int64_t *neighbour,
                            const void *grad_out, void *grad_x, void *grad_M, void *grad_R,
                            int num_threads) {
    if (num_rows != num_edges && 2 * num_rows != num_edges) return 1;
    Job base = {num_edges, num_nodes, U, Din, K, Q, P, paths, x, M, R, grad_out, centre,
                neighbour, 0, grad_x, grad_M, grad_R, num_rows, 0, 0, 0};
    run_threads(&base, num_threads, is_double ? backward_range_f64 : backward_range_f32);
    return 0;
}

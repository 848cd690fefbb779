// Reductions over rows and columns of row-major [rows, cols] matrices.

// out[c] += sum_r x[r, c] * (w ? w[r] : 1). Blocks of 32x8 threads: x over columns, y over a
// strided share of the rows; a shared-memory sum over y and one atomic per column and block.
extern "C" __global__ void adj_col_sum(float* out, const float* x, const float* w, int rows, int cols) {
    __shared__ float part[8][33];
    int c = blockIdx.x * 32 + threadIdx.x;
    float s = 0.0f;
    if (c < cols) {
        for (int r = blockIdx.y * 8 + threadIdx.y; r < rows; r += gridDim.y * 8) {
            float v = x[(long long)r * cols + c];
            s += w ? v * w[r] : v;
        }
    }
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) {
        float t = 0.0f;
        for (int k = 0; k < 8; k++) t += part[k][threadIdx.x];
        atomicAdd(&out[c], t);
    }
}

// out[r] (+)= sum_c x[r, c] * (w ? w[c] : 1): one warp per row.
extern "C" __global__ void adj_row_dot(float* out, const float* x, const float* w, int rows, int cols, int accumulate) {
    int lane = threadIdx.x & 31;
    int warps = (blockDim.x >> 5) * gridDim.x;
    for (int r = (blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < rows; r += warps) {
        const float* row = x + (long long)r * cols;
        float s = 0.0f;
        for (int c = lane; c < cols; c += 32) s += w ? row[c] * w[c] : row[c];
        s = adj_warp_sum(s);
        if (lane == 0) out[r] = accumulate ? out[r] + s : s;
    }
}

package adjoint

// buffer is the FIFO replay buffer of terminal states X_1 and their regression targets
// −∇g(X_1), in ring storage: once full, each new sample overwrites the oldest.
type buffer struct {
	cap, dim int
	x, y     []float64 // n·dim each
	n, next  int       // samples held; slot the next sample goes to once full
}

// newBuffer returns an empty buffer of capacity samples of dimension dim.
func newBuffer(capacity, dim int) buffer { return buffer{cap: capacity, dim: dim} }

// push appends the samples of x (len(x)/dim of them) with their targets y.
func (b *buffer) push(x, y []float64) {
	for k := 0; k < len(x)/b.dim; k++ {
		if b.n < b.cap {
			b.x = append(b.x, x[k*b.dim:(k+1)*b.dim]...)
			b.y = append(b.y, y[k*b.dim:(k+1)*b.dim]...)
			b.n++
			b.next = b.n % b.cap
			continue
		}
		copy(b.x[b.next*b.dim:(b.next+1)*b.dim], x[k*b.dim:(k+1)*b.dim])
		copy(b.y[b.next*b.dim:(b.next+1)*b.dim], y[k*b.dim:(k+1)*b.dim])
		b.next = (b.next + 1) % b.cap
	}
}

// state returns sample j's terminal state and target (views into the buffer).
func (b *buffer) state(j int) (x1, target []float64) {
	return b.x[j*b.dim : (j+1)*b.dim], b.y[j*b.dim : (j+1)*b.dim]
}

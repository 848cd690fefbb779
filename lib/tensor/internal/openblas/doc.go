// Package openblas holds the cgo calls to OpenBLAS that gonum's netlib binding lacks; it is
// empty unless built with the openblas tag.
package openblas

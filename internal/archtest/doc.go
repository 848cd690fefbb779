// Package archtest holds the test that keeps the package layering of docs/architecture.md
// true: it parses every package of the module and fails when an import breaks a rule.
package archtest

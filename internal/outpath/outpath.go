// Package outpath checks, before any work starts, that the files a command or a script will
// write can be written: the folder exists, is a folder and accepts a new file, and the path is
// not itself a folder. Relative paths are taken against the working directory, and errors show
// the absolute path they resolved to.
package outpath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Abs returns the absolute form of path (path itself when the working directory is unknown).
func Abs(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}

// Check reports whether a file can be written at path; what names the file in the error
// (e.g. "checkpoint"). It leaves nothing behind: writability is tested by creating and removing
// a temporary file in the folder.
func Check(path, what string) error {
	if path == "" {
		return fmt.Errorf("%s: empty file name", what)
	}
	abs := Abs(path)
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return fmt.Errorf("%s %s (%s) is a folder, not a file", what, path, abs)
	}
	dir := filepath.Dir(abs)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s %s: folder %s does not exist", what, path, dir)
	case err != nil:
		return fmt.Errorf("%s %s: folder %s: %w", what, path, dir, err)
	case !st.IsDir():
		return fmt.Errorf("%s %s: %s is not a folder", what, path, dir)
	}
	f, err := os.CreateTemp(dir, ".adjoint-write-check-*")
	if err != nil {
		return fmt.Errorf("%s %s: folder %s is not writable: %w", what, path, dir, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// CheckInput reports whether path names a readable file; what names it in the error.
func CheckInput(path, what string) error {
	abs := Abs(path)
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s %s does not exist (looked for %s)", what, path, abs)
	case err != nil:
		return fmt.Errorf("%s %s: %w", what, path, unwrapPath(err))
	case st.IsDir():
		return fmt.Errorf("%s %s (%s) is a folder, not a file", what, path, abs)
	}
	return nil
}

// unwrapPath drops the path of a *PathError, which the messages above already show.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

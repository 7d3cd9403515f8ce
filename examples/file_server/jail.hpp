// Example library (file_server): a user's home the user cannot leave.
//
// Every path is resolved relative to an open descriptor of the home, one component at
// a time, each opened with O_NOFOLLOW: no string is ever handed to the kernel as a
// whole path, so a symlink anywhere (even one created after a check) cannot lead out,
// and '..', absolute paths and NUL bytes are refused before anything is opened.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace file_transfer {

/// An owned file descriptor, closed by the destructor.
class UniqueFd {
 public:
  UniqueFd() = default;
  /// Owns `fd` (-1 for none).
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}  ///< Takes the descriptor.
  UniqueFd& operator=(UniqueFd&& other) noexcept;                             ///< Takes the descriptor.
  /// The descriptor, still owned.
  int get() const noexcept { return fd_; }
  /// Gives up ownership: returns the descriptor, which the caller now closes.
  int release() noexcept { return std::exchange(fd_, -1); }
  /// Whether a descriptor is held.
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// A refused or failed file operation; what() is the message sent to the client, such
/// as "permission denied: ../x" or "no such file or directory: a.txt".
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One entry of a listing.
struct DirectoryEntry {
  std::string name;        ///< the entry's name
  char kind = '-';         ///< 'd' directory, '-' regular file, 'l' symlink, '?' other
  std::uint64_t size = 0;  ///< size in bytes (0 for directories)
};

/// File operations confined to one directory.
class Jail {
 public:
  /// Opens (creating it on first use, mode 0700) the home `user` under the root
  /// directory open on `rootFd`. The home itself must not be a symlink.
  /// @throws FileError if it cannot be created or opened.
  static Jail openHome(int rootFd, const std::string& user);

  /// A jail for the directory open on `home`.
  explicit Jail(UniqueFd home) : home_(std::move(home)) {}

  /// The components of a client path, or FileError("permission denied: PATH") for an
  /// absolute path, a '..' component, a NUL byte, or an over-long name. Empty and '.'
  /// components are dropped, so "" and "." name the home itself.
  static std::vector<std::string> split(std::string_view path);

  /// The entries of the directory `path` (sorted by name), or the one entry of a file.
  std::vector<DirectoryEntry> list(std::string_view path) const;

  /// Creates the directory `path` (its parent must exist).
  void makeDirectory(std::string_view path) const;

  /// Removes the file or empty directory `path` (a symlink is refused, as everywhere).
  void remove(std::string_view path) const;

  /// Opens the regular file `path` for reading.
  UniqueFd openForReading(std::string_view path) const;

  /// Where an upload to `path` is written until it is complete: the directory that
  /// will hold it and the names of the partial and the final file.
  struct Upload {
    UniqueFd directory;        ///< the parent directory, held open for the whole upload
    std::string finalName;     ///< the name the file gets once complete
    std::string partName;      ///< the hidden temporary name meanwhile: ".NAME.part"
    UniqueFd file;             ///< the partial file, open for reading (to hash it) and writing at its end
    std::uint64_t offset = 0;  ///< bytes already there (0 unless resuming)
  };

  /// Starts (or, with `resume`, continues) an upload to `path`.
  /// @throws FileError if `path` is refused, is a directory, or cannot be written.
  Upload beginUpload(std::string_view path, bool resume) const;

  /// Gives a finished upload its final name (atomically replacing an older file).
  static void commitUpload(Upload& upload, std::string_view path);

  /// Deletes an upload's partial file (after a checksum mismatch).
  static void discardUpload(Upload& upload);

 private:
  // The directory holding the last component of `parts`, opened component by component.
  UniqueFd openParent(const std::vector<std::string>& parts, std::string_view path) const;

  UniqueFd home_;
};

}  // namespace file_transfer

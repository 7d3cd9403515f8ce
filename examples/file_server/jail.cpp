#include "jail.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "wire.hpp"

namespace file_transfer {
namespace {

constexpr std::size_t kMaxName = 255;

FileError denied(std::string_view path) { return FileError("permission denied: " + printable(path)); }

// The client-facing error for `error` (an errno) on `path`.
FileError failure(int error, std::string_view path) {
  switch (error) {
    case ENOENT: return FileError("no such file or directory: " + printable(path));
    case EEXIST: return FileError("already exists: " + printable(path));
    case ENOTEMPTY: return FileError("directory not empty: " + printable(path));
    case ENOTDIR: return FileError("not a directory: " + printable(path));
    case EISDIR: return FileError("is a directory: " + printable(path));
    case ELOOP:
    case EACCES:
    case EPERM:
    case EXDEV: return denied(path);
    default: return FileError(std::string(std::strerror(error)) + ": " + printable(path));
  }
}

// What an open of `name` under `dir` with O_NOFOLLOW failing with `error` means: a
// symlink is refused as an escape, whatever it points to.
FileError openFailure(int dir, const std::string& name, int error, std::string_view path) {
  struct stat info {};
  if (::fstatat(dir, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(info.st_mode)) return denied(path);
  return failure(error, path);
}

UniqueFd openDirectory(int dir, const std::string& name, std::string_view path) {
  const int fd = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw openFailure(dir, name, errno, path);
  return UniqueFd(fd);
}

DirectoryEntry describe(const std::string& name, const struct stat& info) {
  DirectoryEntry entry{name, '?', 0};
  if (S_ISDIR(info.st_mode)) {
    entry.kind = 'd';
  } else if (S_ISREG(info.st_mode)) {
    entry.kind = '-';
    entry.size = static_cast<std::uint64_t>(info.st_size);
  } else if (S_ISLNK(info.st_mode)) {
    entry.kind = 'l';
  }
  return entry;
}

std::vector<DirectoryEntry> readDirectory(UniqueFd dir) {
  DIR* stream = ::fdopendir(dir.get());
  if (stream == nullptr) throw FileError(std::string("cannot list: ") + std::strerror(errno));
  (void)dir.release();  // the stream owns the descriptor now: closedir closes it
  std::vector<DirectoryEntry> entries;
  while (const dirent* item = ::readdir(stream)) {
    const std::string name = item->d_name;
    if (name == "." || name == "..") continue;
    struct stat info {};
    if (::fstatat(::dirfd(stream), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
    entries.push_back(describe(name, info));
  }
  ::closedir(stream);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return entries;
}

}  // namespace

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Jail Jail::openHome(int rootFd, const std::string& user) {
  if (::mkdirat(rootFd, user.c_str(), 0700) != 0 && errno != EEXIST) {
    throw FileError(std::string("cannot create the home directory: ") + std::strerror(errno));
  }
  const int fd = ::openat(rootFd, user.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw FileError(std::string("cannot open the home directory: ") + std::strerror(errno));
  return Jail(UniqueFd(fd));
}

std::vector<std::string> Jail::split(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) throw denied(path);
  if (!path.empty() && path.front() == '/') throw denied(path);
  std::vector<std::string> parts;
  std::string_view rest = path;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == ".." || part.size() > kMaxName) throw denied(path);
    parts.emplace_back(part);
  }
  return parts;
}

UniqueFd Jail::openParent(const std::vector<std::string>& parts, std::string_view path) const {
  UniqueFd dir(::dup(home_.get()));
  if (!dir) throw failure(errno, path);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) dir = openDirectory(dir.get(), parts[i], path);
  return dir;
}

std::vector<DirectoryEntry> Jail::list(std::string_view path) const {
  const auto parts = split(path);
  if (parts.empty()) return readDirectory(UniqueFd(::dup(home_.get())));
  const UniqueFd parent = openParent(parts, path);
  const int fd = ::openat(parent.get(), parts.back().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw openFailure(parent.get(), parts.back(), errno, path);
  UniqueFd target(fd);
  struct stat info {};
  if (::fstat(target.get(), &info) != 0) throw failure(errno, path);
  if (S_ISDIR(info.st_mode)) return readDirectory(std::move(target));
  return {describe(parts.back(), info)};
}

void Jail::makeDirectory(std::string_view path) const {
  const auto parts = split(path);
  if (parts.empty()) throw failure(EEXIST, path);
  const UniqueFd parent = openParent(parts, path);
  // mkdirat never follows a symlink in the last component: it reports EEXIST, which
  // for a symlink is said as the refusal it is.
  if (::mkdirat(parent.get(), parts.back().c_str(), 0755) != 0)
    throw openFailure(parent.get(), parts.back(), errno, path);
}

void Jail::remove(std::string_view path) const {
  const auto parts = split(path);
  if (parts.empty()) throw denied(path);  // the home itself
  const UniqueFd parent = openParent(parts, path);
  struct stat info {};
  if (::fstatat(parent.get(), parts.back().c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) throw failure(errno, path);
  // Every path naming a symlink is refused, the same for every command (unlinkat would
  // remove the link itself, never what it points to).
  if (S_ISLNK(info.st_mode)) throw denied(path);
  const int flags = S_ISDIR(info.st_mode) ? AT_REMOVEDIR : 0;
  if (::unlinkat(parent.get(), parts.back().c_str(), flags) != 0) throw failure(errno, path);
}

UniqueFd Jail::openForReading(std::string_view path) const {
  const auto parts = split(path);
  if (parts.empty()) throw failure(EISDIR, path);
  const UniqueFd parent = openParent(parts, path);
  const int fd = ::openat(parent.get(), parts.back().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw openFailure(parent.get(), parts.back(), errno, path);
  UniqueFd file(fd);
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) throw failure(errno, path);
  if (S_ISDIR(info.st_mode)) throw failure(EISDIR, path);
  if (!S_ISREG(info.st_mode)) throw denied(path);
  return file;
}

Jail::Upload Jail::beginUpload(std::string_view path, bool resume) const {
  const auto parts = split(path);
  if (parts.empty()) throw failure(EISDIR, path);
  Upload upload;
  upload.directory = openParent(parts, path);
  upload.finalName = parts.back();
  upload.partName = "." + parts.back() + ".part";
  if (upload.partName.size() > kMaxName) throw denied(path);
  struct stat info {};
  if (::fstatat(upload.directory.get(), upload.finalName.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(info.st_mode)) throw failure(EISDIR, path);
    if (S_ISLNK(info.st_mode)) throw denied(path);
  }
  const int flags = O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (resume ? 0 : O_TRUNC);
  const int fd = ::openat(upload.directory.get(), upload.partName.c_str(), flags, 0644);
  if (fd < 0) throw openFailure(upload.directory.get(), upload.partName, errno, path);
  upload.file = UniqueFd(fd);
  if (::fstat(upload.file.get(), &info) != 0) throw failure(errno, path);
  if (!S_ISREG(info.st_mode)) throw denied(path);
  upload.offset = static_cast<std::uint64_t>(info.st_size);
  if (::lseek(upload.file.get(), 0, SEEK_END) < 0) throw failure(errno, path);
  return upload;
}

void Jail::commitUpload(Upload& upload, std::string_view path) {
  // rename replaces a symlink of the final name by the file, never writes through it.
  if (::renameat(upload.directory.get(), upload.partName.c_str(), upload.directory.get(), upload.finalName.c_str()) !=
      0) {
    throw failure(errno, path);
  }
  upload.file = UniqueFd();
}

void Jail::discardUpload(Upload& upload) {
  ::unlinkat(upload.directory.get(), upload.partName.c_str(), 0);
  upload.file = UniqueFd();
}

}  // namespace file_transfer

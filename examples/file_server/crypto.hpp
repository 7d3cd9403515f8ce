// Example library (file_server): SHA-256, HMAC-SHA256 and random nonces (libcrypto).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace file_transfer {

/// Lower-case hexadecimal of `bytes`.
std::string toHex(std::string_view bytes);

/// An incremental SHA-256 (EVP).
class Sha256 {
 public:
  /// A fresh digest.
  /// @throws std::runtime_error if libcrypto cannot set it up.
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;             ///< Movable.
  Sha256& operator=(Sha256&&) noexcept;  ///< Movable.

  /// Adds `bytes` to the digest.
  void update(std::string_view bytes);

  /// Adds the first `length` bytes of the file open on `fd` (read with pread, so the
  /// file position is left alone).
  /// @throws std::runtime_error if the file is shorter or cannot be read.
  void updateFromFile(int fd, std::uint64_t length);

  /// The digest of everything added, in hex; the object is spent afterwards.
  std::string hexDigest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

/// A fresh nonce of 32 random bytes (RAND_bytes), in hex.
/// @throws std::runtime_error if the random generator fails.
std::string makeNonce();

/// HMAC-SHA256(secret, nonce), in hex: the answer to a login challenge.
std::string loginAnswer(std::string_view secret, std::string_view nonce);

/// Whether `answer` is the right answer to `nonce` for `secret`, compared in constant
/// time (CRYPTO_memcmp) so that the comparison does not leak how much of it matched.
bool answerMatches(std::string_view secret, std::string_view nonce, std::string_view answer);

}  // namespace file_transfer

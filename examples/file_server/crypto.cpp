#include "crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace file_transfer {

std::string toHex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0xf]);
  }
  return out;
}

struct Sha256::Context {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Context() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : context_(std::make_unique<Context>()) {
  if (context_->md == nullptr || EVP_DigestInit_ex(context_->md, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 is not available");
  }
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::string_view bytes) { EVP_DigestUpdate(context_->md, bytes.data(), bytes.size()); }

void Sha256::updateFromFile(int fd, std::uint64_t length) {
  std::vector<char> buffer(64 * 1024);
  std::uint64_t done = 0;
  while (done < length) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), length - done));
    const ssize_t got = ::pread(fd, buffer.data(), want, static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw std::runtime_error(std::string("reading the file failed: ") + std::strerror(errno));
    if (got == 0) throw std::runtime_error("the file is shorter than expected");
    update(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
    done += static_cast<std::uint64_t>(got);
  }
}

std::string Sha256::hexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_->md, digest, &length);
  return toHex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string makeNonce() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("the random generator failed");
  return toHex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string loginAnswer(std::string_view secret, std::string_view nonce) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(nonce.data()), nonce.size(), digest, &length);
  return toHex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

bool answerMatches(std::string_view secret, std::string_view nonce, std::string_view answer) {
  const std::string expected = loginAnswer(secret, nonce);
  // The length is public (64 hex digits); only the content is compared in constant time.
  if (answer.size() != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), answer.data(), expected.size()) == 0;
}

}  // namespace file_transfer

// SHA-256 digests (one-shot and streaming), shown as 64 lowercase hex characters.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace cairn {

std::string Sha256Hex(std::string_view bytes);
bool IsSha256Hex(std::string_view digest);

// Incremental hashing for streams (artifact uploads, large files).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view bytes);
  // Returns the hex digest; the hasher is spent afterwards.
  std::string FinishHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace cairn

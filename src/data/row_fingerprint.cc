#include "data/row_fingerprint.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "data/csv_reader.h"

namespace cairn::data {
namespace {

// FNV-1a, 64 bits, with a final avalanche (splitmix64's) so nearby rows spread.
class RowHasher {
 public:
  void Add(std::string_view bytes) {
    for (unsigned char c : bytes) {
      h_ ^= c;
      h_ *= 0x100000001b3ull;
    }
    // A separator no field can fake: the length, as 8 bytes.
    uint64_t n = bytes.size();
    for (int i = 0; i < 8; ++i, n >>= 8) {
      h_ ^= n & 0xff;
      h_ *= 0x100000001b3ull;
    }
  }
  uint64_t Finish() const {
    uint64_t z = h_ + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

class Fingerprinter : public CsvVisitor {
 public:
  Status OnHeader(std::span<const std::string> names) override {
    names_.assign(names.begin(), names.end());
    order_.resize(names.size());
    std::iota(order_.begin(), order_.end(), 0);
    std::sort(order_.begin(), order_.end(),
              [&](size_t a, size_t b) { return names_[a] < names_[b]; });
    return Status();
  }
  Status OnRow(std::span<const std::string_view> fields, int64_t /*line*/) override {
    RowHasher hasher;
    for (size_t i : order_) {
      hasher.Add(names_[i]);
      hasher.Add(fields[i]);
    }
    rows_.push_back(hasher.Finish());
    return Status();
  }
  std::vector<uint64_t> Take() { return std::move(rows_); }

 private:
  std::vector<std::string> names_;
  std::vector<size_t> order_;
  std::vector<uint64_t> rows_;
};

}  // namespace

Result<std::vector<uint64_t>> FingerprintCsvRows(std::string_view csv) {
  Fingerprinter fingerprinter;
  CAIRN_RETURN_IF_ERROR(ParseCsv(csv, fingerprinter));
  return fingerprinter.Take();
}

}  // namespace cairn::data

#include "data/csv_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/mapped_file.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CAIRN_CSV_AVX2 1
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <unordered_map>
#include <utility>

namespace cairn::data {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Bytes that end an unquoted field or need a decision there.
constexpr std::array<bool, 256> MakeSpecialTable() {
  std::array<bool, 256> table{};
  table[static_cast<unsigned char>(',')] = true;
  table[static_cast<unsigned char>('\n')] = true;
  table[static_cast<unsigned char>('\r')] = true;
  table[static_cast<unsigned char>('"')] = true;
  return table;
}
constexpr std::array<bool, 256> kSpecial = MakeSpecialTable();

// Scans an unquoted field: the first special byte at or after `p`, or `end`. Fields in tabular
// data are a few bytes long, so this is a table lookup per byte, not a vector scan.
inline const char* FindSpecial(const char* p, const char* end) {
  while (p < end && !kSpecial[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

std::string Describe(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7F) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", u);
  return buf;
}

// The quote parity at the end of `bytes`, starting from `in_quotes`.
bool QuoteParity(std::string_view bytes, bool in_quotes) {
  const size_t quotes = static_cast<size_t>(std::count(bytes.begin(), bytes.end(), '"'));
  return in_quotes != (quotes % 2 == 1);
}

// Where the row that `bytes` continues ends (one past its LF), given the quote parity at the
// start; npos if it does not end in `bytes`. Updates the parity to the end of what was scanned.
size_t ScanRowEnd(std::string_view bytes, bool* in_quotes) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  bool q = *in_quotes;
  while (p < end) {
    if (q) {
      const void* quote = std::memchr(p, '"', static_cast<size_t>(end - p));
      if (quote == nullptr) break;
      p = static_cast<const char*>(quote) + 1;
      q = false;
      continue;
    }
    const char c = *p++;
    if (c == '"') {
      q = true;
    } else if (c == '\n') {
      *in_quotes = false;
      return static_cast<size_t>(p - bytes.data());
    }
  }
  *in_quotes = q;
  return std::string_view::npos;
}

Status PrefixPath(const std::string& path, Status status) {
  if (status.ok()) return status;
  return Status(status.code(), path + ": " + status.message());
}

}  // namespace

// ------------------------------------------------------------------------------------------
// CsvParser
// ------------------------------------------------------------------------------------------

CsvParser::CsvParser(CsvVisitor& visitor) : visitor_(visitor) {}

Status CsvParser::Fail(Status status) {
  status_ = status;
  return status;
}

CsvParser::RowOutcome CsvParser::RowError(std::string message) {
  status_ = InvalidArgument(std::move(message));
  return RowOutcome::kError;
}

std::string CsvParser::Where(int64_t line, size_t column) const {
  std::string where = "line " + std::to_string(line) + ", column " + std::to_string(column + 1);
  if (column < header_.size()) where += " (" + header_[column] + ")";
  return where;
}

Status CsvParser::Feed(std::string_view bytes) {
  if (!status_.ok()) return status_;
  if (finished_) return Fail(Internal("CsvParser::Feed after Finish"));
  if (!bom_checked_) {
    if (head_.empty() && bytes.size() >= kBom.size()) {
      bom_checked_ = true;
      if (bytes.starts_with(kBom)) bytes.remove_prefix(kBom.size());
    } else {
      const size_t take = std::min(bytes.size(), kBom.size() - head_.size());
      head_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (head_.size() < kBom.size() && kBom.starts_with(head_)) return Status();
      bom_checked_ = true;
      std::string head = std::move(head_);
      head_.clear();
      if (head == kBom) head.clear();
      if (Status s = FeedData(head); !s.ok()) return s;
    }
  }
  return FeedData(bytes);
}

Status CsvParser::FeedData(std::string_view bytes) {
  while (!bytes.empty()) {
    if (carry_.empty()) {
      Result<size_t> consumed = ParseRows(bytes, /*final=*/false);
      if (!consumed.ok()) return consumed.status();
      carry_.assign(bytes.substr(*consumed));
      carry_in_quotes_ = QuoteParity(carry_, false);
      return Status();
    }
    const size_t row_end = ScanRowEnd(bytes, &carry_in_quotes_);
    if (row_end == std::string_view::npos) {
      carry_.append(bytes);
      return Status();
    }
    carry_.append(bytes.substr(0, row_end));
    bytes.remove_prefix(row_end);
    Result<size_t> consumed = ParseRows(carry_, /*final=*/false);
    if (!consumed.ok()) return consumed.status();
    carry_.erase(0, *consumed);
    carry_in_quotes_ = QuoteParity(carry_, false);
  }
  return Status();
}

Status CsvParser::Finish() {
  if (!status_.ok()) return status_;
  if (finished_) return Fail(Internal("CsvParser::Finish called twice"));
  if (!bom_checked_) {
    bom_checked_ = true;
    std::string head = std::move(head_);
    head_.clear();
    if (head == kBom) head.clear();
    if (Status s = FeedData(head); !s.ok()) return s;
  }
  finished_ = true;
  if (!carry_.empty()) {
    Result<size_t> consumed = ParseRows(carry_, /*final=*/true);
    if (!consumed.ok()) return consumed.status();
    carry_.clear();
  }
  // Empty lines at the end are ignored.
  if (header_.empty()) return Fail(InvalidArgument("the file is empty: no header row"));
  return Status();
}

Result<size_t> CsvParser::ParseRows(std::string_view data, bool final) {
  const char* const begin = data.data();
  const char* const end = begin + data.size();
  const char* p = begin;
  while (p < end) {
    const char* row_end = nullptr;
    int64_t lines_in_row = 0;
    switch (ParseRow(p, end, final, &row_end, &lines_in_row)) {
      case RowOutcome::kIncomplete:
        return static_cast<size_t>(p - begin);
      case RowOutcome::kError:
        return status_;
      case RowOutcome::kEmptyLine:
        if (pending_empty_lines_++ == 0) first_empty_line_ = line_;
        break;
      case RowOutcome::kRow: {
        if (pending_empty_lines_ > 0) {
          if (Status s = FlushEmptyLines(); !s.ok()) return s;
        }
        if (Status s = header_.empty() ? DeliverHeader(line_) : DeliverRow(line_); !s.ok()) {
          return s;
        }
        break;
      }
    }
    line_ += lines_in_row;
    p = row_end;
  }
  return static_cast<size_t>(p - begin);
}

CsvParser::RowOutcome CsvParser::ParseRow(const char* begin, const char* end, bool final,
                                          const char** row_end, int64_t* lines_in_row) {
  const char* p = begin;
  int64_t line = line_;
  // Ends the row at a CR (at `cr`): CRLF ends it; a CR at the very end of the input too.
  // Returns kIncomplete when the byte after the CR is not known yet.
  auto end_at_cr = [&](const char* cr, size_t column, RowOutcome done) {
    if (cr + 1 == end) {
      if (!final) return RowOutcome::kIncomplete;
      *row_end = end;
      *lines_in_row = line - line_ + 1;
      return done;
    }
    if (cr[1] == '\n') {
      *row_end = cr + 2;
      *lines_in_row = line - line_ + 1;
      return done;
    }
    return RowError(Where(line, column) +
                    ": carriage return not followed by a line feed outside quotes");
  };

  // An empty line: one empty field, decided by the caller.
  if (*p == '\n') {
    *row_end = p + 1;
    *lines_in_row = 1;
    return RowOutcome::kEmptyLine;
  }
  if (*p == '\r') return end_at_cr(p, 0, RowOutcome::kEmptyLine);

  fields_.clear();
  scratch_.clear();
  escaped_.clear();
  for (;;) {
    const size_t column = fields_.size();
    if (p < end && *p == '"') {
      const int64_t open_line = line;
      const char* q = p + 1;
      const char* const start = q;
      bool escaped = false;
      size_t scratch_begin = 0;
      const char* close = nullptr;
      for (;;) {
        // Quoted fields are short: an inline loop beats a memchr call, and counts lines.
        const char* quote = q;
        int64_t newlines = 0;
        while (quote < end && *quote != '"') {
          newlines += *quote == '\n';
          ++quote;
        }
        line += newlines;
        if (quote == end) {
          if (!final) return RowOutcome::kIncomplete;
          return RowError(Where(line, column) +
                          ": unterminated quoted field (the quote opened on line " +
                          std::to_string(open_line) + ")");
        }
        if (quote + 1 == end && !final) return RowOutcome::kIncomplete;
        if (quote + 1 < end && quote[1] == '"') {  // "" stands for one quote
          if (!escaped) {
            escaped = true;
            scratch_begin = scratch_.size();
          }
          scratch_.append(q, static_cast<size_t>(quote + 1 - q));
          q = quote + 2;
          continue;
        }
        close = quote;
        break;
      }
      if (escaped) {
        scratch_.append(q, static_cast<size_t>(close - q));
        escaped_.push_back({column, scratch_begin, scratch_.size() - scratch_begin});
        fields_.emplace_back();
      } else {
        fields_.emplace_back(start, static_cast<size_t>(close - start));
      }
      p = close + 1;
      if (p == end) {  // only when final
        *row_end = end;
        *lines_in_row = line - line_;
        return RowOutcome::kRow;
      }
      const char c = *p;
      if (c == ',') {
        ++p;
        continue;
      }
      if (c == '\n') {
        *row_end = p + 1;
        *lines_in_row = line - line_ + 1;
        return RowOutcome::kRow;
      }
      if (c == '\r') return end_at_cr(p, column, RowOutcome::kRow);
      return RowError(Where(line, column) + ": unexpected character " + Describe(c) +
                      " after a closing quote");
    }
    const char* const start = p;
    p = FindSpecial(p, end);
    if (p == end) {
      if (!final) return RowOutcome::kIncomplete;
      fields_.emplace_back(start, static_cast<size_t>(p - start));
      *row_end = end;
      *lines_in_row = line - line_;
      return RowOutcome::kRow;
    }
    fields_.emplace_back(start, static_cast<size_t>(p - start));
    const char c = *p;
    if (c == ',') {
      ++p;
      continue;
    }
    if (c == '\n') {
      *row_end = p + 1;
      *lines_in_row = line - line_ + 1;
      return RowOutcome::kRow;
    }
    if (c == '\r') return end_at_cr(p, column, RowOutcome::kRow);
    return RowError(Where(line, column) + ": quote character inside an unquoted field");
  }
}

Status CsvParser::FlushEmptyLines() {
  const int64_t count = pending_empty_lines_;
  pending_empty_lines_ = 0;
  if (header_.empty()) {
    return Fail(InvalidArgument("line " + std::to_string(first_empty_line_) +
                                ": empty line before the header row"));
  }
  if (header_.size() != 1) {
    return Fail(InvalidArgument("line " + std::to_string(first_empty_line_) +
                                ": empty line, the header has " + std::to_string(header_.size()) +
                                " fields"));
  }
  const std::string_view missing[1] = {std::string_view()};
  for (int64_t i = 0; i < count; ++i) {
    if (Status s = visitor_.OnRow(missing, first_empty_line_ + i); !s.ok()) return Fail(s);
    ++rows_;
  }
  return Status();
}

Status CsvParser::DeliverHeader(int64_t line) {
  for (const Escaped& e : escaped_) {
    fields_[e.field] = std::string_view(scratch_).substr(e.offset, e.size);
  }
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].empty()) {
      return Fail(InvalidArgument(Where(line, i) + ": empty column name in the header"));
    }
    auto [it, inserted] = seen.emplace(fields_[i], i);
    if (!inserted) {
      return Fail(InvalidArgument(Where(line, i) + ": duplicate column name \"" +
                                  std::string(fields_[i]) + "\" (also column " +
                                  std::to_string(it->second + 1) + ")"));
    }
  }
  header_.assign(fields_.begin(), fields_.end());
  fields_.reserve(header_.size() + 1);
  if (Status s = visitor_.OnHeader(header_); !s.ok()) return Fail(s);
  return Status();
}

Status CsvParser::DeliverRow(int64_t line) {
  if (fields_.size() != header_.size()) {
    return Fail(InvalidArgument("line " + std::to_string(line) + ": " +
                                std::to_string(fields_.size()) +
                                (fields_.size() == 1 ? " field" : " fields") + ", the header has " +
                                std::to_string(header_.size())));
  }
  for (const Escaped& e : escaped_) {
    fields_[e.field] = std::string_view(scratch_).substr(e.offset, e.size);
  }
  if (Status s = visitor_.OnRow(fields_, line); !s.ok()) return Fail(s);
  ++rows_;
  return Status();
}

Status ParseCsv(std::string_view data, CsvVisitor& visitor) {
  CsvParser parser(visitor);
  if (Status s = parser.Feed(data); !s.ok()) return s;
  return parser.Finish();
}

Status ParseCsvFile(const std::string& path, CsvVisitor& visitor) {
  Result<std::unique_ptr<MappedFile>> file = MappedFile::Open(path);
  if (!file.ok()) return file.status();
  return PrefixPath(path, ParseCsv((*file)->bytes(), visitor));
}

// ------------------------------------------------------------------------------------------
// SplitCsvRows: the fast path
// ------------------------------------------------------------------------------------------

namespace {

// Bit i of each mask: byte i of a 64-byte window is that character.
struct WindowMasks {
  uint64_t quote = 0;
  uint64_t comma = 0;
  uint64_t lf = 0;
  uint64_t cr = 0;
};

inline WindowMasks ClassifyWindow(const char* p) {
  WindowMasks m;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  for (int i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    auto bits = [&](__m128i c) {
      return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, c))))
             << (16 * i);
    };
    m.quote |= bits(quote);
    m.comma |= bits(comma);
    m.lf |= bits(lf);
    m.cr |= bits(cr);
  }
#else
  for (int i = 0; i < 64; ++i) {
    const uint64_t bit = uint64_t{1} << i;
    switch (p[i]) {
      case '"':
        m.quote |= bit;
        break;
      case ',':
        m.comma |= bit;
        break;
      case '\n':
        m.lf |= bit;
        break;
      case '\r':
        m.cr |= bit;
        break;
      default:
        break;
    }
  }
#endif
  return m;
}

// Counts bits: std::popcount is a libgcc call on baseline x86-64 (no POPCNT).
inline int PopCount(uint64_t x) {
  x -= (x >> 1) & 0x5555555555555555ull;
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return static_cast<int>((x * 0x0101010101010101ull) >> 56);
}

struct BaselineIsa {
  static WindowMasks Classify(const char* p) { return ClassifyWindow(p); }
  static int Count(uint64_t x) { return PopCount(x); }
};

#if defined(CAIRN_CSV_AVX2)
// x86-64 with AVX2 and POPCNT (checked at run time): 32 bytes per compare.
struct Avx2Isa {
  // Not always_inline: GCC inlines these only once SplitRows sits in SplitRowsAvx2.
  __attribute__((target("avx2"))) static inline WindowMasks Classify(const char* p) {
    WindowMasks m;
    const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    const auto bits = [](__m256i a, __m256i b, char c) __attribute__((target("avx2"))) {
      const __m256i cc = _mm256_set1_epi8(c);
      const auto lo = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, cc)));
      const auto hi = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, cc)));
      return static_cast<uint64_t>(lo) | (static_cast<uint64_t>(hi) << 32);
    };
    m.quote = bits(v0, v1, '"');
    m.comma = bits(v0, v1, ',');
    m.lf = bits(v0, v1, '\n');
    m.cr = bits(v0, v1, '\r');
    return m;
  }
  __attribute__((target("popcnt"))) static inline int Count(uint64_t x) {
    return __builtin_popcountll(x);
  }
};
#endif

// Bit i: the parity of the bits 0..i of x (so a quoted region is marked from its opening quote
// up to, not including, its closing quote).
inline uint64_t PrefixXor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

}  // namespace

size_t TrimCsvEnd(std::string_view data) {
  size_t n = data.size();
  if (n > 0 && data[n - 1] == '\r') --n;  // a lone CR as the very last byte ends a row
  while (n > 0 && data[n - 1] == '\n') {
    --n;
    if (n > 0 && data[n - 1] == '\r') --n;
  }
  return n;
}

namespace {

// The body of SplitCsvRows for an instruction set (Isa: how to classify a window and count
// bits), always inlined into a function compiled for that instruction set.
template <typename Isa>
__attribute__((always_inline)) inline bool SplitRows(std::string_view data, size_t begin,
                                                     size_t columns, size_t target_bytes,
                                                     CsvRowBlock* block) {
  block->begin = block->end = begin;
  block->rows = 0;
  block->columns = columns;
  block->escapes = false;
  block->ends.clear();
  const size_t size = data.size();
  if (begin >= size) return begin == size;
  // A CR at the very end would pass for a CRLF with the virtual LF below (TrimCsvEnd leaves one
  // only where it is an error, or inside an unterminated quote).
  if (columns == 0 || data[size - 1] == '\r') return false;
  const char* const base = data.data();
  std::vector<uint32_t>& ends = block->ends;
  if (ends.capacity() < 1024) ends.reserve(1024);

  uint64_t in_quotes = 0;   // all ones while inside quotes at the start of the window
  uint64_t prev_sep = 1;    // the byte before the window ends a field (or is the block start)
  uint64_t prev_close = 0;  // the byte before the window is a closing quote
  size_t count = 0;         // separators recorded
  size_t complete = 0;      // separators of the complete rows (up to the last LF)
  size_t rows = 0;
  bool escapes = false;
  bool reached_end = false;
  alignas(16) char tail[64];
  for (size_t w = begin;; w += 64) {
    if (w > size) {
      reached_end = true;
      break;
    }
    if (w - begin > std::numeric_limits<uint32_t>::max() - 128) return false;
    WindowMasks m;
    if (w + 64 <= size) {
      m = Isa::Classify(base + w);
    } else {
      // The window holding the end of the data: zero padding, and a LF just past the end.
      std::memset(tail, 0, sizeof tail);
      std::memcpy(tail, base + w, size - w);
      tail[size - w] = '\n';
      m = Isa::Classify(tail);
    }
    const uint64_t inside = PrefixXor(m.quote) ^ in_quotes;
    in_quotes = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
    const uint64_t sep = (m.comma | m.lf) & ~inside;
    const uint64_t lf = m.lf & ~inside;
    const uint64_t open = m.quote & inside;
    const uint64_t close = m.quote & ~inside;
    const uint64_t cr = m.cr & ~inside;
    // A quote opens only at the start of a field, or right after a closing quote ("").
    uint64_t bad = open & ~((sep << 1) | prev_sep | (close << 1) | prev_close);
    // A closing quote is followed by a separator, a CR or a quote; a CR outside quotes by a LF.
    constexpr uint64_t kLast = uint64_t{1} << 63;
    bad |= close & ~((sep | cr | open) >> 1) & ~kLast;
    bad |= cr & ~(m.lf >> 1) & ~kLast;
    escapes |= (close & (open >> 1)) != 0;
    if (((close | cr) & kLast) != 0) {  // the next byte is in the next window (never the tail)
      const char next = w + 64 < size ? base[w + 64] : '\n';
      if ((close & kLast) != 0) {
        bad |= next != ',' && next != '\n' && next != '\r' && next != '"';
        escapes |= next == '"';
      }
      if ((cr & kLast) != 0) bad |= next != '\n';
    }
    if (bad != 0) return false;
    prev_sep = sep >> 63;
    prev_close = close >> 63;

    // Record the separators: eight slots at a time, unconditionally, then keep the real ones.
    const auto at = static_cast<uint32_t>(w - begin);
    uint64_t s = sep;
    const auto n = static_cast<size_t>(Isa::Count(s));
    if (ends.size() < count + n + 8) ends.resize(std::max(ends.size() * 2, count + n + 64));
    uint32_t* out = ends.data() + count;
    for (size_t i = 0; i < n; i += 8) {
#pragma GCC unroll 8
      for (size_t j = 0; j < 8; ++j) {
        out[i + j] = at + static_cast<uint32_t>(std::countr_zero(s | kLast));
        s &= s - 1;
      }
    }
    count += n;
    if (lf != 0) {
      rows += static_cast<size_t>(Isa::Count(lf));
      const int last_lf = 63 - std::countl_zero(lf);
      const uint64_t after = ~((uint64_t{2} << last_lf) - 1);  // bits past the last LF
      complete = count - static_cast<size_t>(Isa::Count(sep & after));
      if (w + 64 - begin >= target_bytes) break;
    }
  }
  // The data ends inside quotes: an unterminated quoted field.
  if (reached_end && (in_quotes != 0 || complete != count)) return false;
  if (complete != rows * columns) return false;
  for (size_t r = 1; r <= rows; ++r) {
    const size_t pos = begin + ends[r * columns - 1];
    if (pos != size && base[pos] != '\n') return false;  // a row with other than `columns` fields
  }
  ends.resize(complete);
  block->rows = rows;
  block->escapes = escapes;
  block->end = std::min(size, begin + ends.back() + 1);
  return true;
}

bool SplitRowsBaseline(std::string_view data, size_t begin, size_t columns, size_t target_bytes,
                       CsvRowBlock* block) {
  return SplitRows<BaselineIsa>(data, begin, columns, target_bytes, block);
}

#if defined(CAIRN_CSV_AVX2)
__attribute__((target("avx2,popcnt,bmi"))) bool SplitRowsAvx2(std::string_view data, size_t begin,
                                                              size_t columns, size_t target_bytes,
                                                              CsvRowBlock* block) {
  return SplitRows<Avx2Isa>(data, begin, columns, target_bytes, block);
}
#endif

}  // namespace

bool SplitCsvRows(std::string_view data, size_t begin, size_t columns, size_t target_bytes,
                  CsvRowBlock* block) {
#if defined(CAIRN_CSV_AVX2)
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") &&
                           __builtin_cpu_supports("bmi");
  if (avx2) return SplitRowsAvx2(data, begin, columns, target_bytes, block);
#endif
  return SplitRowsBaseline(data, begin, columns, target_bytes, block);
}

std::string_view CsvRowBlock::Unescape(const char* p, size_t n, std::string* scratch) {
  scratch->clear();
  for (size_t k = 0; k < n; ++k) {
    scratch->push_back(p[k]);
    if (p[k] == '"') ++k;  // "" stands for one quote
  }
  return *scratch;
}

// ------------------------------------------------------------------------------------------
// Values and types
// ------------------------------------------------------------------------------------------

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kInteger:
      return "integer";
    case ColumnType::kFloat:
      return "float";
    case ColumnType::kBoolean:
      return "boolean";
    case ColumnType::kString:
      return "string";
  }
  return "unknown";
}

namespace {

// The value parsers, inlined into the column builders' loops; the public functions wrap them.

inline bool Missing(std::string_view f) {
  switch (f.size()) {
    case 0:
      return true;
    case 2:
      return f[0] == 'N' && f[1] == 'A';
    case 3:
      return f == "N/A" || f == "NaN";
    case 4:
      return f == "null" || f == "NULL";
    default:
      return false;
  }
}

inline bool ToInt64(std::string_view f, int64_t* out) {
  const char* p = f.data();
  const char* end = p + f.size();
  bool negative = false;
  if (p != end && (*p == '+' || *p == '-')) {
    negative = *p == '-';
    ++p;
  }
  const size_t digits = static_cast<size_t>(end - p);
  if (digits == 0) return false;
  if (digits <= 18) {  // cannot overflow: the common case, without from_chars' per-digit checks
    uint64_t value = 0;
    for (; p < end; ++p) {
      const unsigned d = static_cast<unsigned char>(*p) - unsigned{'0'};
      if (d > 9) return false;
      value = value * 10 + d;
    }
    const auto v = static_cast<int64_t>(value);
    *out = negative ? -v : v;
    return true;
  }
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(p, end, magnitude);
  if (ec != std::errc() || ptr != end) return false;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (magnitude > (negative ? kMax + 1 : kMax)) return false;
  *out = static_cast<int64_t>(negative ? 0 - magnitude : magnitude);  // INT64_MIN included
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

inline bool ToDouble(std::string_view f, double* out) {
  const char* p = f.data();
  const char* end = p + f.size();
  bool negative = false;
  if (p != end && (*p == '+' || *p == '-')) {
    negative = *p == '-';
    ++p;
  }
  if (p == end) return false;
  // from_chars takes no '+', and a '-' only as the first character: the sign is consumed.
  if (!((*p >= '0' && *p <= '9') || *p == '.')) {
    const std::string_view rest(p, static_cast<size_t>(end - p));
    if (!EqualsIgnoreCase(rest, "inf") && !EqualsIgnoreCase(rest, "infinity")) return false;
    *out = negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
    return true;
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(p, end, value, std::chars_format::general);
  if (ptr != end) return false;
  if (ec == std::errc::result_out_of_range) {
    // A well-formed number too large or too small for a double: infinity or zero, as strtod.
    const char* e = std::find_if(p, end, [](char c) { return c == 'e' || c == 'E'; });
    const bool tiny = e != end && e + 1 != end && e[1] == '-';
    value = tiny ? 0.0 : std::numeric_limits<double>::infinity();
  } else if (ec != std::errc()) {
    return false;
  }
  *out = negative ? -value : value;
  return true;
}

inline bool ToBool(std::string_view f, bool* out) {
  if (f.size() == 4 && EqualsIgnoreCase(f, "true")) {
    *out = true;
    return true;
  }
  if (f.size() == 5 && EqualsIgnoreCase(f, "false")) {
    *out = false;
    return true;
  }
  return false;
}

}  // namespace

bool IsMissing(std::string_view f) { return Missing(f); }

std::optional<int64_t> ParseInteger(std::string_view f) {
  int64_t v = 0;
  if (!ToInt64(f, &v)) return std::nullopt;
  return v;
}

std::optional<double> ParseFloat(std::string_view f) {
  double v = 0;
  if (!ToDouble(f, &v)) return std::nullopt;
  return v;
}

std::optional<bool> ParseBoolean(std::string_view f) {
  bool v = false;
  if (!ToBool(f, &v)) return std::nullopt;
  return v;
}

FieldKind ClassifyField(std::string_view f) {
  if (IsMissing(f)) return FieldKind::kMissing;
  if (ParseInteger(f)) return FieldKind::kInteger;
  if (ParseFloat(f)) return FieldKind::kFloat;
  if (ParseBoolean(f)) return FieldKind::kBoolean;
  return FieldKind::kString;
}

namespace {

constexpr uint8_t Bit(FieldKind kind) { return static_cast<uint8_t>(1u << static_cast<int>(kind)); }

// The one rule that turns the kinds of values seen in a column into its type.
ColumnType TypeOf(uint8_t kinds) {
  if (kinds & Bit(FieldKind::kString)) return ColumnType::kString;
  const bool numbers = kinds & (Bit(FieldKind::kInteger) | Bit(FieldKind::kFloat));
  if (kinds & Bit(FieldKind::kBoolean)) return numbers ? ColumnType::kString : ColumnType::kBoolean;
  if (kinds & Bit(FieldKind::kFloat)) return ColumnType::kFloat;
  if (kinds & Bit(FieldKind::kInteger)) return ColumnType::kInteger;
  return ColumnType::kFloat;  // nothing but missing values
}

}  // namespace

Status TypeInferrer::OnHeader(std::span<const std::string> names) {
  names_.assign(names.begin(), names.end());
  kinds_.assign(names.size(), 0);
  missing_.assign(names.size(), 0);
  rows_ = 0;
  return Status();
}

Status TypeInferrer::OnRow(std::span<const std::string_view> fields, int64_t line) {
  AddRow(fields);
  return Status();
}

void TypeInferrer::AddRow(std::span<const std::string_view> fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    const FieldKind kind = ClassifyField(fields[i]);
    if (kind == FieldKind::kMissing) {
      ++missing_[i];
    } else {
      kinds_[i] |= Bit(kind);
    }
  }
  ++rows_;
}

ColumnType TypeInferrer::type(size_t column) const { return TypeOf(kinds_[column]); }

Result<std::vector<ColumnSchema>> InferTypes(std::string_view data) {
  TypeInferrer inferrer;
  if (Status s = ParseCsv(data, inferrer); !s.ok()) return s;
  std::vector<ColumnSchema> schema;
  for (size_t i = 0; i < inferrer.names().size(); ++i) {
    schema.push_back({inferrer.names()[i], inferrer.type(i), inferrer.missing(i)});
  }
  return schema;
}

// ------------------------------------------------------------------------------------------
// Loading typed columns
// ------------------------------------------------------------------------------------------

namespace {

// Interns strings: value -> dense code in order of first appearance. Open addressing; each slot
// keeps the value's hash beside its code, so a probe compares strings only on a likely match.
// The strings themselves live in the column's dictionary.
class Interner {
 public:
  explicit Interner(std::vector<std::string>* values) : values_(values) { slots_.resize(16); }

  int32_t Intern(std::string_view value) {
    const uint64_t hash = Hash(value);
    const auto tag = static_cast<uint32_t>(hash >> 32);
    const size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>(hash) & mask;
    for (;; i = (i + 1) & mask) {
      const Slot slot = slots_[i];
      if (slot.code < 0) break;
      if (slot.tag == tag && Equal((*values_)[static_cast<size_t>(slot.code)], value)) {
        return slot.code;
      }
    }
    const auto code = static_cast<int32_t>(values_->size());
    values_->emplace_back(value);
    slots_[i] = {tag, code};
    if (values_->size() * 2 > slots_.size()) Grow();
    return code;
  }

 private:
  struct Slot {
    uint32_t tag = 0;
    int32_t code = -1;
  };

  static uint64_t Load8(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  static uint64_t Load4(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  static uint64_t Mix(uint64_t a, uint64_t b) {
    __extension__ using U128 = unsigned __int128;  // GCC and Clang on 64-bit targets
    const U128 m = static_cast<U128>(a) * b;
    return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
  }
  // Word-at-a-time (in the manner of wyhash): categorical values are short, and a byte loop
  // over them was a fifth of the load time.
  static uint64_t Hash(std::string_view s) {
    constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull;
    const char* p = s.data();
    size_t n = s.size();
    uint64_t h = k0 ^ n;
    uint64_t a = 0, b = 0;
    if (n > 16) {
      const char* const end = p + n;
      for (; end - p > 16; p += 16) h = Mix(Load8(p) ^ k1, Load8(p + 8) ^ h);
      a = Load8(end - 16);  // the last 16 bytes, overlapping what the loop took
      b = Load8(end - 8);
    } else if (n >= 8) {
      a = Load8(p);
      b = Load8(p + n - 8);  // overlapping: every byte, no reads past the end
    } else if (n >= 4) {
      a = Load4(p);
      b = Load4(p + n - 4);
    } else if (n > 0) {
      a = (uint64_t{static_cast<unsigned char>(p[0])} << 16) |
          (uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
          static_cast<unsigned char>(p[n - 1]);
    }
    return Mix(a ^ k1, b ^ h);
  }
  static bool Equal(const std::string& stored, std::string_view v) {
    const size_t n = v.size();
    if (stored.size() != n) return false;
    const char* a = stored.data();
    const char* b = v.data();
    if (n >= 8 && n <= 16) {
      return Load8(a) == Load8(b) && Load8(a + n - 8) == Load8(b + n - 8);
    }
    if (n >= 4 && n < 8) return Load4(a) == Load4(b) && Load4(a + n - 4) == Load4(b + n - 4);
    return std::memcmp(a, b, n) == 0;
  }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    const size_t mask = slots_.size() - 1;
    for (const Slot slot : old) {
      if (slot.code < 0) continue;
      size_t i = static_cast<size_t>(Hash((*values_)[static_cast<size_t>(slot.code)])) & mask;
      while (slots_[i].code >= 0) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::vector<std::string>* values_;
  std::vector<Slot> slots_;
};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Builds one column in a single pass, speculating on its type from the values seen so far:
// integer → float and the numbers of a boolean column are widened in place; a column that
// becomes a string after other values gives up and is re-read in a second pass (rare: it takes
// a column mixing numbers or booleans with text).
class ColumnBuilder {
 public:
  enum class Mode { kUnknown, kInteger, kFloat, kBoolean, kString, kRereadAsString };

  // `expected_rows`: an upper bound on the rows to come, reserved once the type is known.
  ColumnBuilder(CsvColumn* column, size_t expected_rows, bool exact_integers)
      : column_(column),
        interner_(&column->dictionary),
        expected_rows_(expected_rows),
        exact_integers_(exact_integers) {}

  void Add(std::string_view f) {
    if (Missing(f)) return AddMissing();
    switch (mode_) {
      case Mode::kInteger: {
        int64_t v;
        if (ToInt64(f, &v)) {
          if (exact_integers_) column_->integers.push_back(v);
          column_->numbers.push_back(static_cast<double>(v));
          return;
        }
        double d;
        if (ToDouble(f, &d)) {
          kinds_ |= Bit(FieldKind::kFloat);
          mode_ = Mode::kFloat;
          column_->integers = {};
          column_->numbers.push_back(d);
          return;
        }
        return GiveUp();
      }
      case Mode::kFloat: {
        double d;
        if (ToDouble(f, &d)) {
          column_->numbers.push_back(d);
          return;
        }
        return GiveUp();
      }
      case Mode::kBoolean: {
        bool b;
        if (ToBool(f, &b)) {
          column_->numbers.push_back(b ? 1.0 : 0.0);
          return;
        }
        return GiveUp();
      }
      case Mode::kString:
        column_->codes.push_back(interner_.Intern(f));
        return;
      case Mode::kRereadAsString:
        return;
      case Mode::kUnknown:
        return First(f);
    }
  }

  // Second pass of a column that gave up.
  void AddString(std::string_view f) {
    column_->codes.push_back(Missing(f) ? -1 : interner_.Intern(f));
  }

  bool needs_reread() const { return mode_ == Mode::kRereadAsString; }
  void StartReread(int64_t rows) {
    mode_ = Mode::kString;
    column_->numbers = {};
    column_->integers = {};
    column_->codes.clear();
    column_->codes.reserve(static_cast<size_t>(rows));
    column_->dictionary.clear();
    interner_ = Interner(&column_->dictionary);
  }

  void Finish() {
    if (mode_ == Mode::kUnknown) {  // nothing but missing values: a float column of NaN
      column_->numbers.assign(static_cast<size_t>(leading_missing_), kNaN);
    }
    column_->type = TypeOf(kinds_);
  }

 private:
  void AddMissing() {
    ++column_->missing;
    switch (mode_) {
      case Mode::kUnknown:
        ++leading_missing_;
        return;
      case Mode::kInteger:
        if (exact_integers_) column_->integers.push_back(0);
        column_->numbers.push_back(kNaN);
        return;
      case Mode::kFloat:
      case Mode::kBoolean:
        column_->numbers.push_back(kNaN);
        return;
      case Mode::kString:
        column_->codes.push_back(-1);
        return;
      case Mode::kRereadAsString:
        return;
    }
  }

  void First(std::string_view f) {
    const size_t n = static_cast<size_t>(leading_missing_);
    int64_t v;
    double d;
    bool b;
    if (ToInt64(f, &v)) {
      kinds_ |= Bit(FieldKind::kInteger);
      mode_ = Mode::kInteger;
      if (exact_integers_) {
        column_->integers.reserve(expected_rows_);
        column_->integers.assign(n, 0);
        column_->integers.push_back(v);
      }
      StartNumbers(n, static_cast<double>(v));
    } else if (ToDouble(f, &d)) {
      kinds_ |= Bit(FieldKind::kFloat);
      mode_ = Mode::kFloat;
      StartNumbers(n, d);
    } else if (ToBool(f, &b)) {
      kinds_ |= Bit(FieldKind::kBoolean);
      mode_ = Mode::kBoolean;
      StartNumbers(n, b ? 1.0 : 0.0);
    } else {
      kinds_ |= Bit(FieldKind::kString);
      mode_ = Mode::kString;
      column_->codes.reserve(expected_rows_);
      column_->codes.assign(n, -1);
      column_->codes.push_back(interner_.Intern(f));
    }
  }

  void StartNumbers(size_t missing, double first) {
    column_->numbers.reserve(expected_rows_);
    column_->numbers.assign(missing, kNaN);
    column_->numbers.push_back(first);
  }

  void GiveUp() {
    kinds_ |= Bit(FieldKind::kString);
    mode_ = Mode::kRereadAsString;
    column_->numbers = {};
    column_->integers = {};
  }

  CsvColumn* column_;
  Interner interner_;
  size_t expected_rows_;
  bool exact_integers_;
  Mode mode_ = Mode::kUnknown;
  uint8_t kinds_ = 0;
  int64_t leading_missing_ = 0;
};

class TableLoader : public CsvVisitor {
 public:
  TableLoader(size_t expected_rows, const LoadOptions& options)
      : expected_rows_(expected_rows), options_(options) {}
  Status OnHeader(std::span<const std::string> names) override {
    table_.columns.resize(names.size());
    builders_.clear();
    builders_.reserve(names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      table_.columns[i].name = names[i];
      builders_.emplace_back(&table_.columns[i], expected_rows_, options_.exact_integers);
    }
    return Status();
  }
  Status OnRow(std::span<const std::string_view> fields, int64_t line) override {
    for (size_t i = 0; i < fields.size(); ++i) builders_[i].Add(fields[i]);
    ++table_.rows;
    return Status();
  }

  // Columns to read again as strings.
  std::vector<size_t> Rereads() {
    std::vector<size_t> columns;
    for (size_t i = 0; i < builders_.size(); ++i) {
      if (builders_[i].needs_reread()) {
        builders_[i].StartReread(table_.rows);
        columns.push_back(i);
      }
    }
    return columns;
  }
  ColumnBuilder& builder(size_t i) { return builders_[i]; }

  CsvTable Finish() {
    for (ColumnBuilder& b : builders_) b.Finish();
    builders_.clear();
    return std::move(table_);
  }

 private:
  size_t expected_rows_;
  LoadOptions options_;
  CsvTable table_;
  std::vector<ColumnBuilder> builders_;
};

class RereadVisitor : public CsvVisitor {
 public:
  RereadVisitor(TableLoader& loader, std::vector<size_t> columns)
      : loader_(loader), columns_(std::move(columns)) {}
  Status OnRow(std::span<const std::string_view> fields, int64_t line) override {
    for (const size_t c : columns_) loader_.builder(c).AddString(fields[c]);
    return Status();
  }

 private:
  TableLoader& loader_;
  std::vector<size_t> columns_;
};

}  // namespace

const CsvColumn* CsvTable::Find(std::string_view name) const {
  for (const CsvColumn& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Result<CsvTable> LoadCsv(std::string_view data, const LoadOptions& options) {
  // Rows are at most lines: counting them (at memory speed) lets every column be allocated
  // once, instead of growing and copying as it fills.
  size_t lines = 1;
  for (const char *p = data.data(), *end = p + data.size();;) {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (nl == nullptr) break;
    ++lines;
    p = static_cast<const char*>(nl) + 1;
  }
  TableLoader loader(lines, options);
  if (Status s = ParseCsv(data, loader); !s.ok()) return s;
  if (std::vector<size_t> rereads = loader.Rereads(); !rereads.empty()) {
    RereadVisitor reread(loader, std::move(rereads));
    if (Status s = ParseCsv(data, reread); !s.ok()) return s;
  }
  return loader.Finish();
}

Result<CsvTable> LoadCsvFile(const std::string& path, const LoadOptions& options) {
  Result<std::unique_ptr<MappedFile>> file = MappedFile::Open(path);
  if (!file.ok()) return file.status();
  Result<CsvTable> table = LoadCsv((*file)->bytes(), options);
  if (!table.ok()) return PrefixPath(path, table.status());
  return table;
}

}  // namespace cairn::data
